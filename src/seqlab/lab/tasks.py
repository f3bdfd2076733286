"""Synthetic sequence tasks whose answer lies far back in time, with their trivial baselines.

Each generator draws a fresh batch from a ``torch.Generator`` (so runs are reproducible) and
returns time-major tensors, the layout of ``seqlab.nn`` layers with ``batch_first=False``.

- :func:`adding_problem` (Hochreiter & Schmidhuber 1997): sum the two values marked in a long
  stream of noise. Predicting the mean sum 1 scores :data:`ADDING_BASELINE_MSE` = 1/6.
- :func:`copy_memory` (Arjovsky et al. 2016): recall 10 symbols after ``T`` blanks. Emitting
  blanks and then a uniform guess scores :func:`copy_baseline_ce` = 10·log 8 / (T + 20).
- :func:`first_token` : name the first token of a variable-length sequence of distractors.
"""

from __future__ import annotations

import math

import torch

#: MSE of always answering 1 on the adding problem: Var(U1 + U2) = 2 · 1/12.
ADDING_BASELINE_MSE = 1.0 / 6.0

#: Copy memory: symbols to remember, their alphabet size, and the ids of blank and delimiter.
COPY_SYMBOLS = 10
COPY_ALPHABET = 8
COPY_BLANK = 0
COPY_DELIMITER = COPY_ALPHABET + 1
COPY_VOCAB = COPY_ALPHABET + 2  # blank, 8 symbols, delimiter


def adding_problem(
    batch: int, T: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of the adding problem of length ``T``.

    Channel 0 holds values drawn from U(0, 1), channel 1 marks two steps with 1: one in the first
    half, one in the second. The target is the sum of the two marked values, so the network has to
    carry the first one across at least ``T/2`` steps of noise.

    Returns
    -------
    x : Tensor (T, batch, 2)
    y : Tensor (batch, 1)

    Examples
    --------
    >>> x, y = adding_problem(4, 10, torch.Generator().manual_seed(0))
    >>> x.shape, y.shape, x[:, :, 1].sum(0).tolist()
    (torch.Size([10, 4, 2]), torch.Size([4, 1]), [2.0, 2.0, 2.0, 2.0])
    """
    if T < 2:
        raise ValueError(f"adding problem: T={T} is too short; use T >= 2")
    values = torch.rand(T, batch, generator=generator)
    half = T // 2
    first = torch.randint(0, half, (batch,), generator=generator)
    second = torch.randint(half, T, (batch,), generator=generator)
    marks = torch.zeros(T, batch)
    cols = torch.arange(batch)
    marks[first, cols] = 1.0
    marks[second, cols] = 1.0
    y = (values[first, cols] + values[second, cols]).unsqueeze(1)
    return torch.stack([values, marks], dim=2), y


def copy_memory(
    batch: int, T: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of the copy-memory task with ``T`` blanks between the symbols and their recall.

    Input: 10 symbols from {1..8}, ``T - 1`` blanks, the delimiter 9, then 10 blanks
    (``T + 20`` steps). Target: blanks for ``T + 10`` steps, then the 10 symbols again.

    Returns
    -------
    x : LongTensor (T + 20, batch) of ids in [0, COPY_VOCAB)
    y : LongTensor (T + 20, batch) of ids in [0, COPY_ALPHABET]

    Examples
    --------
    >>> x, y = copy_memory(2, 5, torch.Generator().manual_seed(0))
    >>> x.shape, bool((y[-10:] == x[:10]).all()), int(x[14, 0])
    (torch.Size([25, 2]), True, 9)
    """
    if T < 1:
        raise ValueError(f"copy memory: T={T} is too short; use T >= 1")
    n = COPY_SYMBOLS
    symbols = torch.randint(1, COPY_ALPHABET + 1, (n, batch), generator=generator)
    x = torch.full((T + 2 * n, batch), COPY_BLANK, dtype=torch.long)
    x[:n] = symbols
    x[T + n - 1] = COPY_DELIMITER
    y = torch.full((T + 2 * n, batch), COPY_BLANK, dtype=torch.long)
    y[-n:] = symbols
    return x, y


def copy_baseline_ce(T: int) -> float:
    """Mean cross-entropy per step of the memoryless copy strategy: 10·log 8 / (T + 20)."""
    return COPY_SYMBOLS * math.log(COPY_ALPHABET) / (T + 2 * COPY_SYMBOLS)


def first_token(
    batch: int, length: int, classes: int, vocab: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequences of ``length`` random tokens whose label is the class of the FIRST token.

    The first token is one of ids ``0..classes-1`` (its id is the label); the other
    ``length - 1`` tokens are distractors drawn from all ``vocab`` ids, so the evidence sits
    ``length - 1`` steps before the end of the sequence.

    Returns
    -------
    x : LongTensor (length, batch)
    y : LongTensor (batch,)

    Examples
    --------
    >>> x, y = first_token(3, 6, classes=4, vocab=10, generator=torch.Generator().manual_seed(0))
    >>> x.shape, bool((x[0] == y).all())
    (torch.Size([6, 3]), True)
    """
    if not 0 < classes <= vocab:
        raise ValueError(f"first_token: need 0 < classes <= vocab, got {classes=} {vocab=}")
    x = torch.randint(0, vocab, (length, batch), generator=generator)
    y = torch.randint(0, classes, (batch,), generator=generator)
    x[0] = y
    return x, y
