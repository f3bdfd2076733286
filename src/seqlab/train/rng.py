"""The random generators a training step may draw from: seed them, capture and restore them.

Dropout draws from torch's generator, data augmentation often from numpy's or ``random``'s;
exact resume restores all of them to where the interrupted run was.
"""

from __future__ import annotations

import random

import numpy as np
import torch


def seed_all(seed: int) -> None:
    """Seed ``random``, numpy's global generator and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def capture() -> dict:
    """The states of ``random``, numpy, torch and (if initialised) CUDA, as plain data + tensors.

    ``random``'s state is a tuple of ints; numpy's key is kept as a list of ints, so everything
    but torch's byte tensors serialises to JSON.
    """
    numpy_state = np.random.get_state(legacy=False)
    state = {
        "python": random.getstate(),
        "numpy": {**numpy_state, "state": {**numpy_state["state"]}},
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
    }
    state["numpy"]["state"]["key"] = numpy_state["state"]["key"].tolist()
    return state


def restore(state: dict) -> None:
    """Set every generator to a state returned by `capture` (or read back from a checkpoint)."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    numpy_state = {**state["numpy"], "state": {**state["numpy"]["state"]}}
    numpy_state["state"]["key"] = np.asarray(numpy_state["state"]["key"], dtype=np.uint32)
    np.random.set_state(numpy_state)
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
