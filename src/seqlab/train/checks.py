"""The checks a run makes before any work, so that bad input fails in seconds, not hours.

Arguments that cannot work together, empty loaders, an unwritable ``out`` and batches that do
not fit the model (the first batch of each loader goes through the model without an update) all
raise here, before anything in ``out`` is written. Under torchrun a failure on one rank raises
on every rank (`agree_or_raise`), so no rank waits forever for the others.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence
from torch.optim.lr_scheduler import ReduceLROnPlateau
from torch.utils.data import DistributedSampler

from seqlab.train import distributed
from seqlab.train.config import TrainConfigError
from seqlab.train.errors import (
    BatchMismatchError,
    EmptyLoaderError,
    TrainingError,
    describe_batch,
    describe_model_input,
)
from seqlab.train.steps import finish_metrics


def check_arguments(trainer, train_loader, valid_loader) -> None:
    cfg = trainer.config
    plateau = isinstance(trainer.scheduler, ReduceLROnPlateau)
    if valid_loader is None and (cfg.patience or plateau):
        raise TrainConfigError("early stopping and ReduceLROnPlateau need a valid_loader")
    if plateau and cfg.schedule_every != "epoch":
        raise TrainConfigError('ReduceLROnPlateau needs TrainConfig(schedule_every="epoch")')
    if plateau and trainer.scheduler.mode != cfg.metric_mode:
        raise TrainConfigError(
            f"ReduceLROnPlateau(mode={trainer.scheduler.mode!r}) but {cfg.metric!r} improves "
            f"towards {cfg.metric_mode}: pass mode={cfg.metric_mode!r}"
        )
    # every rank sees every rank's loader lengths, so all of them raise the same errors
    lengths = distributed.gather(
        (length(train_loader), None if valid_loader is None else length(valid_loader)),
        trainer.world,
    )
    train_lengths, valid_lengths = zip(*lengths, strict=True)
    empty = "the {} loader has no batches: its dataset is empty, or drop_last drops the only, "
    if 0 in train_lengths:
        raise EmptyLoaderError(empty.format("training") + "incomplete batch")
    if valid_loader is not None and all(n == 0 for n in valid_lengths):  # one rank's may be
        raise EmptyLoaderError(empty.format("validation") + "incomplete batch")
    if trainer.world.size > 1:
        if not is_sharded(train_loader, trainer.world):
            raise TrainingError(
                "under torchrun every rank needs its own shard of the training data: use "
                "seqlab.train.ResumableBatchSampler (or a DistributedSampler) in the loader"
            )
        if len(set(train_lengths)) > 1:
            raise TrainingError(
                f"the ranks' training loaders have different numbers of batches "
                f"({list(train_lengths)}); DDP needs the same number of steps on every rank"
            )


def preflight(trainer, train_loader, valid_loader) -> list[str]:
    """Run the first batch of each loader through the model, without updating it, so that
    empty loaders, batches that do not fit and unknown metrics fail before any work."""
    trainer.model.eval()
    device = trainer.world.device
    with torch.no_grad(), trainer._autocast():
        batch = first_batch(train_loader, "training")
        try:
            loss, items = trainer.step(trainer.model, to_device(batch, device))
        except Exception as exc:
            raise BatchMismatchError(mismatch("training", batch, trainer.model, exc)) from exc
        if not (isinstance(loss, torch.Tensor) and loss.dim() == 0):
            raise BatchMismatchError(
                f"step must return (mean loss as a 0-d tensor, n_items); got {type(loss)}"
            )
        if not float(items) > 0:
            raise BatchMismatchError(f"the first training batch counts {items} items")
        if valid_loader is None or length(valid_loader) == 0:  # (a rank may have no batch)
            return []
        batch = first_batch(valid_loader, "validation")
        try:
            result = trainer.evaluate(trainer.model, to_device(batch, device))
        except Exception as exc:
            raise BatchMismatchError(mismatch("validation", batch, trainer.model, exc)) from exc
    available = finish_metrics({name: [1.0, 1.0] for name in result})
    if trainer.config.metric not in available:
        raise TrainConfigError(
            f"metric {trainer.config.metric!r} is not a validation metric (there are "
            f"{', '.join(available)}): set TrainConfig.metric to one of them, or give "
            "Trainer an evaluate= function that returns it"
        )
    return sorted(result)


def unwritable(out: Path) -> str | None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return f"cannot write to {out} ({exc.strerror or exc}): choose a writable out directory"
    return None


def agree_or_raise(world: distributed.World, check):
    """Run ``check`` on every rank; if it fails anywhere, raise on every rank."""
    try:
        result, error = check(), None
    except (TrainingError, TrainConfigError) as exc:
        result, error = None, exc
    if not distributed.all_agree(error is None, world):
        raise error or TrainingError(
            "another rank failed its checks before training (see its error)"
        )
    return result


def to_device(batch, device: torch.device):
    if isinstance(batch, torch.Tensor | PackedSequence):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # a namedtuple
        return type(batch)(*(to_device(b, device) for b in batch))
    if isinstance(batch, tuple | list):
        return type(batch)(to_device(b, device) for b in batch)
    return batch


def length(loader) -> int | None:
    try:
        return len(loader)
    except TypeError:  # an iterable dataset without a length
        return None


def is_sharded(loader, world: distributed.World) -> bool:
    batch_sampler = getattr(loader, "batch_sampler", None)
    if hasattr(batch_sampler, "world"):
        return batch_sampler.world()[0] > 1
    return isinstance(getattr(loader, "sampler", None), DistributedSampler) and world.size > 1


def first_batch(loader, name: str):
    for batch in loader:
        return batch
    raise EmptyLoaderError(f"the {name} loader yields no batches: its dataset is empty")


def mismatch(name: str, batch, model: nn.Module, exc: Exception) -> str:
    return (
        f"the first {name} batch does not fit the model: {type(exc).__name__}: {exc}\n"
        f"  batch: {describe_batch(batch)}\n"
        f"  model: {describe_model_input(model)}\n"
        "The default step calls loss_fn(model(*batch[:-1]), batch[-1]); give Trainer step= "
        "(and evaluate=) functions for other batch layouts."
    )
