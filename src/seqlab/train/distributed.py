"""torchrun / DistributedDataParallel: process group, device, model wrapping and reductions.

A script runs unchanged with ``python train.py`` and with ``torchrun --nproc_per_node=N
train.py``: torchrun sets ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``, and `setup` then joins
the process group (NCCL on CUDA, gloo on the CPU). With one process every function here is a
no-op, so the training loop has no separate single-process path.
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class World:
    """Where this process runs: its rank among ``size`` processes and its device."""

    size: int
    rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints, logs and the progress bar."""
        return self.rank == 0


def setup(device: str = "auto") -> World:
    """Join torchrun's process group if launched by torchrun; pick this process's device.

    ``device="auto"``: CUDA device ``LOCAL_RANK`` when CUDA is available, else the CPU.
    """
    size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device == "auto":
        device = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
    elif device == "cuda" and size > 1:
        device = f"cuda:{local_rank}"
    dev = torch.device(device)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
        atexit.register(_destroy)
    if dist.is_initialized():
        return World(dist.get_world_size(), dist.get_rank(), dev)
    return World(1, 0, dev)


def _destroy() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def wrap(model: nn.Module, world: World) -> nn.Module:
    """The model to train: ``DistributedDataParallel(model)`` with several processes, else itself.

    DDP averages gradients over ranks during ``backward`` and broadcasts rank 0's parameters
    when it wraps, so every rank starts from the same weights.
    """
    if world.size == 1:
        return model
    device_ids = [world.device] if world.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def all_sum(values: list[float], world: World) -> list[float]:
    """Element-wise sum of ``values`` over all ranks (one collective call)."""
    if world.size == 1:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=world.device)
    dist.all_reduce(t)
    return t.tolist()


def all_agree(ok: bool, world: World) -> bool:
    """True only if ``ok`` on every rank, so that all ranks raise (and none waits forever)."""
    if world.size == 1:
        return ok
    t = torch.tensor([1.0 if ok else 0.0], device=world.device)
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return bool(t.item())


def gather(obj, world: World) -> list:
    """``obj`` of every rank, in rank order (for the RNG states a checkpoint keeps per rank)."""
    if world.size == 1:
        return [obj]
    objects = [None] * world.size
    dist.all_gather_object(objects, obj)
    return objects


def barrier(world: World) -> None:
    """Wait for all ranks (e.g. until rank 0 has written a file the others read)."""
    if world.size > 1:
        dist.barrier()
