"""Beam search for one-to-many decoders: the ``width`` best partial sequences at every step.

Greedy decoding keeps the single most probable token at each step and can walk into a
sequence whose total probability is low ("a" + the best word after it may lose to "the" + a
very likely continuation). Beam search keeps ``width`` partial sequences, extends each by every
token, and keeps the ``width`` best by total log-probability; a sequence that emits ``<eos>``
is set aside as finished. The search stops when ``n_best`` sequences are finished and no
unfinished one can still beat them (log-probabilities only fall as a sequence grows), or after
``max_len`` tokens.

The decoder is given as two callables, so names, captions and any other decoder share it:
``step(tokens (k,), state) -> (log-probabilities (k, V), state)`` runs one step for ``k``
partial sequences, and ``reorder(state, index (k',)) -> state`` picks the rows of the
surviving ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Hypothesis:
    """A finished sequence: its tokens (without ``<bos>`` and ``<eos>``) and its score."""

    tokens: tuple[int, ...]
    logprob: float

    def score(self, alpha: float = 0.0) -> float:
        """Log-probability divided by (tokens + 1)^alpha (``<eos>`` counts); 0: the total."""
        return self.logprob / (len(self.tokens) + 1) ** alpha


@torch.no_grad()
def beam_search(
    step: Callable,
    state,
    reorder: Callable,
    bos: int,
    eos: int,
    width: int = 5,
    max_len: int = 30,
    n_best: int = 1,
    banned: Sequence[int] = (),
    alpha: float = 0.0,
) -> list[Hypothesis]:
    """The ``n_best`` most probable sequences from ``state`` (one input, batch of 1).

    Parameters
    ----------
    step, reorder : callables
        As the module docstring says.
    state
        The decoder's state for one sequence (batch dimension 1).
    bos, eos : int
        Token fed first; token that ends a sequence.
    width : int
        Partial sequences kept (1 = greedy).
    max_len : int
        Tokens at most, ``<eos>`` included: at the last step only ``<eos>`` may follow.
    n_best : int
        Sequences returned, best first (at most ``width``).
    banned : sequence of int
        Tokens never produced (``<pad>``, ``<unk>``, ``<bos>``).
    alpha : float
        Length normalisation of the final ranking (`Hypothesis.score`); 0 ranks by total
        log-probability, which favours short sequences.

    Examples
    --------
    A toy decoder (token 0 is <eos>, 3 is <bos>): greedy takes token 1 (0.6), after which <eos>
    has 0.5 (total 0.3); beam search also keeps token 2 (0.4), after which <eos> has 1.0.

    >>> import torch
    >>> def step(tokens, state):
    ...     table = {3: [0.0, 0.6, 0.4, 0.0], 1: [0.5, 0.25, 0.25, 0.0], 2: [1.0, 0.0, 0.0, 0.0]}
    ...     rows = [table.get(int(t), [1.0, 0, 0, 0]) for t in tokens]
    ...     return torch.tensor(rows).log(), state
    >>> greedy = beam_search(step, None, lambda s, i: s, bos=3, eos=0, width=1)[0]
    >>> beam = beam_search(step, None, lambda s, i: s, bos=3, eos=0, width=2)[0]
    >>> greedy.tokens, round(greedy.logprob, 3), beam.tokens, round(beam.logprob, 3)
    ((1,), -1.204, (2,), -0.916)
    """
    if not (isinstance(width, int) and width >= 1):
        raise ValueError(f"beam width must be an int >= 1, got {width}")
    if not (isinstance(max_len, int) and max_len >= 1):
        raise ValueError(f"max_len must be an int >= 1, got {max_len}")
    n_best = min(n_best, width)
    alive: list[tuple[int, ...]] = [()]
    scores = torch.zeros(1)
    tokens = torch.tensor([bos])
    finished: list[Hypothesis] = []
    for position in range(max_len):
        logp, state = step(tokens, state)
        logp = logp.float().cpu()
        if torch.isnan(logp).any():
            raise ValueError("the decoder's log-probabilities hold NaN: its weights are broken")
        if banned:
            logp[:, list(banned)] = -math.inf
        if position == max_len - 1:  # the sequence must end here
            keep = logp[:, eos].clone()
            logp.fill_(-math.inf)
            logp[:, eos] = keep
        total = scores[:, None] + logp
        flat = total.flatten()
        candidates = torch.topk(flat, min(2 * width, flat.numel()))
        vocab = logp.shape[1]
        survivors, next_scores, next_tokens, next_alive = [], [], [], []
        ranked = zip(candidates.values.tolist(), candidates.indices.tolist(), strict=True)
        for value, index in ranked:
            if value == -math.inf:
                break
            row, token = divmod(index, vocab)
            if token == eos:
                finished.append(Hypothesis(alive[row], value))
                continue
            survivors.append(row)
            next_scores.append(value)
            next_tokens.append(token)
            next_alive.append((*alive[row], token))
            if len(survivors) == width:
                break
        finished.sort(key=lambda h: h.score(alpha), reverse=True)
        done = len(finished) >= n_best and (
            not survivors or (alpha == 0 and finished[n_best - 1].logprob >= max(next_scores))
        )
        if done or not survivors:
            break
        index = torch.tensor(survivors)
        state = reorder(state, index)
        scores, tokens, alive = torch.tensor(next_scores), torch.tensor(next_tokens), next_alive
    return finished[:n_best]
