"""`Trainer`: the training loop every seqlab task uses.

Read it top to bottom. `fit` opens ``out`` (a new run, or the checkpoint it holds), runs the
first batches through the model as a check, then repeats for each epoch: `_train_epoch` (one
`_optimizer_step` per batch: forward under autocast, backward, clip, check, update) and
`_validate`, then `_end_epoch` records the epoch, steps the scheduler, decides early stopping
and checkpoints. Everything else lives beside it: the checkpoint files (`checkpoint`), the
data order (`sampler`), torchrun (`distributed`), the records (`history`), the bar and log
(`progress`), the default step and metrics (`steps`).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn
from torch.optim.lr_scheduler import ReduceLROnPlateau

from seqlab.train import checkpoint, distributed, rng
from seqlab.train.checks import (
    agree_or_raise,
    check_arguments,
    is_sharded,
    length,
    preflight,
    to_device,
)
from seqlab.train.config import TrainConfig, TrainConfigError
from seqlab.train.errors import (
    OutputDirError,
    TrainingDivergedError,
    divergence_message,
)
from seqlab.train.history import Curves, EpochStats, History, StepLog
from seqlab.train.progress import EpochBar, RunLog, format_epoch
from seqlab.train.resume import Run, new_run, open_checkpoint, resume
from seqlab.train.steps import SupervisedStep, finish_metrics, loss_only

#: fp16 steps in a row that the GradScaler may skip (inf/NaN gradients) before the run counts
#: as diverged; single skips are how loss scaling finds its scale.
MAX_SKIPS_IN_A_ROW = 25


class Trainer:
    """Train ``model`` with ``optimizer`` on a loss, with checkpoints, exact resume and torchrun.

    Parameters
    ----------
    model : nn.Module
        Moved to the run's device; wrapped in DistributedDataParallel under torchrun.
    loss_fn : callable or None
        ``loss_fn(output, target)`` for the default step (batches ``(*inputs, target)``, see
        `SupervisedStep`); None when ``step`` is given.
    optimizer : torch.optim.Optimizer
    config : TrainConfig
    scheduler : torch.optim.lr_scheduler.LRScheduler or ReduceLROnPlateau, optional
        Stepped per ``config.schedule_every``; ReduceLROnPlateau gets the validation metric.
    step : callable, optional
        ``step(model, batch) -> (mean loss, n_items)`` (see `seqlab.train.steps`).
    evaluate : callable, optional
        ``evaluate(model, batch) -> {name: (total, count)}``; default: the default step's loss
        and accuracy, or the loss of a custom ``step``.

    Examples
    --------
    >>> import tempfile, torch
    >>> from torch import nn
    >>> from seqlab.train import ResumableBatchSampler, TrainConfig, Trainer
    >>> x, y = torch.randn(64, 3), torch.randint(0, 2, (64,))
    >>> data = torch.utils.data.TensorDataset(x, y)
    >>> loader = torch.utils.data.DataLoader(data, batch_sampler=ResumableBatchSampler(64, 16))
    >>> model = nn.Linear(3, 2)
    >>> trainer = Trainer(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), 0.1),
    ...                   TrainConfig(epochs=2, metric="accuracy", quiet=True))
    >>> history = trainer.fit(loader, loader, out=tempfile.mkdtemp())
    >>> [r["epoch"] for r in history.epochs], sorted(k for k in history.epochs[0] if "valid" in k)
    ([1, 2], ['valid_accuracy', 'valid_loss', 'valid_perplexity', 'valid_time_s'])
    """

    def __init__(
        self,
        model: nn.Module,
        loss_fn=None,
        optimizer: torch.optim.Optimizer | None = None,
        config: TrainConfig | None = None,
        *,
        scheduler=None,
        step=None,
        evaluate=None,
    ) -> None:
        if optimizer is None:
            raise TrainConfigError("Trainer needs an optimizer, e.g. torch.optim.AdamW(...)")
        if loss_fn is None and step is None:
            raise TrainConfigError("give Trainer a loss_fn (for the default step) or a step=")
        self.config = config = config or TrainConfig()
        self.world = distributed.setup(config.device)
        self.model = model.to(self.world.device)
        self.params = [p for p in model.parameters() if p.requires_grad]
        if not self.params:
            raise TrainConfigError("the model has no parameters with requires_grad=True")
        self.train_model = distributed.wrap(self.model, self.world)
        self.optimizer, self.scheduler = optimizer, scheduler
        default = SupervisedStep(loss_fn) if step is None else None
        self.step = step or default
        self.evaluate = evaluate or (default.evaluate if default else loss_only(step))
        self.precision = _precision(config.precision, self.world.device)
        self.scaler = torch.amp.GradScaler(self.world.device.type, enabled=self.precision == "fp16")

    def fit(self, train_loader, valid_loader=None, out: str | os.PathLike = "runs/train"):
        """Train for ``config.epochs`` epochs; resume if ``out`` holds a checkpoint.

        Returns the `History` (also in ``out/history.json``). With ``restore_best`` the model
        ends with the best epoch's weights.
        """
        cfg, world, out = self.config, self.world, Path(out)
        check_arguments(self, train_loader, valid_loader)
        saved = open_checkpoint(self, out, train_loader)
        names = agree_or_raise(world, lambda: preflight(self, train_loader, valid_loader))
        # the ranks sum the same metrics, also a rank whose validation shard is empty
        self._metric_names = max(distributed.gather(names, world), key=len)
        run = resume(self, saved, out) if saved else new_run(self)
        self.log = RunLog(out / "train.log" if world.is_main else None, echo=not cfg.quiet)
        self.steplog = StepLog(out / "steps.csv" if world.is_main else None)
        self.curves = Curves(out / "curves.png" if world.is_main and cfg.curves else None)
        if saved:
            self.steplog.trim(run.global_step)
            self.log.line(f"resumed {out}/last: epoch {run.epoch + 1}, batch {run.position}")
        else:
            self.log.line(
                f"started: {world.size} process(es) on {world.device}, {self.precision}, "
                f"{length(train_loader)} steps per epoch, config {cfg.to_dict()}"
            )
        while run.epoch < cfg.epochs and not run.history.stopped_early:
            bar = self._train_epoch(run, train_loader, out)
            metrics, valid_time = self._validate(valid_loader)
            self._end_epoch(run, metrics, valid_time, bar, out)
        self._finish(run, out)
        return run.history

    # --- one epoch ---

    def _train_epoch(self, run: Run, loader, out: Path) -> EpochBar:
        cfg = self.config
        self.train_model.train()
        batches = self._batches(run, loader)
        run.train_batches = length(loader)
        bar = EpochBar(
            run.epoch + 1,
            cfg.epochs,
            run.train_batches,
            run.position,
            cfg.item_name,
            _metric_text(run.history, cfg.metric),
            enabled=self.world.is_main and not cfg.quiet,
        )
        started = time.perf_counter() - run.stats.train_time
        for batch in batches:
            lr = self.optimizer.param_groups[0]["lr"]
            loss, items, norm = self._optimizer_step(to_device(batch, self.world.device), run)
            run.position += 1
            run.global_step += 1
            run.stats.add(loss, items, norm, lr, cfg.clip_norm)
            run.stats.train_time = time.perf_counter() - started
            self.steplog.add(run.epoch + 1, run.global_step, loss, norm, lr)
            bar.update(run.stats.loss_sum / run.stats.items, run.stats.items / run.stats.train_time)
            if (
                cfg.checkpoint_every
                and run.global_step % cfg.checkpoint_every == 0
                and run.position != run.train_batches  # the epoch's end checkpoints anyway
            ):
                self._save(run, out)
                started = time.perf_counter() - run.stats.train_time
        return bar

    def _batches(self, run: Run, loader):
        """The epoch's batches from ``run.position`` on, in the order of an uninterrupted run.

        Creating a DataLoader iterator draws seeds from torch's generator (for workers and
        shuffling samplers), so a resumed epoch creates it from the generator state its epoch
        began with, then returns to the checkpoint's state. `ResumableBatchSampler` starts at
        the position; other samplers are fast-forwarded by drawing the batches already done.
        """
        for sampler in (getattr(loader, "batch_sampler", None), getattr(loader, "sampler", None)):
            if hasattr(sampler, "set_epoch"):
                sampler.set_epoch(run.epoch)
        if run.position == 0:
            run.epoch_start_rng = torch.get_rng_state()
            _reset(self.step)
            return iter(loader)
        checkpoint_rng = torch.get_rng_state()
        torch.set_rng_state(run.epoch_start_rng)
        batch_sampler = getattr(loader, "batch_sampler", None)
        if hasattr(batch_sampler, "set_position"):
            batch_sampler.set_position(run.position)
            batches = iter(loader)
        else:
            batches = iter(loader)
            for _ in range(run.position):
                next(batches)
        torch.set_rng_state(checkpoint_rng)
        return batches

    def _optimizer_step(self, batch, run: Run) -> tuple[float, float, float]:
        """One update; returns the batch's mean loss, its items and the pre-clip gradient norm."""
        cfg, world = self.config, self.world
        self.optimizer.zero_grad(set_to_none=True)
        with self._autocast():
            loss, items = self.step(self.train_model, batch)
        if world.size > 1:
            # DDP averages the ranks' gradients; weighting each rank's mean loss by its share of
            # the items makes that average the gradient of the mean over the global batch
            local = float(items)
            loss_sum, items = distributed.all_sum([float(loss.detach()) * local, local], world)
            mean_loss = loss_sum / items
            loss = loss * (local * world.size / items)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        norm = torch.nn.utils.get_total_norm([p.grad for p in self.params if p.grad is not None])
        if cfg.clip_norm is not None:
            torch.nn.utils.clip_grads_with_norm_(self.params, cfg.clip_norm, norm)
        if world.size > 1:
            norm = float(norm)
        else:  # one synchronisation for the three numbers
            dtype = torch.promote_types(loss.dtype, norm.dtype)
            items = torch.as_tensor(items, device=norm.device).to(dtype)
            numbers = torch.stack([loss.detach().to(dtype), norm.to(dtype), items])
            mean_loss, norm, items = numbers.tolist()
        self._check_finite(run, mean_loss, norm)
        self.scaler.step(self.optimizer)  # skipped by the scaler if fp16 gradients overflowed
        self.scaler.update()
        if self.scheduler is not None and cfg.schedule_every == "step":
            self.scheduler.step()
        return mean_loss, float(items), norm

    def _check_finite(self, run: Run, loss: float, norm: float) -> None:
        """Raise `TrainingDivergedError` on a NaN/inf loss or gradient, before the update."""
        run.recent_norms = [*run.recent_norms[-4:], norm]
        run.skips_in_a_row = 0 if math.isfinite(norm) else run.skips_in_a_row + 1
        if math.isfinite(loss) and (
            math.isfinite(norm)
            or (self.scaler.is_enabled() and run.skips_in_a_row < MAX_SKIPS_IN_A_ROW)
        ):
            return
        what = f"the loss is {loss}" if not math.isfinite(loss) else f"the gradient norm is {norm}"
        last = self.out_dir / "last"
        last_good = f"{last} ({self._saved_at})" if self._saved_at else None
        where = f"epoch {run.epoch + 1}, step {run.global_step + 1} (batch {run.position + 1})"
        message = divergence_message(
            what,
            where,
            last_good,
            run.recent_norms,
            self.optimizer.param_groups[0]["lr"],
            self.config.clip_norm,
            self.precision,
        )
        self.log.line(f"diverged at {where}: {what}")
        raise TrainingDivergedError(message)

    def _validate(self, loader) -> tuple[dict[str, float], float]:
        """Validation metrics (summed over ranks when the loader is sharded) and seconds taken."""
        if loader is None:
            return {}, 0.0
        started = time.perf_counter()
        self.model.eval()
        _reset(self.step)
        totals = {name: [0.0, 0.0] for name in self._metric_names}
        with torch.no_grad(), self._autocast():
            for batch in loader:
                result = self.evaluate(self.model, to_device(batch, self.world.device))
                for name, (total, count) in result.items():
                    totals[name][0] += float(total)
                    totals[name][1] += float(count)
        if is_sharded(loader, self.world):
            flat = distributed.all_sum(
                [v for name in self._metric_names for v in totals[name]], self.world
            )
            totals = {name: flat[2 * i : 2 * i + 2] for i, name in enumerate(self._metric_names)}
        return finish_metrics(totals), time.perf_counter() - started

    def _end_epoch(self, run: Run, metrics: dict, valid_time: float, bar: EpochBar, out: Path):
        """Record the epoch, step the scheduler, decide early stopping, checkpoint."""
        cfg = self.config
        stats = run.stats.record()
        record = {"epoch": run.epoch + 1, "train_loss": stats.pop("train_loss")}
        record |= {f"valid_{name}": value for name, value in metrics.items()}
        record |= {**stats, "valid_time_s": valid_time}
        value = metrics.get(cfg.metric)
        if value is not None and math.isnan(value):
            self.log.line(f"validation {cfg.metric} of epoch {run.epoch + 1} is NaN")
            raise TrainingDivergedError(
                f"the validation {cfg.metric} of epoch {run.epoch + 1} is NaN (training loss "
                f"{record['train_loss']:.4g}): the model outputs NaN/inf on validation data; "
                f"check those inputs, or lower the learning rate. {out}/last is left intact."
            )
        improved = run.history.add(record, cfg.min_delta, cfg.patience)
        if self.scheduler is not None and cfg.schedule_every == "epoch":
            if isinstance(self.scheduler, ReduceLROnPlateau):
                self.scheduler.step(value)
            else:
                self.scheduler.step()
        run.epoch, run.position, run.stats = run.epoch + 1, 0, EpochStats()
        if improved and self.world.is_main:  # best before last: see checkpoint.py
            meta = {"epoch": record["epoch"], "metric": cfg.metric, "value": value}
            checkpoint.save(out / "best", self.model, meta)
        self._save(run, out)
        bar.close(
            record["train_loss"], record["items_per_s"], _metric_text(run.history, cfg.metric)
        )
        if self.world.is_main:
            run.history.write(out)
            self.curves.draw(run.history)
        self.log.line(format_epoch(record, cfg.epochs, cfg.item_name))
        if run.history.stopped_early:
            self.log.line(
                f"stopped early: valid_{cfg.metric} did not improve for {cfg.patience} epochs; "
                f"best epoch {run.history.best_epoch} ({run.history.best_value:.6g})",
                echo=True,
            )

    # --- checkpoints ---

    def _save(self, run: Run, out: Path) -> None:
        """Checkpoint ``out/last``: rank 0 writes; every rank contributes its RNG states."""
        mine = {"rng": rng.capture(), "epoch_start": run.epoch_start_rng, "step": _state(self.step)}
        ranks = distributed.gather(mine, self.world)
        error = None
        if self.world.is_main:
            training = {
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
                "scaler": self.scaler.state_dict(),
                "ranks": ranks,
            }
            progress = {
                k: v for k, v in asdict(run).items() if k not in ("history", "epoch_start_rng")
            }
            meta = {
                "config": self.config.to_dict(),
                "world_size": self.world.size,
                "progress": progress,
                "history": run.history.to_dict(),
            }
            try:
                self.steplog.flush()  # before the checkpoint, so the file never runs behind it
                checkpoint.save(out / "last", self.model, meta, training)
            except OSError as exc:
                error = exc
        if not distributed.all_agree(error is None, self.world):
            raise OutputDirError(f"could not write the checkpoint {out / 'last'}: {error}")
        self._saved_at = run.where()

    def _finish(self, run: Run, out: Path) -> None:
        """Load the best epoch's weights (``restore_best``) and write the final history."""
        history = run.history
        distributed.barrier(self.world)
        if self.config.restore_best and history.best_epoch is not None:
            state, _ = checkpoint.load(out / "best")
            self.model.load_state_dict(state)
        if self.world.is_main:
            history.write(out)
            self.curves.draw(history, force=True)
        best = f"; best epoch {history.best_epoch}" if history.best_epoch else ""
        self.log.line(f"finished after {run.epoch} epochs{best}")

    def _autocast(self):
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision)
        return torch.autocast(self.world.device.type, dtype=dtype, enabled=dtype is not None)


def _precision(name: str, device: torch.device) -> str:
    if name == "auto":
        if device.type != "cuda":
            return "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if name == "fp16" and device.type != "cuda":
        raise TrainConfigError('precision="fp16" needs a CUDA device; on the CPU use "bf16"')
    return name


def _metric_text(history: History, metric: str) -> str:
    if not history.epochs or f"valid_{metric}" not in history.epochs[-1]:
        return ""
    return f"valid {metric} {history.epochs[-1][f'valid_{metric}']:.4g}"


def _reset(step) -> None:
    if hasattr(step, "reset"):
        step.reset()


def _state(step):
    return step.state_dict() if hasattr(step, "state_dict") else None
