"""The errors a training run raises, and the descriptions of batches and models they print.

Each message names what went wrong and what to do about it; all are raised before anything in
``out`` is overwritten.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping

import torch
from torch import nn


class TrainingError(RuntimeError):
    """Base class of the errors of `seqlab.train`."""


class TrainingDivergedError(TrainingError):
    """The loss or the gradient norm became NaN or infinite; the last good checkpoint is intact."""


class EmptyLoaderError(TrainingError):
    """A loader yields no batches."""


class BatchMismatchError(TrainingError):
    """The first batch does not fit the model (or the step / evaluate function)."""


class CheckpointMismatchError(TrainingError):
    """``out`` holds a checkpoint of another model or of other data."""


class OutputDirError(TrainingError):
    """``out`` cannot be created or written."""


def describe_batch(batch) -> str:
    """A short, recursive summary of a batch: types, shapes and dtypes, never the values.

    Examples
    --------
    >>> import torch
    >>> describe_batch((torch.zeros(4, 7, dtype=torch.long), torch.zeros(4)))
    '(Tensor(4, 7) int64, Tensor(4,) float32)'
    """
    if isinstance(batch, torch.Tensor):
        shape = ", ".join(map(str, batch.shape)) + ("," if batch.dim() == 1 else "")
        return f"Tensor({shape}) {str(batch.dtype).removeprefix('torch.')}"
    if isinstance(batch, torch.nn.utils.rnn.PackedSequence):
        return f"PackedSequence(data={describe_batch(batch.data)})"
    if isinstance(batch, Mapping):
        return "{" + ", ".join(f"{k!r}: {describe_batch(v)}" for k, v in batch.items()) + "}"
    if isinstance(batch, tuple | list):
        inner = ", ".join(describe_batch(b) for b in batch)
        return f"({inner})" if isinstance(batch, tuple) else f"[{inner}]"
    return type(batch).__name__


def describe_model_input(model: nn.Module) -> str:
    """What the model's forward takes and what its first layer expects.

    Examples
    --------
    >>> from torch import nn
    >>> print(describe_model_input(nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 2))))
    forward(input); first layer Embedding(10, 4): integer ids in [0, 10)
    """
    try:
        parameters = inspect.signature(model.forward).parameters.values()
        signature = f"forward({', '.join(_parameter(p) for p in parameters)})"
    except (TypeError, ValueError):
        signature = "forward(...)"
    first = next((m for m in model.modules() if not list(m.children())), None)
    if first is None:
        return signature
    if isinstance(first, nn.Embedding):
        wants = f"integer ids in [0, {first.num_embeddings})"
    elif hasattr(first, "input_size"):
        layout = "(B, T, F)" if getattr(first, "batch_first", False) else "(T, B, F)"
        wants = f"float features {layout} with F = {first.input_size}"
    elif hasattr(first, "in_features"):
        wants = f"float features (*, {first.in_features})"
    elif hasattr(first, "in_channels"):
        wants = f"{first.in_channels} input channels"
    else:
        wants = "see its documentation"
    return f"{signature}; first layer {first!r}: {wants}"


def _parameter(p: inspect.Parameter) -> str:
    star = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "")
    return star + p.name + ("" if p.default is p.empty else f"={p.default!r}")


def divergence_message(
    what: str,
    where: str,
    last_good: str | None,
    recent_norms: list[float],
    lr: float,
    clip_norm: float | None,
    precision: str,
) -> str:
    r"""The message of `TrainingDivergedError`: what, where, the intact checkpoint, what to try.

    Examples
    --------
    >>> message = divergence_message("the loss is nan", "epoch 3, step 57",
    ...                              "runs/x/last (epoch 2)", [1.5, 80.0, float("inf")], 0.1,
    ...                              None, "fp32")
    >>> for line in message.splitlines()[:3]:
    ...     print(line)
    training diverged at epoch 3, step 57: the loss is nan.
    Gradient norms (before clipping) of the last steps: 1.5, 80, inf.
    The last good checkpoint is runs/x/last (epoch 2), left intact.
    >>> print(message.splitlines()[3].replace("; ", ";\n"))
    Try: a smaller learning rate (now 0.1, e.g. 0.01);
    gradient clipping (TrainConfig(clip_norm=1.0));
    inputs free of NaN/inf.
    """
    advice = [f"a smaller learning rate (now {lr:.3g}, e.g. {lr / 10:.3g})"]
    if clip_norm is None:
        advice.append("gradient clipping (TrainConfig(clip_norm=1.0))")
    else:
        advice.append(f"a smaller clip_norm (now {clip_norm:g})")
    if precision != "fp32":
        advice.append(f'precision="fp32" instead of {precision}')
    advice.append("inputs free of NaN/inf")
    norms = ", ".join(f"{n:.4g}" for n in recent_norms) or "none yet"
    return (
        f"training diverged at {where}: {what}.\n"
        + f"Gradient norms (before clipping) of the last steps: {norms}.\n"
        + (
            f"The last good checkpoint is {last_good}, left intact.\n"
            if last_good
            else "No checkpoint was written yet.\n"
        )
        + f"Try: {'; '.join(advice)}.\n"
        "Change the settings and start in a new out directory (fit() on the same out would resume"
        " the checkpoint, its learning rate included)."
    )
