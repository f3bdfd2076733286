"""Pretrained word vectors into an ``nn.Embedding`` aligned to a :class:`~seqlab.text.Vocab`.

An embedding layer is the lecture's dense alternative to one-hot: row ``id`` of a ``(|V|, d)``
matrix. Starting that matrix from pretrained vectors (word2vec, GloVe, fastText) instead of
random values transfers what was learned on a large corpus. The vocabulary of the task and the
vocabulary of the vectors never match exactly, so this module reports the coverage and applies
an explicit policy to the words that have no vector.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from seqlab.embeddings.keyedvectors import KeyedVectors
from seqlab.text.vocab import PAD, Vocab

_POLICIES = ("random", "zero", "mean")


@dataclass
class Coverage:
    """Which vocabulary words found a pretrained vector (specials are not counted).

    ``rows[i]`` is the row of the vectors used for vocabulary id ``i``, or -1 when none.
    """

    rows: np.ndarray
    found: int
    words: int
    via_lowercase: int
    missing: list[str] = field(repr=False)

    @property
    def fraction(self) -> float:
        return self.found / self.words if self.words else 0.0

    def __str__(self) -> str:
        lower = f", {self.via_lowercase:,} via lowercase" if self.via_lowercase else ""
        shown = ", ".join(self.missing[:8]) + (", ..." if len(self.missing) > 8 else "")
        return (
            f"pretrained vectors cover {self.found:,} of {self.words:,} vocabulary words "
            f"({100 * self.fraction:.1f}%{lower}); missing: {len(self.missing):,}"
            + (f" ({shown})" if self.missing else "")
        )


def coverage(vocab: Vocab, vectors: Any, lowercase_fallback: bool = True) -> Coverage:
    """Match every vocabulary word to a row of ``vectors`` (exact, then lowercased if asked).

    Examples
    --------
    >>> from seqlab.text import Vocab
    >>> kv = KeyedVectors(["the", "cat"], np.ones((2, 3), dtype=np.float32))
    >>> cov = coverage(Vocab(["<pad>", "The", "cat", "zebra"], specials=["<pad>"]), kv)
    >>> cov.rows.tolist(), cov.found, cov.words
    ([-1, 0, 1, -1], 2, 3)
    """
    key_to_index = vectors.key_to_index
    rows = np.full(len(vocab), -1, dtype=np.int64)
    via_lower = 0
    missing = []
    for i in range(len(vocab.specials), len(vocab)):
        word = vocab.itos[i]
        row = key_to_index.get(word)
        if row is None and lowercase_fallback:
            row = key_to_index.get(word.lower())
            via_lower += row is not None
        if row is None:
            missing.append(word)
        else:
            rows[i] = row
    words = len(vocab) - len(vocab.specials)
    return Coverage(rows, words - len(missing), words, via_lower, missing)


def embedding_from_vectors(
    vocab: Vocab,
    vectors: Any,
    missing: str = "random",
    freeze: bool = False,
    lowercase_fallback: bool = True,
    seed: int = 0,
    verbose: bool = True,
) -> nn.Embedding:
    """An ``nn.Embedding(len(vocab), d)`` whose row ``i`` is the pretrained vector of ``itos[i]``.

    Parameters
    ----------
    vocab : Vocab
        The task's vocabulary; the layer is indexed by its ids.
    vectors : KeyedVectors-like or path
        Any object with ``key_to_index`` (dict) and ``vectors`` (``(n, d)`` array), such as
        :class:`seqlab.embeddings.KeyedVectors` or gensim's; or a file path, loaded with
        ``KeyedVectors.load`` (format sniffed: word2vec bin/txt, GloVe, fastText .vec).
    missing : {"random", "zero", "mean"}
        Rows of words without a vector (and of specials other than ``<pad>``): normal noise
        with the standard deviation of the found vectors, zeros, or the mean found vector.
    freeze : bool
        Keep the weights fixed during training (``requires_grad=False``).
    lowercase_fallback : bool
        Try ``word.lower()`` when ``word`` itself has no vector (GloVe is lowercase).
    seed : int
        Seed of the random rows.
    verbose : bool
        Print the coverage line (how many vocabulary words had a vector).

    Returns
    -------
    nn.Embedding
        Weight ``(len(vocab), d)`` float32. If the vocabulary has ``<pad>``, its row is zero and
        it is the layer's ``padding_idx`` (never updated).

    Raises
    ------
    ValueError
        For an unknown ``missing`` policy, or when no vocabulary word has a vector.

    Examples
    --------
    >>> from seqlab.text import Vocab
    >>> kv = KeyedVectors(["cat", "mat"], np.array([[1, 2], [3, 4]], dtype=np.float32))
    >>> vocab = Vocab(["<pad>", "cat", "mat", "dog"], specials=["<pad>"])
    >>> emb = embedding_from_vectors(vocab, kv, missing="mean", freeze=True)
    pretrained vectors cover 2 of 3 vocabulary words (66.7%); missing: 1 (dog)
    >>> emb.weight.tolist()
    [[0.0, 0.0], [1.0, 2.0], [3.0, 4.0], [2.0, 3.0]]
    """
    if missing not in _POLICIES:
        raise ValueError(f"missing={missing!r} is not a policy; use one of {_POLICIES}")
    if isinstance(vectors, str | os.PathLike):
        vectors = KeyedVectors.load(vectors)
    if not (hasattr(vectors, "key_to_index") and hasattr(vectors, "vectors")):
        raise TypeError(
            f"vectors must have key_to_index and vectors (a KeyedVectors) or be a path, "
            f"got {type(vectors).__name__}"
        )
    cov = coverage(vocab, vectors, lowercase_fallback)
    if verbose:
        print(cov)
    if cov.found == 0:
        raise ValueError(
            "no vocabulary word has a pretrained vector: check that the vectors' language and "
            "case match the vocabulary (e.g. lowercase=True for GloVe)"
        )
    source = np.asarray(vectors.vectors, dtype=np.float32)  # (n, d)
    has = cov.rows >= 0
    found = source[cov.rows[has]]  # (found, d)
    weight = np.empty((len(vocab), source.shape[1]), dtype=np.float32)  # (|V|, d)
    weight[has] = found
    n_missing = int((~has).sum())
    if missing == "random":
        rng = np.random.default_rng(seed)
        weight[~has] = rng.normal(0.0, found.std(), (n_missing, weight.shape[1]))
    elif missing == "mean":
        weight[~has] = found.mean(axis=0)
    else:
        weight[~has] = 0.0
    padding_idx = 0 if PAD in vocab.specials else None
    if padding_idx is not None:
        weight[padding_idx] = 0.0
    return nn.Embedding.from_pretrained(
        torch.from_numpy(weight), freeze=freeze, padding_idx=padding_idx
    )
