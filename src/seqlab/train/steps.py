"""How a batch becomes a loss, and how validation batches become metrics.

The loop only needs two callables, so every task plugs in the same way:

- ``step(model, batch) -> (loss, n_items)``: the mean loss over ``n_items`` items (examples,
  or tokens for a language model) of one training batch, with the graph for ``backward``;
- ``evaluate(model, batch) -> {name: (total, count)}``: sums for validation metrics, each the
  ratio ``Σ total / Σ count`` over the validation set (and over ranks under torchrun).

`SupervisedStep` provides both for batches ``(*inputs, target)``. A step may keep state across
batches (a language model's hidden state): give it ``reset()`` (called before each pass over a
loader) and, for exact mid-epoch resume, ``state_dict()`` / ``load_state_dict()``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

Step = Callable[[nn.Module, object], tuple[torch.Tensor, "int | torch.Tensor"]]
Evaluate = Callable[[nn.Module, object], dict]


class SupervisedStep:
    """``loss_fn(model(*inputs), target)`` for batches ``(*inputs, target)``.

    Outputs with more dimensions than two (per-token logits (B, T, C) for targets (B, T)) are
    flattened to (B·T, C); items are the targets, less those equal to ``loss_fn.ignore_index``
    (padding). `evaluate` returns the loss and, for integer targets, the accuracy of the
    arg-max class.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> step = SupervisedStep(nn.CrossEntropyLoss())
    >>> model = nn.Linear(3, 2)
    >>> batch = (torch.randn(4, 3), torch.tensor([0, 1, 1, 0]))
    >>> loss, n = step(model, batch)
    >>> int(n), sorted(step.evaluate(model, batch))
    (4, ['accuracy', 'loss'])
    """

    def __init__(self, loss_fn: Callable) -> None:
        self.loss_fn = loss_fn
        self.ignore_index = getattr(loss_fn, "ignore_index", None)

    def __call__(self, model: nn.Module, batch) -> tuple[torch.Tensor, torch.Tensor]:
        output, target = self._forward(model, batch)
        return self.loss_fn(output, target), self._items(target)

    def evaluate(self, model: nn.Module, batch) -> dict:
        output, target = self._forward(model, batch)
        n = self._items(target)
        result = {"loss": (self.loss_fn(output, target) * n, n)}
        if not target.dtype.is_floating_point and output.shape[:-1] == target.shape:
            hits = output.argmax(-1) == target
            if self.ignore_index is not None:
                hits &= target != self.ignore_index
            result["accuracy"] = (hits.sum(), n)
        return result

    def _forward(self, model: nn.Module, batch) -> tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(batch, tuple | list) or len(batch) < 2:
            raise TypeError(
                "the default step needs batches (*inputs, target); give Trainer a step= "
                "function for other layouts"
            )
        *inputs, target = batch
        output = model(*inputs)
        if output.dim() > 2 and output.shape[:-1] == target.shape:
            output, target = output.reshape(-1, output.shape[-1]), target.reshape(-1)
        return output, target

    def _items(self, target: torch.Tensor) -> torch.Tensor | int:
        if self.ignore_index is not None and not target.dtype.is_floating_point:
            return (target != self.ignore_index).sum()
        return target.shape[0] if target.dim() else 1


def loss_only(step: Step) -> Evaluate:
    """An evaluate function that reports the step's mean loss (for a custom ``step``)."""

    def evaluate(model: nn.Module, batch) -> dict:
        loss, n = step(model, batch)
        return {"loss": (loss * n, n)}

    return evaluate


def finish_metrics(totals: dict[str, list[float]]) -> dict[str, float]:
    """Ratios of summed ``(total, count)`` pairs, plus perplexity = exp(loss) if there is a loss.

    Examples
    --------
    >>> finish_metrics({"loss": [6.0, 3.0], "accuracy": [2.0, 4.0]})
    {'loss': 2.0, 'accuracy': 0.5, 'perplexity': 7.38905609893065}
    """
    metrics = {
        name: total / count if count else math.nan for name, (total, count) in totals.items()
    }
    if "loss" in metrics and "perplexity" not in metrics:
        loss = metrics["loss"]
        metrics["perplexity"] = math.inf if loss > 700 else math.exp(loss)  # NaN stays NaN
    return metrics
