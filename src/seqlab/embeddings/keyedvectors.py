"""Querying trained word vectors: similarity, analogies, nearest neighbours, evaluation.

:class:`KeyedVectors` is what every trainer returns (word2vec, fastText, GloVe) and what every
file format loads into. It only queries; training lives elsewhere (as in gensim, training is kept
apart from querying).

Cosine similarity between words *u* and *v* is ``cos(u, v) = u·v / (|u| |v|)``. All queries run on
the cached unit-norm matrix ``U = V / |V|`` (rows), so a whole batch of queries is one matrix
product ``Q @ U.T`` followed by a partial sort (:func:`numpy.argpartition`) per row.

Analogies (Mikolov et al. 2013; Levy & Goldberg 2014), for "a is to b as c is to ?":

- 3CosAdd: ``argmax_d cos(d, b - a + c)`` (unit vectors; :meth:`KeyedVectors.most_similar`)
- 3CosMul: ``argmax_d cos'(d, b) cos'(d, c) / (cos'(d, a) + 1e-6)`` with ``cos' = (1 + cos) / 2``
  (:meth:`KeyedVectors.most_similar_cosmul`)

Query words are never returned as answers (gensim's convention).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from seqlab.embeddings.formats import (
    EmbeddingFormatError,
    check_vectors_finite,
    read_vectors,
    write_vectors,
)

if TYPE_CHECKING:
    from seqlab.embeddings.evaluate import AnalogyResult, PairsResult

# (Q, R) float32 scores are produced in slices of at most this many elements (~128 MiB),
# so that 1,000 queries against 200,000 words never allocate 800 MB at once.
_SCORE_BLOCK = 32 * 1024 * 1024


class UnknownWordError(KeyError, ValueError):
    """Some query words have no vector; the message lists all of them."""

    def __init__(self, words: Sequence[str], vocab_size: int):
        self.words = list(words)
        shown = ", ".join(repr(w) for w in self.words[:20])
        more = f" (and {len(self.words) - 20} more)" if len(self.words) > 20 else ""
        super().__init__(
            f"unknown word{'s' if len(self.words) > 1 else ''} {shown}{more}: not among the "
            f"{vocab_size:,} words of these vectors. Check spelling and case, or train with a "
            "lower min_count (--min-count) or use fastText vectors, which build vectors for unseen "
            "words"
        )

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


Key = str | np.ndarray | tuple[str | np.ndarray, float]


class KeyedVectors:
    """A vocabulary of words, each with a float32 vector, and the queries people run on them.

    Parameters
    ----------
    words : sequence of str
        The vocabulary; ``words[i]`` owns row ``i`` of ``vectors``. Usually sorted by descending
        frequency, which is what ``restrict_vocab`` arguments rely on.
    vectors : np.ndarray, shape (n, d)
        One row per word; converted to float32 (a float32 array or memmap is used as is).
    counts : np.ndarray, shape (n,), optional
        Corpus frequency of each word (int64), when known.
    check_finite : bool
        Refuse vectors holding NaN or ±inf (a ``ValueError`` names the first such word): such a
        word has NaN cosine with everything and would silently drop out of every answer.

    Attributes
    ----------
    index_to_key : list[str]
        Row index -> word.
    key_to_index : dict[str, int]
        Word -> row index.
    vectors : np.ndarray, shape (n, d), float32
    counts : np.ndarray or None, shape (n,), int64
    vector_size : int
        ``d``.

    Examples
    --------
    >>> import numpy as np
    >>> kv = KeyedVectors(["king", "queen", "man", "woman"],
    ...                   np.array([[1, 1], [1, -1], [2, 1.1], [2, -0.9]], dtype=np.float32))
    >>> kv.vector_size, len(kv), "king" in kv
    (2, 4, True)
    >>> kv.most_similar(positive=["queen", "man"], negative=["woman"], topn=1)[0][0]
    'king'
    >>> round(kv.similarity("king", "man"), 3)
    0.96
    """

    def __init__(
        self,
        words: Sequence[str],
        vectors: np.ndarray,
        counts: np.ndarray | Sequence[int] | None = None,
        check_finite: bool = True,
    ):
        words = list(words)
        key_to_index = {w: i for i, w in enumerate(words)}
        if len(key_to_index) != len(words):
            seen: set[str] = set()
            dups = [w for w in words if w in seen or seen.add(w)]
            raise ValueError(f"duplicate words {dups[:10]!r}: every word needs exactly one vector")
        if counts is not None:
            counts = np.asarray(counts, dtype=np.int64)
            if counts.shape != (len(words),):
                raise ValueError(f"counts must have shape ({len(words)},), got {counts.shape}")
        self.index_to_key: list[str] = words
        self.key_to_index: dict[str, int] = key_to_index
        self.counts: np.ndarray | None = counts
        self.vectors = vectors  # validated by the setter
        if check_finite:
            check_vectors_finite(self.index_to_key, self._vectors)

    @property
    def vectors(self) -> np.ndarray:
        """The raw vectors, shape (n, d) float32; row ``i`` belongs to ``index_to_key[i]``."""
        return self._vectors

    @vectors.setter
    def vectors(self, value: np.ndarray) -> None:
        value = np.asarray(value, dtype=np.float32)  # a float32 array or memmap is not copied
        if value.ndim != 2:
            raise ValueError(f"vectors must be 2-D (n_words, vector_size), got shape {value.shape}")
        if len(value) != len(self.index_to_key):
            raise ValueError(
                f"{len(self.index_to_key)} words but {len(value)} vectors: pass one row per word"
            )
        self._vectors = value
        self._unit = None  # new vectors (e.g. after more training): recompute unit vectors

    # ------------------------------------------------------------------ container protocol
    @property
    def vector_size(self) -> int:
        return self.vectors.shape[1]

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, word: object) -> bool:
        return word in self.key_to_index

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self):,} words x {self.vector_size} dims)"

    def __getitem__(self, word: str | Sequence[str]) -> np.ndarray:
        """The vector of ``word`` (shape (d,)), or of a list of words (shape (k, d))."""
        if isinstance(word, str):
            return self.get_vector(word)
        return np.stack([self.get_vector(w) for w in word])

    def get_vector(self, word: str, norm: bool = False) -> np.ndarray:
        """The raw (or unit-length, ``norm=True``) vector of ``word``, shape (d,).

        Unknown words get the subclass' out-of-vocabulary vector if it has one, else
        :class:`UnknownWordError`.
        """
        index = self.key_to_index.get(word)
        if index is not None:
            return self.unit_vectors[index] if norm else self.vectors[index]
        vector = self._oov_vector(word)
        if vector is None:
            raise UnknownWordError([word], len(self))
        vector = np.asarray(vector, dtype=np.float32)
        return _unit(vector) if norm else vector

    def _oov_vector(self, word: str) -> np.ndarray | None:
        """Vector for a word outside the vocabulary; ``None`` means "unknown word".

        Subclasses that can build vectors for unseen words (fastText: sum of character n-gram
        vectors) override this; every query then accepts such words.
        """
        return None

    @property
    def unit_vectors(self) -> np.ndarray:
        """``vectors`` scaled to unit length (cached), shape (n, d) float32; zero rows stay zero."""
        if self._unit is None:
            # Squares summed in float64: float32 would overflow for components above ~1e19.
            norms = np.sqrt(np.einsum("ij,ij->i", self.vectors, self.vectors, dtype=np.float64))
            scale = (1.0 / np.where(norms == 0, 1.0, norms)).astype(np.float32)  # (n,)
            self._unit = self.vectors * scale[:, None]
        return self._unit

    @property
    def norms(self) -> np.ndarray:
        """Euclidean length of every vector, shape (n,)."""
        return np.linalg.norm(self.vectors, axis=1)

    def _check_known(self, words: Iterable[str]) -> None:
        """Raise one error naming every word that has neither a row nor an OOV vector."""
        unknown = [
            w
            for w in dict.fromkeys(words)
            if w not in self.key_to_index and self._oov_vector(w) is None
        ]
        if unknown:
            raise UnknownWordError(unknown, len(self))

    # ------------------------------------------------------------------ queries
    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words.

        Examples
        --------
        >>> kv = KeyedVectors(["a", "b"], np.array([[1, 0], [1, 1]], dtype=np.float32))
        >>> round(kv.similarity("a", "b"), 4)
        0.7071
        """
        self._check_known([w1, w2])
        return float(np.dot(self.get_vector(w1, norm=True), self.get_vector(w2, norm=True)))

    def _weighted_keys(
        self, positive: Key | Sequence[Key] | None, negative: Key | Sequence[Key] | None
    ) -> tuple[list[np.ndarray], list[float], list[int]]:
        """Unit vectors, weights (+1 / -1 unless given) and vocabulary rows of the query keys."""
        vectors, weights, rows = [], [], []
        unknown = []
        for items, sign in ((_as_list(positive), 1.0), (_as_list(negative), -1.0)):
            for item in items:
                key, weight = item if isinstance(item, tuple) else (item, sign)
                if isinstance(key, np.ndarray):
                    vectors.append(_unit(np.asarray(key, dtype=np.float32)))
                else:
                    index = self.key_to_index.get(key)
                    if index is not None:
                        rows.append(index)
                        vectors.append(self.unit_vectors[index])
                    else:
                        oov = self._oov_vector(key)
                        if oov is None:
                            unknown.append(key)
                            continue
                        vectors.append(_unit(np.asarray(oov, dtype=np.float32)))
                weights.append(float(weight))
        if unknown:
            raise UnknownWordError(list(dict.fromkeys(unknown)), len(self))
        if not vectors:
            raise ValueError("most_similar needs at least one positive or negative word")
        return vectors, weights, rows

    def most_similar(
        self,
        positive: Key | Sequence[Key] | None = None,
        negative: Key | Sequence[Key] | None = None,
        topn: int = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """Words closest to the mean unit vector of ``positive`` minus ``negative`` (3CosAdd).

        ``target = normalize(sum_i w_i * u_i / sum_i |w_i|)`` with ``w = +1`` for positive and
        ``-1`` for negative keys (or the weight of a ``(key, weight)`` pair); the answer ranks
        words by ``cos(target, u_d)``. Only the first ``restrict_vocab`` words are searched; the
        query words themselves are never returned. Keys may also be raw vectors (np.ndarray).

        Returns
        -------
        list of (word, cosine), best first, at most ``topn`` long.

        Examples
        --------
        >>> kv = KeyedVectors(["korea", "seoul", "japan", "tokyo", "pizza"],
        ...     np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [-1, -1, -1]], np.float32))
        >>> kv.most_similar(positive=["korea", "tokyo"], negative=["seoul"], topn=1)[0][0]
        'japan'
        """
        _check_query_sizes(topn, restrict_vocab)
        if topn == 0:
            return []
        vectors, weights, rows = self._weighted_keys(positive, negative)
        w = np.asarray(weights, dtype=np.float32)[:, None]  # (k, 1)
        target = _unit((w * np.stack(vectors)).sum(axis=0) / np.abs(w).sum())  # (d,)
        return self._top(target[None, :], [rows], topn, restrict_vocab)[0]

    def most_similar_cosmul(
        self,
        positive: Key | Sequence[Key] | None = None,
        negative: Key | Sequence[Key] | None = None,
        topn: int = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """Words ranked by 3CosMul (Levy & Goldberg 2014, eq. 4).

        ``score(d) = prod_{p in positive} s(d, p) / (prod_{m in negative} s(d, m) + 1e-6)``
        with cosines shifted to [0, 1]: ``s = (1 + cos) / 2``. Less dominated by one large
        similarity than 3CosAdd. Query words are excluded; ``restrict_vocab`` limits the search
        to the first N words.

        Examples
        --------
        >>> kv = KeyedVectors(["korea", "seoul", "japan", "tokyo", "pizza"],
        ...     np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [-1, -1, -1]], np.float32))
        >>> kv.most_similar_cosmul(positive=["korea", "tokyo"], negative=["seoul"], topn=1)[0][0]
        'japan'
        """
        _check_query_sizes(topn, restrict_vocab)
        if topn == 0:
            return []
        pos, _, rows = self._weighted_keys(positive, None)
        neg, _, neg_rows = self._weighted_keys(None, negative) if negative else ([], [], [])
        rows = rows + neg_rows
        unit = self.unit_vectors[:restrict_vocab]  # (R, d)
        scores = np.prod([(1 + unit @ p) / 2 for p in pos], axis=0)
        if neg:
            scores = scores / (np.prod([(1 + unit @ m) / 2 for m in neg], axis=0) + 1e-6)
        return self._rank(scores[None, :].astype(np.float32), [rows], topn)[0]

    def analogy(
        self, a: str, b: str, c: str, topn: int = 1, method: str = "3cosadd"
    ) -> list[tuple[str, float]]:
        """Words closest to ``a - b + c``: ``analogy("korea", "seoul", "tokyo")`` -> japan.

        Read it as "a is to b as ? is to c" (korea is to seoul as japan is to tokyo).
        ``method`` is ``"3cosadd"`` (:meth:`most_similar`) or ``"3cosmul"``
        (:meth:`most_similar_cosmul`).

        Examples
        --------
        >>> kv = KeyedVectors(["korea", "seoul", "japan", "tokyo", "pizza"],
        ...     np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [-1, -1, -1]], np.float32))
        >>> kv.analogy("korea", "seoul", "tokyo")[0][0]
        'japan'
        """
        if method == "3cosadd":
            return self.most_similar(positive=[a, c], negative=[b], topn=topn)
        if method == "3cosmul":
            return self.most_similar_cosmul(positive=[a, c], negative=[b], topn=topn)
        raise ValueError(f"unknown analogy method {method!r}: use '3cosadd' or '3cosmul'")

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word farthest (by cosine) from the normalized mean of all given words.

        Examples
        --------
        >>> kv = KeyedVectors(["cat", "dog", "cow", "car"],
        ...     np.array([[1, 0.1], [1, 0.2], [1, 0], [0, 1]], dtype=np.float32))
        >>> kv.doesnt_match(["cat", "dog", "car", "cow"])
        'car'
        """
        words = list(words)
        if not words:
            raise ValueError("doesnt_match needs at least one word")
        self._check_known(words)
        unit = np.stack([self.get_vector(w, norm=True) for w in words])  # (k, d)
        return words[int(np.argmin(unit @ _unit(unit.mean(axis=0))))]

    def nearest(
        self, words: Sequence[str] | str, topn: int = 10, restrict_vocab: int | None = None
    ) -> list[list[tuple[str, float]]]:
        """Nearest neighbours of many words at once: one matrix product, one partial sort.

        Equivalent to ``[kv.most_similar(w, topn=topn) for w in words]`` but batched, which is
        many times faster for long lists (see ``benchmarks/queries.py``).

        Examples
        --------
        >>> kv = KeyedVectors(["a", "b", "c"], np.array([[1, 0], [1, .1], [0, 1]], np.float32))
        >>> [[w for w, _ in row] for row in kv.nearest(["a", "c"], topn=1)]
        [['b'], ['b']]
        """
        words = [words] if isinstance(words, str) else list(words)
        _check_query_sizes(topn, restrict_vocab)
        self._check_known(words)
        if topn == 0:
            return [[] for _ in words]
        queries = np.stack([self.get_vector(w, norm=True) for w in words])  # (Q, d)
        rows = [[self.key_to_index[w]] if w in self.key_to_index else [] for w in words]
        return self._top(queries, rows, topn, restrict_vocab)

    def _top(
        self,
        queries: np.ndarray,
        exclude: Sequence[Sequence[int]],
        topn: int,
        restrict_vocab: int | None,
    ) -> list[list[tuple[str, float]]]:
        """Top-``topn`` cosines of unit ``queries`` (Q, d) against the first ``restrict_vocab``."""
        unit = self.unit_vectors[:restrict_vocab]  # (R, d)
        results: list[list[tuple[str, float]]] = []
        step = max(1, _SCORE_BLOCK // max(1, unit.shape[0]))
        for start in range(0, len(queries), step):
            scores = queries[start : start + step] @ unit.T  # (q, R)
            results += self._rank(scores, exclude[start : start + step], topn)
        return results

    def _rank(
        self, scores: np.ndarray, exclude: Sequence[Sequence[int]], topn: int
    ) -> list[list[tuple[str, float]]]:
        """Best ``topn`` entries of each row of ``scores`` (q, R) (overwritten), minus excluded."""
        for i, rows in enumerate(exclude):
            scores[i, [r for r in rows if r < scores.shape[1]]] = -np.inf
        best, best_scores = top_k(scores, topn)
        words = self.index_to_key
        return [
            [(words[j], s) for j, s in zip(b.tolist(), row.tolist(), strict=True) if s > -np.inf]
            for b, row in zip(best, best_scores, strict=True)
        ]

    # ------------------------------------------------------------------ evaluation
    def evaluate_analogies(
        self,
        path: str | os.PathLike,
        restrict_vocab: int = 30000,
        case_insensitive: bool = True,
        method: str = "3cosadd",
    ) -> AnalogyResult:
        """Accuracy on an analogy file (Google ``questions-words.txt`` format), per section.

        Same numbers as gensim 4.4's ``evaluate_word_analogies`` with the same settings; see
        :func:`seqlab.embeddings.evaluate.evaluate_analogies`.
        """
        from seqlab.embeddings.evaluate import evaluate_analogies  # evaluate imports us: no cycle

        return evaluate_analogies(self, path, restrict_vocab, case_insensitive, method)

    def evaluate_pairs(
        self,
        path: str | os.PathLike,
        restrict_vocab: int = 300000,
        case_insensitive: bool = True,
    ) -> PairsResult:
        """Spearman / Pearson correlation with human similarity ratings (WordSim, SimLex, ...).

        Same numbers as gensim 4.4's ``evaluate_word_pairs``; see
        :func:`seqlab.embeddings.evaluate.evaluate_pairs`.
        """
        from seqlab.embeddings.evaluate import evaluate_pairs  # evaluate imports us: no cycle

        return evaluate_pairs(self, path, restrict_vocab, case_insensitive)

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike, format: str | None = None) -> None:
        """Write the vectors atomically in ``format``.

        Formats: ``"word2vec-bin"``, ``"word2vec-txt"``, ``"glove"`` (text, no header line),
        ``"fasttext-vec"`` (= word2vec text), ``"seqlab"`` (safetensors + JSON sidecar, can be
        memory-mapped, keeps counts). ``None`` picks by suffix: ``.bin``, ``.txt``, ``.vec``,
        ``.safetensors``; anything else is word2vec binary.
        """
        write_vectors(path, self.index_to_key, self.vectors, self.counts, format)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike,
        format: str | None = None,
        mmap: bool = False,
        limit: int | None = None,
        errors: str = "strict",
        check_finite: bool = True,
    ) -> KeyedVectors:
        """Read vectors from ``path``; ``format`` is sniffed from the content when ``None``.

        ``mmap=True`` maps the "seqlab" (safetensors) format read-only instead of reading it;
        ``limit`` keeps only the first N words; ``errors`` is the UTF-8 decoding policy for
        words (``"strict"``, ``"replace"``, ``"ignore"``); ``check_finite=False`` accepts
        vectors holding NaN or inf (by default the first such word is named in an error; with
        ``mmap=True`` that check reads the file once, which ``check_finite=False`` skips).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> kv = KeyedVectors(["한국", "서울"], np.eye(2, dtype=np.float32))
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "v.bin"
        >>> kv.save(path)
        >>> KeyedVectors.load(path).index_to_key
        ['한국', '서울']
        """
        words, vectors, counts = read_vectors(
            path, format, mmap=mmap, limit=limit, errors=errors, check_finite=check_finite
        )
        try:
            return cls(words, vectors, counts, check_finite=False)  # checked while reading
        except ValueError as e:  # duplicate words: name the file they came from
            raise EmbeddingFormatError(f"{path}: {e}") from None


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of the ``k`` largest entries of each row, best first.

    ``scores`` (q, R) is overwritten. For small ``k`` a few vectorized argmax passes beat
    :func:`numpy.argpartition` several times over (one SIMD scan per pass instead of an
    introselect per row); larger ``k`` uses argpartition. Rows shorter than ``k`` are padded
    with ``-inf`` values.

    Examples
    --------
    >>> top_k(np.array([[0.1, 0.9, 0.5]], dtype=np.float32), 2)[0].tolist()
    [[1, 2]]
    """
    q, width = scores.shape
    if k > 32 and k < width:
        best = np.argpartition(-scores, k - 1, axis=1)[:, :k]  # (q, k) unordered
        values = np.take_along_axis(scores, best, axis=1)
        order = np.argsort(-values, axis=1, kind="stable")
        return np.take_along_axis(best, order, axis=1), np.take_along_axis(values, order, axis=1)
    rows = np.arange(q)
    best = np.zeros((q, k), dtype=np.int64)
    values = np.full((q, k), -np.inf, dtype=scores.dtype)
    for j in range(min(k, width)):
        best[:, j] = scores.argmax(axis=1)
        values[:, j] = scores[rows, best[:, j]]
        scores[rows, best[:, j]] = -np.inf
    return best, values


def _check_query_sizes(topn: int, restrict_vocab: int | None) -> None:
    """A negative ``topn`` or an empty search range is a mistake, not a request for nothing."""
    if isinstance(topn, bool) or not isinstance(topn, (int, np.integer)) or topn < 0:
        raise ValueError(f"topn={topn!r}: pass how many answers to return, an integer >= 0")
    if restrict_vocab is not None and (
        isinstance(restrict_vocab, bool)
        or not isinstance(restrict_vocab, (int, np.integer))
        or restrict_vocab < 1
    ):
        raise ValueError(
            f"restrict_vocab={restrict_vocab!r}: pass how many of the most frequent words to "
            "search, an integer >= 1 (None searches them all)"
        )


def _unit(vector: np.ndarray) -> np.ndarray:
    """``vector / |vector|`` as float32 (a zero vector stays zero)."""
    norm = np.linalg.norm(vector)
    return (vector / norm if norm > 0 else vector).astype(np.float32)


def _as_list(keys: Key | Sequence[Key] | None) -> list[Key]:
    """Accept one key, a list of keys or nothing (gensim's calling conventions)."""
    if keys is None:
        return []
    is_weighted_pair = (
        isinstance(keys, tuple) and len(keys) == 2 and isinstance(keys[1], (int, float))
    )
    if isinstance(keys, (str, np.ndarray)) or is_weighted_pair:
        return [keys]
    return list(keys)
