"""Nearest words and analogies over the whole vocabulary, quick enough to answer as one types.

A query compares one vector (three for 3CosMul) with every word's unit vector: 200,000 x 300
float32 are 240 MB, and reading them is most of what a float32 query costs. :class:`FastSearch`
therefore also keeps the unit vectors as int8 (a quarter of the bytes, one float32 scale per row,
rows padded with zeros to a multiple of 64 bytes so that the compiled loop has no scalar tail)
and answers in two steps:

1. one pass over the int8 rows (exact integer dot products in compiled loops, one thread per
   core taking slices of the rows in turn, 512 rows at a time so that 3CosMul's three dot
   products per row read the row from cache) gives every word a lower and an upper bound on its
   exact score. The ``topn``-th largest lower bound ``T`` is a score that ``topn`` words reach
   for sure, so any word whose upper bound is below ``T`` cannot be in the answer;
2. only the words whose upper bound reaches ``T`` (for 200,000 random 300-d vectors, a median
   of 150 for a nearest-word query and 750 for 3CosMul) are scored again exactly from the
   float32 unit vectors and ranked. When too many words reach ``T`` (near-ties, such as many
   identical vectors), the query is answered by :class:`~seqlab.embeddings.KeyedVectors`
   itself, by its exact pass over every float32 row.

So the answers are always those of ``KeyedVectors`` (which are gensim's), only sooner.

The bound: row ``x`` is stored as ``s (n + e)`` with integers ``|n| <= 127``, its scale ``s`` and
rounding errors ``|e| <= 1/2``; the query ``q`` likewise as ``t (m + f)``. Then
``|x.q - s t (n.m)| = s t |n.f + e.m + e.f| <= s t (sum|n| / 2 + sum|m| / 2 + d / 4)``, computed
for every row and query. The float32 sums of the exact scores add at most ``d * 2**-24`` of the
cosine (2e-5 for d = 300), covered by :data:`_SLACK`. 3CosMul's score is increasing in the
cosines with ``a`` and ``c`` and decreasing in the cosine with ``b``, so its bounds are the score
of the cosines' bounds, widened by :data:`_RELATIVE_SLACK` for float32 rounding.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from seqlab.embeddings import KeyedVectors, UnknownWordError

log = logging.getLogger("seqlab.explore")

_SLACK = np.float32(1e-4)  # float32 rounding of the exact and approximate cosines, generously
_RELATIVE_SLACK = np.float32(1e-5)  # float32 rounding of 3CosMul's products and quotient
_ALIGN = 64  # int8 rows are padded with zeros to a multiple of this many bytes (one AVX-512 load)
_CHUNK = 512  # rows whose dot products are taken together: 160 KB of int8 rows, in L2 cache
_MOST_CANDIDATES = 8  # more than 1/8 of the words to rescore: the exact pass is as quick


@njit(nogil=True, cache=True)
def _quantise_rows(vectors, rows, scales, sums):  # pragma: no cover (compiled)
    """Per row: scale ``max|x| / 127``, the int8 values, and the sum of their sizes.

    ``rows`` may have more columns than ``vectors``; those are left as they are (zero padding).
    """
    for i in range(vectors.shape[0]):
        top = np.float32(0)
        for k in range(vectors.shape[1]):
            top = max(top, abs(vectors[i, k]))
        scale = np.float32(top / np.float32(127)) if top > 0 else np.float32(1)
        total = 0
        for k in range(vectors.shape[1]):
            n = min(np.float32(127), max(np.float32(-127), np.floor(vectors[i, k] / scale + 0.5)))
            rows[i, k] = np.int8(n)
            total += abs(np.int32(n))
        scales[i] = scale
        sums[i] = total


@njit(nogil=True, cache=True)
def _int8_dots(rows, queries, dots):  # pragma: no cover (compiled)
    """``dots[j, i] = rows[i] . queries[j]``, exact in int32 (320 * 127 * 127 < 2**31).

    Alone in its function: with the float arithmetic below in the same loop, LLVM no longer
    turns the inner loop into SIMD multiply-adds, and it runs four times slower.
    """
    for j in range(queries.shape[0]):
        query = queries[j]
        for i in range(rows.shape[0]):
            row = rows[i]
            total = np.int32(0)
            for k in range(row.shape[0]):
                total += np.int32(row[k]) * np.int32(query[k])
            dots[j, i] = total


@njit(nogil=True, cache=True)
def _cosine_bounds(
    dots, scales, row_bounds, query_scale, half_sum, lower, upper
):  # pragma: no cover
    """Lower and upper bounds of each row's cosine with one query, from its int8 dot product."""
    for i in range(lower.shape[0]):
        cosine = np.float32(dots[i]) * scales[i] * query_scale
        error = query_scale * (row_bounds[i] + scales[i] * half_sum) + _SLACK
        lower[i] = cosine - error
        upper[i] = cosine + error


@njit(nogil=True, cache=True, error_model="numpy")  # no zero-division check: SIMD
def _cosmul_bounds(low, high, lower, upper):  # pragma: no cover (compiled)
    """Bounds of 3CosMul from those of the cosines with a, c and b (rows of ``low``, ``high``).

    The score rises with the cosines with a and c and falls with that with b, and ``1 + cos``
    is never negative, so the bounds of the score are the score of the cosines' bounds.
    """
    # float32 constants throughout: an int or float64 one makes numba compute in float64
    one, two, half, tiny = np.float32(1), np.float32(2), np.float32(0.5), np.float32(1e-6)
    zero = np.float32(0)
    for i in range(lower.shape[0]):
        low_a = max(one + low[0, i], zero) * half
        low_c = max(one + low[1, i], zero) * half
        low_b = max(one + low[2, i], zero) * half
        high_a = min(one + high[0, i], two) * half
        high_c = min(one + high[1, i], two) * half
        high_b = min(one + high[2, i], two) * half
        lower[i] = low_a * low_c / (high_b + tiny) * (one - _RELATIVE_SLACK)
        upper[i] = high_a * high_c / (low_b + tiny) * (one + _RELATIVE_SLACK)


@njit(nogil=True, cache=True)
def _bounds(
    rows, scales, row_bounds, queries, query_scales, half_sums, lower, upper
):  # pragma: no cover
    """Bounds of the exact scores of ``rows`` with the int8 ``queries``: the cosine for one
    query, 3CosMul for three (a, c, b), ``_CHUNK`` rows at a time.

    Each step is its own simple loop over the chunk, which LLVM turns into SIMD code.
    """
    dots = np.empty((queries.shape[0], _CHUNK), dtype=np.int32)
    low = np.empty((queries.shape[0], _CHUNK), dtype=np.float32)
    high = np.empty_like(low)
    for start in range(0, rows.shape[0], _CHUNK):
        stop = min(start + _CHUNK, rows.shape[0])
        _int8_dots(rows[start:stop], queries, dots)
        if queries.shape[0] == 1:
            _cosine_bounds(
                dots[0], scales[start:stop], row_bounds[start:stop], query_scales[0],
                half_sums[0], lower[start:stop], upper[start:stop],
            )  # fmt: skip
            continue
        for j in range(queries.shape[0]):
            _cosine_bounds(
                dots[j], scales[start:stop], row_bounds[start:stop], query_scales[j],
                half_sums[j], low[j, : stop - start], high[j, : stop - start],
            )  # fmt: skip
        _cosmul_bounds(low, high, lower[start:stop], upper[start:stop])


@njit(nogil=True, cache=True)
def _kth_largest(values, k):  # pragma: no cover (compiled)
    """The ``k``-th largest of ``values`` (``-inf`` if fewer), by a min-heap of ``k`` values."""
    heap = np.full(k, -np.inf, dtype=values.dtype)
    for value in values:
        if value > heap[0]:
            heap[0] = value
            i = 0
            while True:
                child = 2 * i + 1
                if child >= k:
                    break
                if child + 1 < k and heap[child + 1] < heap[child]:
                    child += 1
                if heap[child] >= heap[i]:
                    break
                heap[i], heap[child] = heap[child], heap[i]
                i = child
    return heap[0]


def quantise(
    vectors: np.ndarray, width: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows as int8 with one float32 scale each (``vectors[i] ~= scales[i] * rows[i]``), and the
    sum of each int8 row's absolute values; ``width`` pads the rows with zeros to that length.

    Examples
    --------
    >>> rows, scales, sums = quantise(np.array([[0.5, -1.0], [0.0, 0.0]], dtype=np.float32))
    >>> rows.tolist(), [round(float(s), 5) for s in scales], sums.tolist()
    ([[64, -127], [0, 0]], [0.00787, 1.0], [191, 0])
    >>> quantise(np.ones((1, 2), dtype=np.float32), width=4)[0].tolist()
    [[127, 127, 0, 0]]
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    rows = np.zeros((len(vectors), width or vectors.shape[1]), dtype=np.int8)
    scales = np.empty(len(vectors), dtype=np.float32)
    sums = np.empty(len(vectors), dtype=np.int32)
    _quantise_rows(vectors, rows, scales, sums)
    return rows, scales, sums


class FastSearch:
    """Exact ``nearest`` and ``analogy`` answers of ``kv``, found through an int8 first pass.

    Keeps a quarter-size int8 copy of the unit vectors (64 MB for 200,000 x 300) beside them,
    built in a background thread by default (1.5 s for 200,000 x 300 on 2 cores), during which
    queries are answered by the exact pass.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> kv = KeyedVectors([f"w{i}" for i in range(2000)],
    ...                   rng.normal(size=(2000, 20)).astype(np.float32))
    >>> search = FastSearch(kv, background=False)
    >>> search.nearest("w1", topn=3) == kv.nearest(["w1"], topn=3)[0]
    True
    >>> search.analogy("w1", "w2", "w3", 3, "3cosmul") == kv.analogy("w1", "w2", "w3", 3, "3cosmul")
    True
    """

    def __init__(self, kv: KeyedVectors, background: bool = True, threads: int | None = None):
        self.kv = kv
        self.unit = kv.unit_vectors
        self._width = -(-self.unit.shape[1] // _ALIGN) * _ALIGN
        self._index: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._built = threading.Event()
        # The threads run the compiled loops (which release the GIL) on slices of the rows, four
        # slices per thread taken in turn: when another process holds a core, the threads that
        # run take over the slices of the one that waits.
        threads = max(1, min(threads or os.cpu_count() or 1, 4, len(kv)))
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="seqlab-search")
        bounds = np.linspace(0, len(kv), min(4 * threads, len(kv)) + 1).astype(int)
        self._slices = list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))
        if background:  # the server answers at once, by the exact pass until the index is built
            threading.Thread(target=self._build, name="seqlab-search-index", daemon=True).start()
        else:
            self._build()

    @property
    def ready(self) -> bool:
        """Whether queries go through the int8 index yet (else by the exact pass)."""
        return self._index is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the index is built (or could not be); returns :attr:`ready`."""
        self._built.wait(timeout)
        return self.ready

    def _build(self) -> None:
        try:
            rows = np.zeros((len(self.unit), self._width), dtype=np.int8)
            scales = np.empty(len(rows), dtype=np.float32)
            sums = np.empty(len(rows), dtype=np.int32)
            self._each_slice(
                lambda i, j: _quantise_rows(self.unit[i:j], rows[i:j], scales[i:j], sums[i:j])
            )
            # the part of each row's error bound that does not depend on the query
            row_bounds = scales * (sums / 2 + self.unit.shape[1] / 4).astype(np.float32)
            index = (rows, scales, row_bounds)
            for queries in (self.unit[:1], self.unit[[0, 0, 0]]):  # compiled (or loaded) now
                self._score_bounds(queries, index)
            _kth_largest(np.zeros(1, np.float32), 1)
            self._index = index
        except Exception:  # numba could not compile here: every query takes the exact pass
            log.warning("fast word search unavailable; queries use the exact pass", exc_info=True)
        finally:
            self._built.set()

    def _each_slice(self, run: Callable[[int, int], None]) -> None:
        """``run(start, stop)`` for each thread's rows, in parallel; re-raises their errors."""
        for future in [self._pool.submit(run, i, j) for i, j in self._slices]:
            future.result()

    # ------------------------------------------------------------------ queries
    def nearest(self, word: str, topn: int = 10) -> list[tuple[str, float]]:
        """The ``topn`` words of highest cosine with ``word`` (itself left out), best first."""
        (query,) = self._unit_vectors([word])
        found = self._search(query[None, :], self._rows([word]), topn)
        return found if found is not None else self.kv.nearest([word], topn=topn)[0]

    def analogy(
        self, a: str, b: str, c: str, topn: int = 10, method: str = "3cosadd"
    ) -> list[tuple[str, float]]:
        """``a - b + c`` by 3CosAdd or 3CosMul, as :meth:`KeyedVectors.analogy` ranks them."""
        if method not in ("3cosadd", "3cosmul"):
            raise ValueError(f"unknown analogy method {method!r}: use '3cosadd' or '3cosmul'")
        va, vb, vc = self._unit_vectors([a, b, c])
        if method == "3cosadd":
            # the target of KeyedVectors.most_similar: mean of +a, +c, -b, made unit length
            queries = _unit((va + vc - vb) / np.float32(3))[None, :]
        else:
            queries = np.stack([va, vc, vb])
        found = self._search(queries, self._rows([a, b, c]), topn)
        if found is None:
            return self.kv.analogy(a, b, c, topn=topn, method=method)
        return found

    # ------------------------------------------------------------------ the two steps
    def _score_bounds(
        self, queries: np.ndarray, index: tuple[np.ndarray, np.ndarray, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds (n,) of every word's exact score with the unit ``queries``:
        its cosine with one query (1, d), its 3CosMul score with three (a, c, b)."""
        rows, scales, row_bounds = index
        query_rows, query_scales, query_sums = quantise(queries, self._width)
        half_sums = (query_sums / 2).astype(np.float32)
        lower = np.empty(len(rows), dtype=np.float32)
        upper = np.empty_like(lower)

        def run(i: int, j: int) -> None:
            _bounds(
                rows[i:j], scales[i:j], row_bounds[i:j], query_rows, query_scales, half_sums,
                lower[i:j], upper[i:j],
            )  # fmt: skip

        self._each_slice(run)
        return lower, upper

    def _search(
        self, queries: np.ndarray, exclude: Sequence[int], topn: int
    ) -> list[tuple[str, float]] | None:
        """The exact top ``topn`` words by score with ``queries`` (see :meth:`_score_bounds`),
        ``exclude`` left out; ``None`` when the exact pass should answer instead."""
        index = self._index
        if index is None or not 0 < topn < len(self.unit) - len(exclude):
            return None
        lower, upper = self._score_bounds(queries, index)
        lower[exclude] = -np.inf
        upper[exclude] = -np.inf
        # topn words score at least this, so no word whose upper bound is below it can be in
        # the answer; every word of the answer is among the candidates.
        reached = _kth_largest(lower, topn)
        if not np.isfinite(reached):
            return None
        candidates = np.flatnonzero(upper >= reached)
        if len(candidates) * _MOST_CANDIDATES > len(self.unit):
            return None
        rows, exact = self._exact_scores(queries, candidates)
        exact[np.isin(rows, exclude)] = -np.inf
        order = np.lexsort((rows, -exact))[:topn]  # best first, ties by row
        words = self.kv.index_to_key
        best = zip(rows[order].tolist(), exact[order].tolist(), strict=True)
        return [(words[r], s) for r, s in best]

    def _exact_scores(
        self, queries: np.ndarray, candidates: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows around ``candidates`` and their exact float32 scores, bit for bit those of
        ``KeyedVectors``' pass over every row.

        BLAS's matrix-vector product takes rows four at a time and the last ``n % 4`` by another
        loop, whose sums round differently. So the candidates are widened to whole groups of
        four, and a candidate among the last rows brings the same ending (a group and the
        remainder) as the pass over every row.
        """
        n = len(self.unit)
        whole = n - n % 4  # rows in whole groups of four
        rows = (np.unique(candidates // 4)[:, None] * 4 + np.arange(4)).ravel()
        blocks = [rows[rows < whole]]
        if rows[-1] >= whole:
            blocks = [blocks[0][blocks[0] < whole - 4], np.arange(max(whole - 4, 0), n)]
        scores = [self._exact(queries, self.unit[block]) for block in blocks]
        return np.concatenate(blocks), np.concatenate(scores).astype(np.float32)

    @staticmethod
    def _exact(queries: np.ndarray, unit: np.ndarray) -> np.ndarray:
        """Scores of ``unit`` rows as KeyedVectors computes them: cosines with one query, or
        3CosMul with three (a, c, b)."""
        if len(queries) == 1:
            return unit @ queries[0]
        return _cosmul(unit @ queries[0], unit @ queries[1], unit @ queries[2])

    # ------------------------------------------------------------------ words
    def _unit_vectors(self, words: list[str]) -> list[np.ndarray]:
        """Unit vectors of ``words``; one error names every unknown word."""
        vectors, unknown = [], []
        for word in words:
            try:
                vectors.append(self.kv.get_vector(word, norm=True))
            except UnknownWordError:
                unknown.append(word)
        if unknown:
            raise UnknownWordError(list(dict.fromkeys(unknown)), len(self.kv))
        return vectors

    def _rows(self, words: list[str]) -> list[int]:
        """Vocabulary rows of the query words (out-of-vocabulary words have none)."""
        return [self.kv.key_to_index[w] for w in words if w in self.kv.key_to_index]


def _cosmul(a: np.ndarray, c: np.ndarray, b: np.ndarray) -> np.ndarray:
    """3CosMul from the cosines with a, c (positive) and b (negative), as KeyedVectors has it."""
    return ((1 + a) / 2) * ((1 + c) / 2) / ((1 + b) / 2 + np.float32(1e-6))


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vector)
    return (vector / norm if norm > 0 else vector).astype(np.float32)
