"""Nearest words and analogies over the whole vocabulary, quick enough to answer as one types.

A query compares one vector with every word's unit vector: 200,000 x 300 float32 are 240 MB, and
reading them is most of what a float32 query costs. :class:`FastSearch` therefore also keeps the
unit vectors as int8 (a quarter of the bytes, one float32 scale per row) and answers in two steps:

1. one pass over the int8 rows (exact integer dot products in compiled loops, one thread per
   core, each on its own rows) gives every word an approximate score and a bound on how far it
   can be from the exact one. That loop is limited by its arithmetic rather than by memory, so
   3CosMul, with three cosines per word, takes about three times as long as a nearest-word query;
2. the best candidates by that approximation are scored again exactly from the float32 unit
   vectors, and the answer is accepted only when the bounds prove that no word outside the
   candidates could reach it. When they cannot (too many near-ties), the query is answered by
   :class:`~seqlab.embeddings.KeyedVectors` itself, by its exact pass over every float32 row.

So the answers are always those of ``KeyedVectors`` (which are gensim's), only sooner.

The bound: row ``x`` is stored as ``s (n + e)`` with integers ``|n| <= 127``, its scale ``s`` and
rounding errors ``|e| <= 1/2``; the query ``q`` likewise as ``t (m + f)``. Then
``|x.q - s t (n.m)| = s t |n.f + e.m + e.f| <= s t (sum|n| / 2 + sum|m| / 2 + d / 4)``, computed
for every row and query. The float32 sums of the exact scores add at most ``d * 2**-24`` of the
cosine (2e-5 for d = 300), covered by :data:`_SLACK`.
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

_SLACK = np.float32(1e-4)  # float32 rounding of the exact and approximate scores, generously
_FIRST_CANDIDATES = 256  # rescored exactly at first (then 16 times more, then every row)


@njit(nogil=True, cache=True)
def _quantise_rows(vectors, rows, scales, sums):  # pragma: no cover (compiled)
    """Per row: scale ``max|x| / 127``, the int8 values, and the sum of their sizes."""
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
    """``dots[j, i] = rows[i] . queries[j]``, exact in int32 (300 * 127 * 127 < 2**31).

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
def _cosines_and_bounds(
    dots, scales, row_bounds, query_scales, query_sums, cosines, errors
):  # pragma: no cover (compiled)
    """Approximate cosines ``cosines[i, j]`` from the int8 dot products, and their error bounds."""
    for j in range(dots.shape[0]):
        query_scale = query_scales[j]
        half_sum = np.float32(0.5) * np.float32(query_sums[j])
        for i in range(dots.shape[1]):
            cosines[i, j] = np.float32(dots[j, i]) * scales[i] * query_scale
            errors[i, j] = query_scale * (row_bounds[i] + scales[i] * half_sum) + _SLACK


@njit(nogil=True, cache=True)
def _cosmul_bounds(cosines, errors, scores, upper):  # pragma: no cover (compiled)
    """3CosMul scores from approximate cosines with a, c, b (columns) and their upper bounds."""
    for i in range(cosines.shape[0]):
        a, c, b = cosines[i, 0], cosines[i, 1], cosines[i, 2]
        scores[i] = ((1 + a) / 2) * ((1 + c) / 2) / ((1 + b) / 2 + np.float32(1e-6))
        high_a = min((1 + a + errors[i, 0]) / 2, np.float32(1))
        high_c = min((1 + c + errors[i, 1]) / 2, np.float32(1))
        low_b = max((1 + b - errors[i, 2]) / 2, np.float32(0))
        upper[i] = high_a * high_c / (low_b + np.float32(1e-6))


def quantise(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows as int8 with one float32 scale each (``vectors[i] ~= scales[i] * rows[i]``), and the
    sum of each int8 row's absolute values.

    Examples
    --------
    >>> rows, scales, sums = quantise(np.array([[0.5, -1.0], [0.0, 0.0]], dtype=np.float32))
    >>> rows.tolist(), [round(float(s), 5) for s in scales], sums.tolist()
    ([[64, -127], [0, 0]], [0.00787, 1.0], [191, 0])
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    rows = np.empty(vectors.shape, dtype=np.int8)
    scales = np.empty(len(vectors), dtype=np.float32)
    sums = np.empty(len(vectors), dtype=np.int32)
    _quantise_rows(vectors, rows, scales, sums)
    return rows, scales, sums


class FastSearch:
    """Exact ``nearest`` and ``analogy`` answers of ``kv``, found through an int8 first pass.

    Keeps a quarter-size int8 copy of the unit vectors (60 MB for 200,000 x 300) beside them,
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
        self._index: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._built = threading.Event()
        # Each thread runs the compiled loops (which release the GIL) on its own rows.
        threads = max(1, min(threads or os.cpu_count() or 1, 4, len(kv)))
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="seqlab-search")
        bounds = np.linspace(0, len(kv), threads + 1).astype(int)
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
            rows = np.empty(self.unit.shape, dtype=np.int8)
            scales = np.empty(len(rows), dtype=np.float32)
            sums = np.empty(len(rows), dtype=np.int32)
            self._each_slice(
                lambda i, j: _quantise_rows(self.unit[i:j], rows[i:j], scales[i:j], sums[i:j])
            )
            # the part of each row's error bound that does not depend on the query
            row_bounds = scales * (sums / 2 + self.unit.shape[1] / 4).astype(np.float32)
            index = (rows, scales, row_bounds)
            self._approximate(self.unit[:1], index)  # the loops compiled (or loaded) now
            _cosmul_bounds(*(np.zeros((1, 3), np.float32),) * 2, *(np.zeros(1, np.float32),) * 2)
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
        index = self._index
        if index is None:
            return self.kv.nearest([word], topn=topn)[0]
        cosines, errors = self._approximate(query[None, :], index)
        scores = cosines[:, 0]

        def exact(rows: np.ndarray) -> np.ndarray:
            return self.unit[rows] @ query

        found = self._confirmed(scores, scores + errors[:, 0], exact, self._rows([word]), topn)
        return found if found is not None else self.kv.nearest([word], topn=topn)[0]

    def analogy(
        self, a: str, b: str, c: str, topn: int = 10, method: str = "3cosadd"
    ) -> list[tuple[str, float]]:
        """``a - b + c`` by 3CosAdd or 3CosMul, as :meth:`KeyedVectors.analogy` ranks them."""
        if method not in ("3cosadd", "3cosmul"):
            raise ValueError(f"unknown analogy method {method!r}: use '3cosadd' or '3cosmul'")
        va, vb, vc = self._unit_vectors([a, b, c])
        index = self._index
        if index is None:
            return self.kv.analogy(a, b, c, topn=topn, method=method)
        if method == "3cosadd":
            # the target of KeyedVectors.most_similar: mean of +a, +c, -b, made unit length
            target = _unit((va + vc - vb) / np.float32(3))
            cosines, errors = self._approximate(target[None, :], index)
            scores, upper = cosines[:, 0], cosines[:, 0] + errors[:, 0]

            def exact(rows: np.ndarray) -> np.ndarray:
                return self.unit[rows] @ target
        else:
            cosines, errors = self._approximate(np.stack([va, vc, vb]), index)
            scores = np.empty(len(cosines), dtype=np.float32)
            upper = np.empty_like(scores)
            _cosmul_bounds(cosines, errors, scores, upper)

            def exact(rows: np.ndarray) -> np.ndarray:
                unit = self.unit[rows]
                return _cosmul(unit @ va, unit @ vc, unit @ vb)

        found = self._confirmed(scores, upper, exact, self._rows([a, b, c]), topn)
        if found is None:
            return self.kv.analogy(a, b, c, topn=topn, method=method)
        return found

    # ------------------------------------------------------------------ the two steps
    def _approximate(
        self, queries: np.ndarray, index: tuple[np.ndarray, np.ndarray, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Approximate cosines (n, k) of every word with the unit ``queries`` (k, d), and bounds
        (n, k) on their errors."""
        rows, scales, row_bounds = index
        query_rows, query_scales, query_sums = quantise(queries)
        dots = np.empty((len(queries), len(rows)), dtype=np.int32)
        cosines = np.empty((len(rows), len(queries)), dtype=np.float32)
        errors = np.empty_like(cosines)

        def run(i: int, j: int) -> None:
            _int8_dots(rows[i:j], query_rows, dots[:, i:j])
            _cosines_and_bounds(
                dots[:, i:j], scales[i:j], row_bounds[i:j], query_scales, query_sums,
                cosines[i:j], errors[i:j],
            )  # fmt: skip

        self._each_slice(run)
        return cosines, errors

    def _confirmed(
        self,
        scores: np.ndarray,
        upper: np.ndarray,
        exact: Callable[[np.ndarray], np.ndarray],
        exclude: Sequence[int],
        topn: int,
    ) -> list[tuple[str, float]] | None:
        """The exact top ``topn`` if the candidates provably hold it, else ``None``.

        ``scores`` are the approximate scores and ``upper`` bounds every exact score from above
        (both overwritten at ``exclude``); ``exact`` scores given rows exactly.
        """
        scores[exclude] = -np.inf
        upper[exclude] = -np.inf
        first = max(_FIRST_CANDIDATES, 4 * topn)
        for candidates in (first, 16 * first):
            if candidates >= len(scores) - len(exclude):
                return None  # as many candidates as words: the exact pass is no slower
            rows = np.argpartition(-scores, candidates)[:candidates]
            exact_scores = exact(rows).astype(np.float32)
            order = np.lexsort((rows, -exact_scores))[:topn]  # best first, ties by row
            outside = upper.copy()  # bounds of the words outside the candidates
            outside[rows] = -np.inf
            if exact_scores[order[-1]] > outside.max():
                words = self.kv.index_to_key
                best = zip(rows[order].tolist(), exact_scores[order].tolist(), strict=True)
                return [(words[r], s) for r, s in best]
        return None

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
