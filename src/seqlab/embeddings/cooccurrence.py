"""Word-word co-occurrence counts for GloVe, in bounded memory (like GloVe's ``cooccur.c``).

Every pair of words at distance ``d <= window`` inside one line adds ``1/d`` to ``X[i, j]``
(``1`` without distance weighting). With a symmetric window (GloVe's default) the words on both
sides count, so ``X`` is symmetric.

How the counting stays within ``memory_limit``
----------------------------------------------
The corpus is read in slices. Each slice emits one 64-bit integer per pair, ``(key << 5) | d``
with ``key = row * n_words + col``, into a fixed-size buffer; ``np.sort`` on that buffer plus one
linear pass sums the pairs into a sorted run ``(keys, counts)``. Runs are kept in memory until
they would outgrow the limit; then they are merged into one run and written to temporary ``.npy``
files, which are merged at the end (a k-way merge done as pairwise merges over memory maps).

Why the result does not depend on the memory limit
--------------------------------------------------
Counts are summed as exact integers: ``1/d`` is stored as ``L // d`` with ``L = lcm(1..window)``
and divided by ``L`` only at the very end. Integer sums do not depend on the order in which the
runs are merged, so a tiny ``memory_limit`` (many spilled runs) gives bit-identical counts to the
all-in-memory path. That is why ``window`` is capped at :data:`MAX_WINDOW`.

With a symmetric window only the upper triangle ``row <= col`` is counted (half the pairs to
sort); :func:`count_cooccurrences` mirrors it into the full matrix at the end.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit
from tqdm.auto import tqdm

#: Largest supported window: ``lcm(1..20) * count`` must stay an exact int64 for any count below
#: about 4e10 (see the module docstring for why counts are integers).
MAX_WINDOW = 20
# Bits of a packed pair that hold the distance d (1..MAX_WINDOW < 32).
_DIST_BITS = 5
# Bytes per emitted pair in the buffer (one int64) and per counted pair in a run (key + count).
_PAIR_BYTES = 8
_RUN_BYTES = 16


class CooccurrenceError(ValueError):
    """Raised for inputs that cannot be counted (empty corpus, window out of range...)."""


@dataclass(frozen=True)
class Cooccurrence:
    """A sparse co-occurrence matrix in coordinate (COO) form.

    Entries come sorted by ``(row, col)``; a symmetric count stores its upper triangle sorted
    that way, followed by the mirrored strict upper triangle (no second sort of the whole matrix).

    Attributes
    ----------
    rows, cols : np.ndarray[int32]  (nnz,)
        Word ids of each nonzero entry.
    values : np.ndarray[float64]  (nnz,)
        ``X[row, col]``: the distance-weighted count.
    n_words : int
        Size of the vocabulary (the matrix is ``n_words x n_words``).
    """

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    n_words: int

    @property
    def nnz(self) -> int:
        """Number of nonzero entries."""
        return len(self.values)

    def to_dense(self) -> np.ndarray:
        """The full ``(n_words, n_words)`` matrix; only for small vocabularies (tests, demos)."""
        dense = np.zeros((self.n_words, self.n_words))
        dense[self.rows, self.cols] = self.values
        return dense


@njit(nogil=True, cache=True)
def _emit_pairs(ids, line_starts, start, stop, window, n_words, symmetric, out):
    """Write packed pairs ``(key << 5) | d`` for every token in ``ids[start:stop]`` and the
    ``window`` tokens before it on the same line; return how many were written to ``out``."""
    n_lines = len(line_starts)
    line = np.searchsorted(line_starts, start, side="right") - 1
    line_begin = line_starts[line] if line >= 0 else 0
    next_line = line_starts[line + 1] if line + 1 < n_lines else len(ids)
    n = 0
    for t in range(start, stop):
        while t >= next_line:  # crossed one or more line starts: windows stop at lines
            line += 1
            line_begin = next_line
            next_line = line_starts[line + 1] if line + 1 < n_lines else len(ids)
        current = np.int64(ids[t])
        lo = max(line_begin, t - window)
        for k in range(t - 1, lo - 1, -1):
            left = np.int64(ids[k])
            if symmetric and left > current:  # upper triangle only; mirrored at the end
                key = current * n_words + left
            elif symmetric:
                key = left * n_words + current
            else:  # left context only: row = current word, col = the word on its left
                key = current * n_words + left
            out[n] = (key << _DIST_BITS) | (t - k)
            n += 1
    return n


@njit(nogil=True, cache=True)
def _sum_sorted_pairs(packed, weight_of_distance, keys_out, counts_out):
    """Sum the integer weights of equal keys in sorted packed pairs; return the run length."""
    m = -1
    previous = np.int64(-1)
    mask = (1 << _DIST_BITS) - 1
    for p in packed:
        key = p >> _DIST_BITS
        if key != previous:
            m += 1
            keys_out[m] = key
            counts_out[m] = 0
            previous = key
        counts_out[m] += weight_of_distance[p & mask]
    return m + 1


@njit(nogil=True, cache=True)
def _merge_two_runs(keys_a, counts_a, keys_b, counts_b, keys_out, counts_out):
    """Merge two sorted runs into ``keys_out``/``counts_out``, summing equal keys; return length."""
    i = j = m = 0
    na, nb = len(keys_a), len(keys_b)
    while i < na and j < nb:
        if keys_a[i] < keys_b[j]:
            keys_out[m] = keys_a[i]
            counts_out[m] = counts_a[i]
            i += 1
        elif keys_b[j] < keys_a[i]:
            keys_out[m] = keys_b[j]
            counts_out[m] = counts_b[j]
            j += 1
        else:
            keys_out[m] = keys_a[i]
            counts_out[m] = counts_a[i] + counts_b[j]
            i += 1
            j += 1
        m += 1
    while i < na:
        keys_out[m] = keys_a[i]
        counts_out[m] = counts_a[i]
        i += 1
        m += 1
    while j < nb:
        keys_out[m] = keys_b[j]
        counts_out[m] = counts_b[j]
        j += 1
        m += 1
    return m


class _Runs:
    """Sorted runs of ``(keys, counts)``: kept in memory up to a byte budget, then moved to disk."""

    def __init__(self, budget_bytes: int, tmp_dir: str | os.PathLike | None):
        self.budget_bytes = budget_bytes
        self.tmp_root = tmp_dir
        self.tmp: Path | None = None
        self.in_memory: list[tuple[np.ndarray, np.ndarray]] = []
        self.on_disk: list[tuple[np.ndarray, np.ndarray]] = []  # memory maps of .npy files
        self.files_made = 0

    def add(self, keys: np.ndarray, counts: np.ndarray) -> None:
        self.in_memory.append((keys, counts))
        if sum(len(k) for k, _ in self.in_memory) * _RUN_BYTES > self.budget_bytes:
            self._spill()

    def _spill(self) -> None:
        for keys, counts in self.in_memory:
            path = self._new_file()
            np.save(path.with_suffix(".keys.npy"), keys)
            np.save(path.with_suffix(".counts.npy"), counts)
            self.on_disk.append(
                (
                    np.load(path.with_suffix(".keys.npy"), mmap_mode="r"),
                    np.load(path.with_suffix(".counts.npy"), mmap_mode="r"),
                )
            )
        self.in_memory = []

    def _new_file(self) -> Path:
        if self.tmp is None:
            self.tmp = Path(tempfile.mkdtemp(prefix="seqlab-cooccur-", dir=self.tmp_root))
        self.files_made += 1
        return self.tmp / f"run{self.files_made}"

    def merged(self) -> tuple[np.ndarray, np.ndarray]:
        """All runs merged into one sorted run held in memory."""
        if not self.on_disk:
            return _merge_all(self.in_memory, None)
        self._spill()
        keys, counts = _merge_all(self.on_disk, self._new_file)
        return np.array(keys), np.array(counts)  # read the final run into memory

    def close(self) -> None:
        self.in_memory, self.on_disk = [], []
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _merge_all(runs, new_file) -> tuple[np.ndarray, np.ndarray]:
    """Merge sorted runs pairwise, smallest first; into memory-mapped files if ``new_file``."""
    runs = sorted(runs, key=lambda run: len(run[0]))
    if not runs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    while len(runs) > 1:
        (ka, ca), (kb, cb) = runs.pop(0), runs.pop(0)
        size = len(ka) + len(kb)  # upper bound: equal keys collapse into one
        if new_file is None:
            keys, counts = np.empty(size, np.int64), np.empty(size, np.int64)
        else:
            path = new_file()
            keys = np.lib.format.open_memmap(path.with_suffix(".k.npy"), "w+", np.int64, (size,))
            counts = np.lib.format.open_memmap(path.with_suffix(".c.npy"), "w+", np.int64, (size,))
        m = _merge_two_runs(
            _plain(ka), _plain(ca), _plain(kb), _plain(cb), _plain(keys), _plain(counts)
        )
        runs.append((keys[:m], counts[:m]))
        runs.sort(key=lambda run: len(run[0]))
    return runs[0]


def _plain(array: np.ndarray) -> np.ndarray:
    # numba wants a plain ndarray; a view of a memory map shares its memory without copying.
    return array.view(np.ndarray)


def count_cooccurrences(
    ids: np.ndarray,
    line_starts: np.ndarray | None,
    n_words: int,
    window: int = 5,
    symmetric: bool = True,
    distance_weighting: bool = True,
    memory_limit: int = 2 << 30,
    tmp_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> Cooccurrence:
    """Count distance-weighted co-occurrences of word ids, within ``memory_limit`` bytes.

    ``X[i, j] = sum over occurrences of i of 1/d`` for every ``j`` at distance ``d <= window``
    on the same line (on either side if ``symmetric``, else only on the left of ``i``).

    Parameters
    ----------
    ids : np.ndarray[int32]  (n_tokens,)
        The corpus as word ids in ``[0, n_words)`` (e.g. from ``Vocab.encode_file``).
    line_starts : np.ndarray[int64] or None
        Offsets in ``ids`` where each line begins; windows never cross a line. ``None``: one line.
    n_words : int
        Vocabulary size.
    window : int
        Largest distance counted, ``1..MAX_WINDOW``.
    symmetric : bool
        Count both sides (GloVe's default) or the left context only.
    distance_weighting : bool
        Add ``1/d`` (GloVe's default) or ``1`` per pair.
    memory_limit : int
        Bytes for counting; past it, sorted runs spill to temporary files in ``tmp_dir``
        (default: the system temp directory) that are merged at the end. Any limit gives
        identical counts. The returned matrix itself takes 16 bytes per nonzero entry.
    progress : bool
        Show a progress bar over the tokens.

    Returns
    -------
    Cooccurrence

    Examples
    --------
    >>> import numpy as np
    >>> X = count_cooccurrences(np.array([0, 1, 2], np.int32), None, n_words=3, window=2)
    >>> X.to_dense()
    array([[0. , 1. , 0.5],
           [1. , 0. , 1. ],
           [0.5, 1. , 0. ]])
    """
    if not 1 <= window <= MAX_WINDOW:
        raise CooccurrenceError(
            f"window={window} is out of range: use a window between 1 and {MAX_WINDOW} "
            "(counts are exact integers scaled by lcm(1..window))"
        )
    ids = np.ascontiguousarray(ids, dtype=np.int32)
    if len(ids) == 0:
        raise CooccurrenceError(
            "the corpus has no in-vocabulary tokens: give a non-empty corpus or lower min_count"
        )
    if n_words < 1 or ids.min() < 0 or ids.max() >= n_words:
        raise CooccurrenceError(f"word ids must lie in [0, n_words={n_words})")
    starts = np.zeros(1, np.int64) if line_starts is None else np.asarray(line_starts, np.int64)
    if len(starts) == 0:
        starts = np.zeros(1, np.int64)

    scale = math.lcm(*range(1, window + 1)) if distance_weighting else 1
    weight_of_distance = np.zeros(1 << _DIST_BITS, np.int64)
    weight_of_distance[1 : window + 1] = [
        scale // d if distance_weighting else 1 for d in range(1, window + 1)
    ]

    # Half of the budget is the pair buffer (plus its summed run), half holds finished runs.
    buffer_size = max(window, memory_limit // 2 // (_PAIR_BYTES + _RUN_BYTES))
    tokens_per_slice = max(1, buffer_size // window)
    buffer = np.empty(buffer_size, np.int64)
    runs = _Runs(budget_bytes=memory_limit // 2, tmp_dir=tmp_dir)
    bar = tqdm(
        total=len(ids),
        desc="co-occurrences",
        unit="w",
        unit_scale=True,
        disable=not progress,
        dynamic_ncols=True,
    )
    try:
        for start in range(0, len(ids), tokens_per_slice):
            stop = min(len(ids), start + tokens_per_slice)
            n = _emit_pairs(ids, starts, start, stop, window, n_words, symmetric, buffer)
            if n == 0:
                continue
            packed = buffer[:n]
            packed.sort()
            keys, counts = np.empty(n, np.int64), np.empty(n, np.int64)
            m = _sum_sorted_pairs(packed, weight_of_distance, keys, counts)
            runs.add(keys[:m].copy(), counts[:m].copy())
            bar.update(stop - start)
        del buffer
        bar.set_postfix_str("merging")
        keys, counts = runs.merged()
    finally:
        bar.close()
        runs.close()
    return _to_matrix(keys, counts, n_words, scale, symmetric)


def _to_matrix(keys, counts, n_words, scale, symmetric) -> Cooccurrence:
    """Unpack keys into coordinates, divide by the integer scale and mirror the upper triangle."""
    rows = (keys // n_words).astype(np.int32)
    cols = (keys % n_words).astype(np.int32)
    values = counts / scale
    if symmetric:
        # Each pair (i, j), i < j, was counted once for both orders; a word next to itself
        # (i == i) was seen from both sides, so the diagonal doubles, as in cooccur.c.
        diagonal = rows == cols
        values[diagonal] *= 2
        off = ~diagonal
        rows, cols = np.concatenate([rows, cols[off]]), np.concatenate([cols, rows[off]])
        values = np.concatenate([values, values[off]])
    return Cooccurrence(rows=rows, cols=cols, values=values, n_words=n_words)
