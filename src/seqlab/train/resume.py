"""Where a run stands (`Run`), and how ``fit`` opens ``out``: a new run or its checkpoint.

A checkpoint is resumed only if it was written for this model (parameter names, shapes and
dtypes recorded in checkpoint.json); one that stopped inside an epoch also needs the same
number of batches and processes, since its position counts this rank's batches.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch

from seqlab.train import checkpoint, distributed, rng
from seqlab.train.checks import length, unwritable
from seqlab.train.errors import CheckpointMismatchError, OutputDirError
from seqlab.train.history import EpochStats, History

#: Settings that may change when a run resumes without changing what it computes.
UNTRACKED_SETTINGS = ("epochs", "quiet", "curves", "checkpoint_every", "restore_best")


@dataclass
class Run:
    """Where a run stands; saved in every checkpoint, so that a resumed run continues exactly."""

    history: History
    epoch: int = 0  # epochs completed
    position: int = 0  # batches done in the current epoch
    global_step: int = 0
    train_batches: int | None = None
    stats: EpochStats = field(default_factory=EpochStats)
    epoch_start_rng: torch.Tensor | None = None  # torch's generator when the epoch began
    skips_in_a_row: int = 0
    recent_norms: list[float] = field(default_factory=list)

    def where(self) -> str:
        """The point the run has reached, in words (for messages)."""
        if self.position == 0:
            return f"end of epoch {self.epoch}, step {self.global_step}"
        return f"epoch {self.epoch + 1}, batch {self.position}, step {self.global_step}"


def open_checkpoint(trainer, out: Path, train_loader):
    """Check that ``out`` is writable; return its checkpoint if it holds one of this model."""
    trainer.out_dir, trainer._saved_at = out, None
    problem = unwritable(out) if trainer.world.is_main else None
    if not distributed.all_agree(problem is None, trainer.world):
        raise OutputDirError(problem or f"rank 0 cannot write to {out}")
    if trainer.world.is_main:
        checkpoint.recover(out / "last")
        checkpoint.recover(out / "best")
    distributed.barrier(trainer.world)
    if not checkpoint.exists(out / "last"):
        return None
    model_state, meta = checkpoint.load(out / "last")
    problems = checkpoint.signature_differences(meta["model"], trainer.model)
    if problems:
        raise CheckpointMismatchError(
            f"{out}/last holds a checkpoint of a different model ({'; '.join(problems)}): "
            f"give fit() another out directory, or delete {out} to start over"
        )
    progress, batches = meta["progress"], length(train_loader)
    if progress["position"] and (
        meta["world_size"] != trainer.world.size or progress["train_batches"] != batches
    ):
        raise CheckpointMismatchError(
            f"{out}/last stopped inside an epoch of {progress['train_batches']} batches on "
            f"{meta['world_size']} process(es); this run has {batches} batches on "
            f"{trainer.world.size}: resume with the same data, batch size and process count"
        )
    return model_state, meta


def resume(trainer, saved, out: Path) -> Run:
    """Load the model, optimizer, scheduler, scaler, step and RNG states; return the `Run`."""
    model_state, meta = saved
    trainer.model.load_state_dict(model_state)
    training = meta["training"]
    try:
        trainer.optimizer.load_state_dict(training["optimizer"])
        if (trainer.scheduler is None) != (training["scheduler"] is None):
            raise ValueError("a scheduler is given to only one of the two runs")
        if trainer.scheduler is not None:
            trainer.scheduler.load_state_dict(training["scheduler"])
        if trainer.scaler.is_enabled() and training["scaler"]:
            trainer.scaler.load_state_dict(training["scaler"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointMismatchError(
            f"{out}/last was written with another optimizer or scheduler ({exc}): use the "
            f"same ones, or another out directory"
        ) from exc
    ranks = training["ranks"]
    mine = ranks[trainer.world.rank] if trainer.world.rank < len(ranks) else None
    if mine is None:  # more processes than the checkpoint had (only allowed at an epoch's end)
        rng.seed_all(trainer.config.seed + trainer.world.rank)
    else:
        rng.restore(mine["rng"])
        if hasattr(trainer.step, "load_state_dict") and mine["step"] is not None:
            trainer.step.load_state_dict(mine["step"])
    changed = sorted(
        k
        for k, v in meta["config"].items()
        if k not in UNTRACKED_SETTINGS and trainer.config.to_dict().get(k) != v
    )
    if changed:
        warnings.warn(
            f"resuming {out} with other settings ({', '.join(changed)}): the run continues "
            "with the new ones and is no longer the continuation of the old",
            stacklevel=3,
        )
    progress = meta["progress"]
    run = Run(History.from_dict(meta["history"]), stats=EpochStats(**progress.pop("stats")))
    for name, value in progress.items():
        setattr(run, name, value)
    run.epoch_start_rng = mine["epoch_start"] if mine else None
    trainer._saved_at = run.where()
    return run


def new_run(trainer) -> Run:
    """A run from scratch: the generators seeded with ``config.seed`` (plus the rank)."""
    rng.seed_all(trainer.config.seed + trainer.world.rank)
    return Run(History(trainer.config.metric, trainer.config.metric_mode))
