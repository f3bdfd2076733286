"""Choosing the next token from a model's logits: temperature, top-k, top-p, greedy.

One function for every generator (language models, conditional generation, decoders), so that
the same options mean the same thing everywhere:

1. ``temperature`` divides the logits (below 1: sharper, above 1: flatter). ``0`` means
   **greedy**: the arg-max, no randomness (the limit of a vanishing temperature).
2. ``top_k`` keeps the k most probable tokens.
3. ``top_p`` (nucleus) keeps the smallest set of most probable tokens whose probabilities add up
   to at least p (the most probable token is always kept).
4. The kept probabilities are renormalised and one token is drawn with ``torch.multinomial``
   from the given ``torch.Generator``: the same seed gives the same tokens.
"""

from __future__ import annotations

import math

import torch


class SamplingError(ValueError):
    """A sampling option that cannot work, or logits that hold NaN; says which and the fix."""


def check_options(temperature: float, top_k: int | None, top_p: float | None) -> None:
    """Raise `SamplingError` for a temperature, ``top_k`` or ``top_p`` that cannot work.

    Examples
    --------
    >>> check_options(0.8, top_k=40, top_p=0.9)
    >>> check_options(-1.0, None, None)
    Traceback (most recent call last):
    ...
    seqlab.tasks.sampling.SamplingError: temperature must be >= 0 (0 = greedy), got -1.0
    """
    if not (isinstance(temperature, int | float) and math.isfinite(temperature)) or temperature < 0:
        raise SamplingError(f"temperature must be >= 0 (0 = greedy), got {temperature}")
    if top_k is not None and not (isinstance(top_k, int) and top_k >= 1):
        raise SamplingError(f"top_k must be an int >= 1 (or None for all tokens), got {top_k}")
    if top_p is not None and not (isinstance(top_p, int | float) and 0 < top_p <= 1):
        raise SamplingError(f"top_p must be in (0, 1] (or None for no nucleus cut), got {top_p}")


def probabilities(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> torch.Tensor:
    """The distribution sampling draws from: (..., V) logits -> (..., V) probabilities.

    With ``temperature=0`` all the mass is on the arg-max (the first one on ties).

    Examples
    --------
    >>> logits = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    >>> probabilities(logits, top_k=2).tolist()
    [0.625, 0.375, 0.0, 0.0]
    >>> probabilities(logits, top_p=0.8).tolist()  # 0.5 + 0.3 reaches 0.8
    [0.625, 0.375, 0.0, 0.0]
    >>> probabilities(logits, temperature=0).tolist()
    [1.0, 0.0, 0.0, 0.0]
    """
    check_options(temperature, top_k, top_p)
    logits = logits.float()
    if torch.isnan(logits).any():
        raise SamplingError(
            "the model's logits hold NaN: its weights are broken (a diverged training run?); "
            "retrain, or use an earlier checkpoint"
        )
    if temperature == 0:
        greedy = torch.zeros_like(logits)
        return greedy.scatter_(-1, logits.argmax(-1, keepdim=True), 1.0)
    logits = logits / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, -math.inf)
    probs = torch.softmax(logits, dim=-1)
    if top_p is not None and top_p < 1:
        sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
        before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs  # mass of the better tokens
        drop_sorted = before >= top_p  # the first token has 0 before it: always kept
        drop = torch.zeros_like(drop_sorted).scatter_(-1, order, drop_sorted)
        probs = probs.masked_fill(drop, 0.0)
        probs = probs / probs.sum(-1, keepdim=True)
    return probs


def sample(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """One token id per row of (..., V) logits, drawn as the module docstring says.

    Examples
    --------
    >>> logits = torch.tensor([[0.0, 5.0, 1.0]])
    >>> sample(logits, temperature=0).tolist()
    [1]
    >>> g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    >>> x = torch.randn(4, 10)
    >>> torch.equal(sample(x, 0.8, generator=g1), sample(x, 0.8, generator=g2))
    True
    """
    probs = probabilities(logits, temperature, top_k, top_p)
    if temperature == 0:
        return probs.argmax(-1)
    flat = probs.reshape(-1, probs.shape[-1])
    return torch.multinomial(flat, 1, generator=generator).reshape(probs.shape[:-1])
