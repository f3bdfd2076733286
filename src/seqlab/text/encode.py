"""Encodings of token ids: one-hot (dense or sparse), and padding to a rectangle with lengths.

The lecture's path from text to numbers: each token gets an id (:class:`~seqlab.text.Vocab`),
each id becomes a one-hot row of length ``|V|`` (all zeros but a single 1), and a batch of
sequences of different lengths becomes a padded ``(B, T)`` matrix plus the true lengths, which
recurrent layers use to ignore the padding. A dense embedding is the one-hot row times a
matrix ``W`` of shape ``(|V|, d)``, i.e. row ``id`` of ``W`` (what ``nn.Embedding`` looks up).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from seqlab.text.vocab import Vocab

if TYPE_CHECKING:
    import scipy.sparse


def one_hot(
    ids: Sequence[int] | np.ndarray, num_classes: int, sparse: bool = False, dtype=np.float32
) -> np.ndarray | scipy.sparse.csr_array:
    """One row per id, ``num_classes`` columns, a single 1 at column ``id``.

    Parameters
    ----------
    ids : sequence of int, shape (n,)
        Token ids in ``[0, num_classes)``.
    num_classes : int
        Vocabulary size ``|V|``.
    sparse : bool
        Return a ``scipy.sparse.csr_array`` (n nonzeros) instead of a dense ``(n, |V|)`` array;
        use it for large vocabularies, where the dense form is mostly zeros.
    dtype : numpy dtype
        Element type.

    Returns
    -------
    numpy.ndarray or scipy.sparse.csr_array, shape (n, num_classes)

    Examples
    --------
    >>> one_hot([0, 2], 3).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    >>> one_hot([0, 2], 3, sparse=True).nnz
    2
    """
    ids = np.asarray(ids, dtype=np.int64).ravel()
    bad = ids[(ids < 0) | (ids >= num_classes)]
    if bad.size:
        raise IndexError(f"ids {bad[:10].tolist()} outside [0, {num_classes}); check num_classes")
    n = ids.size
    if sparse:
        import scipy.sparse  # lazy: only large-vocabulary users pay its import time

        data = np.ones(n, dtype=dtype)
        return scipy.sparse.csr_array((data, ids, np.arange(n + 1)), shape=(n, num_classes))
    out = np.zeros((n, num_classes), dtype=dtype)
    out[np.arange(n), ids] = 1
    return out


def one_hot_table(tokens: Sequence[str], vocab: Vocab) -> str:
    """The lecture's one-hot table as text: a row per token, a column per vocabulary entry.

    Examples
    --------
    >>> sentence = "the cat sat on the mat".split()
    >>> print(one_hot_table(sentence, Vocab.from_iterable([sentence])))
        the cat sat  on mat
    the   1   0   0   0   0
    cat   0   1   0   0   0
    sat   0   0   1   0   0
    on    0   0   0   1   0
    the   1   0   0   0   0
    mat   0   0   0   0   1
    """
    matrix = one_hot(vocab.encode(tokens), len(vocab), dtype=np.int64)
    width = max(map(len, tokens), default=0)
    header = " " * width + " " + " ".join(f"{w:>3}" for w in vocab.itos)
    rows = [
        f"{tok:<{width}} "
        + " ".join(f"{v:>{max(3, len(w))}}" for v, w in zip(row, vocab.itos, strict=True))
        for tok, row in zip(tokens, matrix.tolist(), strict=True)
    ]
    return "\n".join([header.rstrip(), *rows])


def pad(
    sequences: Sequence[Sequence[int] | np.ndarray],
    pad_id: int = 0,
    max_len: int | None = None,
    batch_first: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Pad id sequences to a rectangle; also return their lengths.

    Parameters
    ----------
    sequences : sequence of int sequences
        ``B`` sequences of lengths ``L_b``.
    pad_id : int
        Fill value (``<pad>`` is id 0 in a :class:`~seqlab.text.Vocab`).
    max_len : int, optional
        Truncate longer sequences to this length (their lengths are truncated too).
    batch_first : bool
        ``(B, T)`` when True, else time-major ``(T, B)`` as ``torch.nn.RNN`` expects by default.

    Returns
    -------
    padded : numpy.ndarray of int64, shape (B, T) or (T, B) with T = max length
    lengths : numpy.ndarray of int64, shape (B,)

    Examples
    --------
    >>> x, lengths = pad([[5, 6, 7], [8]])
    >>> x.tolist(), lengths.tolist()
    ([[5, 6, 7], [8, 0, 0]], [3, 1])
    """
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    if max_len is not None:
        np.minimum(lengths, max_len, out=lengths)
    out = np.full((len(sequences), int(lengths.max(initial=0))), pad_id, dtype=np.int64)
    for row, seq, n in zip(out, sequences, lengths.tolist(), strict=True):
        row[:n] = seq[:n]
    return (out if batch_first else out.T.copy()), lengths
