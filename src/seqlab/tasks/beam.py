"""Batched greedy and beam search over any one-token-at-a-time decoder.

A decoder is given to the search as a **step function**::

    step(tokens, state) -> (log_probs, state)            # or, with a context:
    step(tokens, state, context) -> (log_probs, state)

- ``tokens``: (N,) long, the token each row emitted last (``bos`` at the first call);
- ``state``: whatever the decoder carries from one token to the next (a tensor, ``None``, or a
  tuple / list / dict of them, nested as deep as needed), every tensor with N rows first;
- ``log_probs``: (N, V) **log**-probabilities of the next token (``log_softmax`` of the logits);
- ``context`` (optional): tensors that do not change while decoding, such as the encoder's
  outputs and their padding mask or an image's features, N rows first. Putting them here instead
  of in ``state`` saves copying them at every step: they are expanded to the beams once and never
  reordered (the beams of one sentence share them).

Rows are laid out sentence by sentence: with B sentences and a beam of k, N = B·k and row
``b·k + j`` is beam j of sentence b. The search expands the initial ``state`` and ``context`` from
B rows to B·k (`expand`), and after each step reorders ``state`` (`reorder`: ``index_select`` on
dimension 0 of every tensor) so that row i continues the hypothesis it was chosen from. A step
function only ever sees N rows and needs to know nothing about beams.

Beam search follows Wu et al. (2016) and fairseq: at each step the 2k best extensions of a
sentence's k hypotheses are ranked by their summed log-probability; those among the first k that
end in ``eos`` are set aside as finished, and the k best that do not end in ``eos`` go on. A
sentence is done when k hypotheses have finished, or when it reaches its ``max_len`` (the
hypotheses still open are then finished as they are, marked ``ended=False``). Finished
hypotheses are ranked by their **length-normalised** score ``sum(log p) / length**alpha``
(``length_penalty=alpha``; length counts the tokens emitted, ``eos`` included): ``alpha=0``
compares raw log-probabilities, which favours short outputs; ``alpha=1`` compares the mean
log-probability per token. A beam of 1 is greedy search (`greedy_search` gives the same result
by a plainer loop).

Examples
--------
A toy decoder over the tokens ``eos=0, bos=1, a=2, b=3`` whose next-token probabilities depend
only on the last token. Greedy takes ``a`` (0.6) and then has to end at 0.6 · 0.35 = 0.21;
the beam also keeps ``b`` (0.4), which ends at 0.4 · 0.9 = 0.36:

>>> table = torch.tensor([
...     [1.00, 0.00, 0.00, 0.00],   # after eos (never asked)
...     [0.00, 0.00, 0.60, 0.40],   # after bos
...     [0.35, 0.00, 0.35, 0.30],   # after a
...     [0.90, 0.00, 0.05, 0.05],   # after b
... ]).log()
>>> def step(tokens, state):
...     return table[tokens], state
>>> greedy_search(step, None, batch_size=1, bos=1, eos=0, max_len=3).tokens
[[2, 0]]
>>> beam_search(step, None, batch_size=1, bos=1, eos=0, beam=2, max_len=3,
...             length_penalty=0).tokens
[[3, 0]]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from seqlab.checks import check_int, check_number

State = object  # a tensor, None, or a tuple / list / dict of States
Step = Callable[..., tuple[torch.Tensor, State]]


class BeamSearchError(ValueError):
    """Search settings or a step function's output that cannot work; says which and the fix."""


@dataclass
class Decoded:
    """The outcome of a search for B sentences.

    ``tokens[b]`` is sentence b's best output, with ``eos`` kept when it was emitted (so that
    ``ended[b]`` is ``tokens[b][-1] == eos``); strip it with `without_eos`. ``scores[b]`` is its
    length-normalised log-probability. ``n_best[b]`` lists up to ``beam`` finished hypotheses as
    ``(tokens, score)``, best first (greedy search: just the one).
    """

    tokens: list[list[int]]
    scores: list[float]
    ended: list[bool]
    n_best: list[list[tuple[list[int], float]]] = field(default_factory=list)

    def without_eos(self, eos: int) -> list[list[int]]:
        """The best outputs with a final ``eos`` removed."""
        return [t[:-1] if t and t[-1] == eos else list(t) for t in self.tokens]


def expand(state: State, k: int) -> State:
    """Each row of every tensor in ``state`` repeated ``k`` times in place: B rows -> B·k rows.

    Examples
    --------
    >>> expand((torch.tensor([[1], [2]]), None), 2)[0].flatten().tolist()
    [1, 1, 2, 2]
    """
    return _map(state, lambda x: x.repeat_interleave(k, dim=0))


def reorder(state: State, rows: torch.Tensor) -> State:
    """Row i of every tensor in ``state`` becomes its former row ``rows[i]``.

    Examples
    --------
    >>> reorder({"h": torch.tensor([10, 20, 30])}, torch.tensor([2, 2, 0]))["h"].tolist()
    [30, 30, 10]
    """
    return _map(state, lambda x: x.index_select(0, rows.to(x.device)))


def _map(state: State, fn: Callable[[torch.Tensor], torch.Tensor]) -> State:
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return fn(state)
    if isinstance(state, tuple | list):
        return type(state)(_map(s, fn) for s in state)
    if isinstance(state, dict):
        return {key: _map(value, fn) for key, value in state.items()}
    raise BeamSearchError(
        f"the decoder state holds a {type(state).__name__}: use tensors, None, or tuples, lists "
        "and dicts of them (numbers that never change belong in the step function itself)"
    )


def _first_device(state: State) -> torch.device | None:
    if isinstance(state, torch.Tensor):
        return state.device
    if isinstance(state, tuple | list):
        items = state
    elif isinstance(state, dict):
        items = state.values()
    else:
        return None
    for item in items:
        device = _first_device(item)
        if device is not None:
            return device
    return None


def _max_lengths(max_len: int | torch.Tensor, batch_size: int) -> torch.Tensor:
    """(B,) long tensor of per-sentence limits from an int or a (B,) tensor."""
    if isinstance(max_len, torch.Tensor):
        if max_len.shape != (batch_size,):
            raise BeamSearchError(
                f"max_len has shape {tuple(max_len.shape)}: give an int or one limit per "
                f"sentence, shape ({batch_size},)"
            )
        limits = max_len.detach().cpu().long()
    else:
        limits = torch.full((batch_size,), check_int("max_len", max_len, low=1))
    if batch_size and int(limits.min()) < 1:
        raise BeamSearchError(f"max_len must be >= 1 for every sentence, got {limits.tolist()}")
    return limits


def _check_log_probs(log_probs: torch.Tensor, rows: int) -> None:
    if not isinstance(log_probs, torch.Tensor) or log_probs.dim() != 2 or len(log_probs) != rows:
        shape = tuple(log_probs.shape) if isinstance(log_probs, torch.Tensor) else log_probs
        raise BeamSearchError(
            f"the step function returned log-probabilities of shape {shape}: return "
            f"(N, V) = ({rows}, vocabulary size), one row per token it was given"
        )
    if torch.isnan(log_probs).any():
        raise BeamSearchError(
            "the step function returned NaN log-probabilities: the decoder's weights are broken "
            "(a diverged training run?); retrain, or use an earlier checkpoint"
        )


def _call(step: Step, tokens: torch.Tensor, state: State, context: State):
    out = step(tokens, state) if context is None else step(tokens, state, context)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise BeamSearchError("the step function must return a pair (log_probs, state)")
    return out


def _normalised(score: float, length: int, alpha: float) -> float:
    return score / length**alpha if alpha else score


def greedy_search(
    step: Step,
    state: State,
    *,
    batch_size: int,
    bos: int,
    eos: int,
    max_len: int | torch.Tensor = 50,
    length_penalty: float = 1.0,
    context: State = None,
) -> Decoded:
    """The most probable next token at every step, for ``batch_size`` sentences at once.

    Parameters are those of `beam_search` without ``beam``. Each sentence stops at its first
    ``eos`` or after ``max_len`` tokens; the step function keeps being called on the B rows
    until every sentence has stopped (the rows of stopped sentences are ignored).

    Examples
    --------
    >>> step = lambda tokens, state: (torch.log_softmax(torch.eye(4)[tokens + 1] * 5, -1), state)
    >>> greedy_search(step, None, batch_size=2, bos=0, eos=3, max_len=5).tokens
    [[1, 2, 3], [1, 2, 3]]
    """
    batch_size = check_int("batch_size", batch_size, low=0)
    alpha = check_number("length_penalty", length_penalty, low=0)
    limits = _max_lengths(max_len, batch_size)
    device = _first_device((state, context)) or torch.device("cpu")
    tokens = torch.full((batch_size,), bos, dtype=torch.long, device=device)
    total = torch.zeros(batch_size, dtype=torch.float64)
    emitted: list[list[int]] = [[] for _ in range(batch_size)]
    open_ = torch.ones(batch_size, dtype=torch.bool)
    for t in range(int(limits.max()) if batch_size else 0):
        log_probs, state = _call(step, tokens, state, context)
        _check_log_probs(log_probs, batch_size)
        best, tokens = log_probs.max(dim=-1)
        chosen = tokens.cpu()
        total += torch.where(open_, best.detach().cpu().double(), 0.0)
        for b in open_.nonzero().flatten().tolist():
            emitted[b].append(int(chosen[b]))
        open_ &= (chosen != eos) & (limits > t + 1)
        if not open_.any():
            break
    scores = [_normalised(float(total[b]), len(emitted[b]), alpha) for b in range(batch_size)]
    ended = [bool(e) and e[-1] == eos for e in emitted]
    n_best = [[(e, s)] for e, s in zip(emitted, scores, strict=True)]
    return Decoded(emitted, scores, ended, n_best)


def beam_search(
    step: Step,
    state: State,
    *,
    batch_size: int,
    bos: int,
    eos: int,
    beam: int = 5,
    max_len: int | torch.Tensor = 50,
    length_penalty: float = 1.0,
    context: State = None,
) -> Decoded:
    """The ``beam`` best hypotheses per sentence, extended one token at a time, batched.

    Parameters
    ----------
    step : callable
        ``step(tokens (N,), state) -> (log_probs (N, V), state)``, or with a third argument
        ``context`` when one is given (module docstring).
    state : tensor, None, or tuple / list / dict of them
        The decoder's initial state for the B sentences (B rows first); expanded to B·beam rows.
    batch_size : int
        B, the number of sentences.
    bos, eos : int
        The token fed at the first step, and the token that ends a hypothesis.
    beam : int
        Hypotheses kept per sentence; 1 is greedy search.
    max_len : int or (B,) tensor
        Most tokens emitted per sentence, ``eos`` included (a limit relative to the source
        length: pass ``a * source_lengths + b``).
    length_penalty : float
        ``alpha`` >= 0 in ``score / length**alpha`` (module docstring).
    context : tensor, None, or tuple / list / dict of them
        Fixed tensors (B rows first) passed to ``step`` as its third argument, expanded to the
        beams once and never reordered.

    Returns
    -------
    Decoded
        Best tokens, scores and whether each ended in ``eos``; ``n_best`` holds up to ``beam``
        finished hypotheses per sentence, best first.

    Examples
    --------
    A decoder whose state counts the tokens emitted: its next-token logits depend on that count,
    and it must end after the second token:

    >>> logits = torch.tensor([[0.0, 2, 1], [0.0, 0, 3], [9.0, 0, 0]])  # eos=0, tokens 1, 2
    >>> def step(tokens, count):
    ...     return torch.log_softmax(logits[count.clamp(max=2)], -1), count + 1
    >>> out = beam_search(step, torch.zeros(1, dtype=torch.long), batch_size=1, bos=1, eos=0,
    ...                   beam=2)
    >>> out.tokens, [h for h, _ in out.n_best[0]]
    ([[1, 2, 0]], [[1, 2, 0], [2, 2, 0]])
    """
    k = check_int("beam", beam, low=1)
    batch_size = check_int("batch_size", batch_size, low=0)
    alpha = check_number("length_penalty", length_penalty, low=0)
    limits = _max_lengths(max_len, batch_size)
    device = _first_device((state, context)) or torch.device("cpu")
    n = batch_size * k
    state, context = expand(state, k), expand(context, k)
    tokens = torch.full((n,), bos, dtype=torch.long, device=device)
    # only beam 0 is live at the start: the k copies of <bos> would otherwise fill the beam
    # with k copies of the same hypotheses
    scores = torch.full((batch_size, k), -math.inf, dtype=torch.float64)
    scores[:, 0] = 0.0
    history = torch.zeros((batch_size, k, 0), dtype=torch.long)
    finished: list[list[tuple[list[int], float, bool]]] = [[] for _ in range(batch_size)]
    done = torch.zeros(batch_size, dtype=torch.bool)
    base = torch.arange(batch_size).unsqueeze(1) * k
    for t in range(int(limits.max()) if batch_size else 0):
        log_probs, state = _call(step, tokens, state, context)
        _check_log_probs(log_probs, n)
        vocab = log_probs.shape[1]
        if vocab < 2:
            raise BeamSearchError("the step function returned a vocabulary of 1 token: need >= 2")
        candidates = scores.unsqueeze(2) + log_probs.detach().cpu().double().view(batch_size, k, -1)
        top, index = candidates.view(batch_size, -1).topk(min(2 * k, k * vocab), dim=1)
        origin, word = index // vocab, index % vocab
        ends = word == eos
        last = limits <= t + 1
        _set_aside(finished, done, top, origin, word, ends, last, history, k, t + 1, alpha)
        done |= last | torch.tensor([len(f) >= k for f in finished], dtype=torch.bool)
        if done.all():
            break
        # the k best candidates that go on: at most k of the 2k end in eos (one per origin),
        # so a stable sort that puts the eos ones last leaves k open ones in front
        keep = torch.sort(ends.to(torch.int8), dim=1, stable=True).indices[:, :k]
        scores = top.gather(1, keep).masked_fill(done.unsqueeze(1), -math.inf)
        origin, word = origin.gather(1, keep), word.gather(1, keep)
        history = torch.cat(
            [history.gather(1, origin.unsqueeze(2).expand(-1, -1, t)), word.unsqueeze(2)], dim=2
        )
        state = reorder(state, (base + origin).flatten().to(device))
        tokens = word.flatten().to(device)
    return _ranked(finished, k)


def _set_aside(finished, done, top, origin, word, ends, last, history, k, length, alpha) -> None:
    """Move the finished hypotheses among each open sentence's k best candidates to ``finished``."""
    best = top[:, :k]
    chosen = (ends[:, :k] | last.unsqueeze(1)) & ~done.unsqueeze(1) & torch.isfinite(best)
    for b, rank in chosen.nonzero().tolist():  # few per step: no Python loop over every row
        tokens = [*history[b, origin[b, rank]].tolist(), int(word[b, rank])]
        score = _normalised(float(best[b, rank]), length, alpha)
        finished[b].append((tokens, score, bool(ends[b, rank])))


def _ranked(finished: list[list[tuple[list[int], float, bool]]], k: int) -> Decoded:
    n_best, best, scores, ended = [], [], [], []
    for hypotheses in finished:
        hypotheses = sorted(hypotheses, key=lambda h: -h[1])[:k]
        n_best.append([(tokens, score) for tokens, score, _ in hypotheses])
        best.append(hypotheses[0][0])
        scores.append(hypotheses[0][1])
        ended.append(hypotheses[0][2])
    return Decoded(best, scores, ended, n_best)
