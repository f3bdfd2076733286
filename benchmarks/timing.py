"""The timed training pass that the task benchmarks run on both backends."""

from __future__ import annotations

import time

import torch


def timed_training_pass(model, optimizer, step, clip: float, batches: list) -> tuple[float, float]:
    """Wall and CPU seconds of one pass of training steps over ``batches``.

    Each step is what `seqlab.train.Trainer` does: zero the gradients, ``step(model, batch)``
    for the loss, backward, clip the global gradient norm at ``clip``, update. The last loss is
    read at the end so that no queued work is left out of the timing.
    """
    model.train()
    wall, cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        optimizer.zero_grad(set_to_none=True)
        loss, _ = step(model, batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
    loss.item()
    return time.perf_counter() - wall, time.process_time() - cpu
