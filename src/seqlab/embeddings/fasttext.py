"""fastText (Bojanowski et al. 2017): word2vec whose input vectors are built from character n-grams.

A word ``w`` is wrapped as ``<w>`` and cut into its character n-grams of lengths
``minn..maxn`` (3..6): ``where`` -> ``<wh, whe, her, ere, re>, <whe, ..., <where>``. Each n-gram
is hashed (32-bit FNV-1a over its UTF-8 bytes, exactly as fastText does, so the same n-grams
share the same buckets) into one of ``bucket`` rows. The input vector of a word is the mean of
its own row and its n-gram rows::

    v_w = (z_w + sum_{g in G(w)} z_g) / (1 + |G(w)|)

and training is word2vec's (skip-gram or CBOW, negative sampling or hierarchical softmax) on
these means. Words never seen in training still get a vector: the mean of their n-gram rows
(:class:`FastTextKeyedVectors`).

With ``subwords="jamo"`` the n-grams are taken over the word's Hangul letters instead of its
characters (:func:`seqlab.text.jamo.decompose`: 밥을 -> ``ㅂㅏㅂㅇㅡㄹ``), as Park et al. (2018) do
for Korean: a syllable is three letters, so minn=3..maxn=6 spans one or two syllables and eojeols
that share a stem or a particle share n-grams.

Only the buckets that some vocabulary word uses are ever trained; they are stored compactly
(bucket id + row), which keeps the model a fraction of fastText's 2M x d matrix.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from seqlab.checks import check_int
from seqlab.embeddings.formats import EmbeddingFormatError, check_vectors_finite
from seqlab.embeddings.keyedvectors import KeyedVectors
from seqlab.embeddings.training import Corpus
from seqlab.embeddings.word2vec import Word2Vec
from seqlab.io import load_arrays, save_arrays
from seqlab.text.jamo import decompose

_NATIVE_TAG = "seqlab-keyedvectors"  # the KeyedVectors "seqlab" format, plus n-gram arrays
#: What n-grams are cut from: the word's characters, or its Hangul letters (jamo).
SUBWORDS = ("chars", "jamo")


def char_ngrams(word: str, minn: int = 3, maxn: int = 6) -> list[str]:
    """The character n-grams of ``<word>``, in fastText's order (by start, then length).

    Examples
    --------
    >>> char_ngrams("cat", 3, 4)
    ['<ca', '<cat', 'cat', 'cat>', 'at>']
    """
    w = f"<{word}>"
    grams = []
    for i in range(len(w)):
        for n in range(minn, min(maxn, len(w) - i) + 1):
            if n == 1 and (i == 0 or i + n == len(w)):  # fastText skips a lone "<" or ">"
                continue
            grams.append(w[i : i + n])
    return grams


def fnv1a(strings: Sequence[str]) -> np.ndarray:
    """fastText's 32-bit FNV-1a hash of each string's UTF-8 bytes, vectorised, (n,) uint32.

    fastText XORs each byte as a *signed* char, so bytes >= 0x80 are sign-extended first.

    Examples
    --------
    >>> fnv1a(["<ca", "é"]).tolist()
    [1066916747, 1023043777]
    """
    data = [s.encode("utf-8") for s in strings]
    lengths = np.fromiter(map(len, data), np.int64, len(data))
    width = int(lengths.max()) if len(data) else 0
    flat = np.frombuffer(b"".join(data), np.uint8)
    padded = np.zeros((len(data), width), np.uint8)
    padded[np.arange(width) < lengths[:, None]] = flat
    signed = padded.astype(np.int8).astype(np.int64) & 0xFFFFFFFF  # sign-extend, as uint32
    h = np.full(len(data), 2166136261, np.uint64)
    for j in range(width):
        live = j < lengths
        h = np.where(live, ((h ^ signed[:, j].astype(np.uint64)) * 16777619) & 0xFFFFFFFF, h)
    return h.astype(np.uint32)


def subword_ngrams(word: str, minn: int, maxn: int, subwords: str = "chars") -> list[str]:
    """The n-grams of ``word``'s characters, or of its Hangul letters with ``subwords="jamo"``.

    Examples
    --------
    >>> subword_ngrams("밥", 3, 4, "jamo")
    ['<ㅂㅏ', '<ㅂㅏㅂ', 'ㅂㅏㅂ', 'ㅂㅏㅂ>', 'ㅏㅂ>']
    """
    return char_ngrams(decompose(word) if subwords == "jamo" else word, minn, maxn)


def check_subwords(subwords: str) -> str:
    """Reject a ``subwords`` setting outside :data:`SUBWORDS`, naming the valid ones."""
    if subwords not in SUBWORDS:
        raise ValueError(f"subwords={subwords!r} is not one of {', '.join(SUBWORDS)}")
    return subwords


def ngram_buckets(
    word: str, minn: int, maxn: int, bucket: int, subwords: str = "chars"
) -> np.ndarray:
    """Bucket ids (int64) of the n-grams of ``word``."""
    grams = subword_ngrams(word, minn, maxn, subwords)
    if not grams:
        return np.zeros(0, np.int64)
    return fnv1a(grams).astype(np.int64) % bucket


class FastTextKeyedVectors(KeyedVectors):
    """KeyedVectors that also answer for unseen words, from their character n-grams.

    Parameters
    ----------
    words, vectors, counts
        As :class:`KeyedVectors` (``vectors`` are the words' full fastText vectors).
    ngram_vectors : np.ndarray, shape (m, d)
        Trained n-gram rows.
    ngram_buckets : np.ndarray, shape (m,), int64, increasing
        Bucket id of each row.
    minn, maxn, bucket, subwords
        The n-gram settings used in training.

    A word outside the vocabulary gets the mean of the rows of its n-grams' buckets, counting
    only buckets seen in training (fastText also adds its never-trained random rows); a word
    none of whose n-grams was seen stays unknown.

    Examples
    --------
    >>> from seqlab.embeddings.fasttext import FastText
    >>> text = [["walking", "talking", "walked", "talked"]] * 50
    >>> wv = FastText(vector_size=8, min_count=1, epochs=1, workers=1).train(text, progress=False)
    >>> "walks" in wv, wv["walks"].shape
    (False, (8,))
    """

    def __init__(
        self,
        words: Sequence[str],
        vectors: np.ndarray,
        counts: np.ndarray | Sequence[int] | None = None,
        ngram_vectors: np.ndarray | None = None,
        ngram_buckets: np.ndarray | None = None,
        minn: int = 3,
        maxn: int = 6,
        bucket: int = 2_000_000,
        check_finite: bool = True,
        subwords: str = "chars",
    ) -> None:
        super().__init__(words, vectors, counts, check_finite=check_finite)
        d = self.vector_size
        self.ngram_vectors = np.asarray(
            ngram_vectors if ngram_vectors is not None else np.zeros((0, d)), np.float32
        )
        self.ngram_buckets = np.asarray(
            ngram_buckets if ngram_buckets is not None else np.zeros(0), np.int64
        )
        if self.ngram_vectors.shape != (len(self.ngram_buckets), d):
            raise ValueError(
                f"ngram_vectors has shape {self.ngram_vectors.shape}, expected "
                f"({len(self.ngram_buckets)}, {d}): one row per bucket id"
            )
        self.minn, self.maxn, self.bucket = int(minn), int(maxn), int(bucket)
        self.subwords = check_subwords(subwords)
        if check_finite:
            buckets = self.ngram_buckets
            check_vectors_finite(lambda i: f"n-gram bucket {buckets[i]}", self.ngram_vectors)

    def _oov_vector(self, word: str) -> np.ndarray | None:
        if len(self.ngram_buckets) == 0:
            return None
        wanted = ngram_buckets(word, self.minn, self.maxn, self.bucket, self.subwords)
        pos = np.minimum(np.searchsorted(self.ngram_buckets, wanted), len(self.ngram_buckets) - 1)
        hits = pos[self.ngram_buckets[pos] == wanted]
        if len(hits) == 0:
            return None
        return self.ngram_vectors[hits].mean(axis=0)

    def save(self, path: str | os.PathLike, format: str | None = None) -> None:
        """Save; the ``"seqlab"`` format (``.safetensors``) keeps the n-grams, so
        :meth:`load` restores out-of-vocabulary vectors. Other formats keep the words only."""
        is_native = format == "seqlab" or (format is None and Path(path).suffix == ".safetensors")
        if not is_native:
            super().save(path, format)
            return
        arrays = {
            "vectors": self.vectors,
            "ngram_vectors": self.ngram_vectors,
            "ngram_buckets": self.ngram_buckets,
        }
        if self.counts is not None:
            arrays["counts"] = self.counts
        meta = {
            "format": _NATIVE_TAG,
            "version": 1,
            "words": self.index_to_key,
            "fasttext": {
                "minn": self.minn,
                "maxn": self.maxn,
                "bucket": self.bucket,
                "subwords": self.subwords,
            },
        }
        save_arrays(path, arrays, meta)

    @classmethod
    def load(cls, path: str | os.PathLike, format: str | None = None, check_finite: bool = True):
        """Load a model saved by :meth:`save` in the ``"seqlab"`` format (with n-grams).

        ``check_finite=False`` accepts word or n-gram vectors holding NaN or inf (by default the
        first one is named in an error).
        """
        if format not in (None, "seqlab"):
            raise EmbeddingFormatError(
                f"{path}: FastTextKeyedVectors loads the 'seqlab' (.safetensors) format only; use "
                "KeyedVectors.load for plain vectors"
            )
        arrays, meta = load_arrays(path, what="fastText model")
        if "fasttext" not in meta or meta.get("format") != _NATIVE_TAG:
            raise EmbeddingFormatError(
                f"{path}: no fastText n-grams in this file; load it with KeyedVectors.load, or "
                "save the FastTextKeyedVectors with format='seqlab'"
            )
        missing = {"vectors", "ngram_vectors", "ngram_buckets"} - set(arrays)
        if missing or not isinstance(meta.get("words"), list):
            parts = sorted(missing) + ([] if isinstance(meta.get("words"), list) else ["words"])
            raise EmbeddingFormatError(
                f"{path}: this fastText model lacks {', '.join(parts)}; it was not saved by "
                "FastTextKeyedVectors.save or is damaged: save the model again"
            )
        try:
            return cls(
                meta["words"],
                arrays["vectors"],
                arrays.get("counts"),
                arrays["ngram_vectors"],
                arrays["ngram_buckets"],
                check_finite=check_finite,
                **meta["fasttext"],
            )
        except ValueError as e:  # NaN rows, shapes: name the file they came from
            raise EmbeddingFormatError(f"{path}: {e}") from None


class FastText(Word2Vec):
    """Train fastText vectors (word2vec on character n-gram means); see :class:`Word2Vec`.

    Parameters
    ----------
    minn, maxn : int
        Shortest and longest character n-grams (``maxn=0``: no n-grams, plain word2vec).
    bucket : int
        Number of hash buckets for the n-grams.
    subwords : {"chars", "jamo"}
        Cut n-grams from the characters, or from the Hangul letters (Korean, Park et al. 2018).
    alpha : float, optional
        Initial learning rate; default 0.05 (fastText's).
    ns_exponent : float
        fastText draws negatives from counts**0.5.
    **kwargs
        Everything else as :class:`Word2Vec` (``algo`` defaults to "skipgram").

    Examples
    --------
    >>> text = [["walking", "talking", "walked", "talked"]] * 50
    >>> wv = FastText(vector_size=8, min_count=1, epochs=1, workers=1).train(text, progress=False)
    >>> type(wv).__name__, wv.vectors.shape
    ('FastTextKeyedVectors', (4, 8))
    """

    def __init__(
        self,
        algo: str = "skipgram",
        minn: int = 3,
        maxn: int = 6,
        bucket: int = 2_000_000,
        ns_exponent: float = 0.5,
        subwords: str = "chars",
        **kwargs,
    ) -> None:
        self.subwords = check_subwords(subwords)
        minn = check_int("minn", minn, low=1)
        maxn = check_int("maxn", maxn, low=0)
        if maxn and minn > maxn:
            raise ValueError(f"minn={minn} > maxn={maxn}: need minn <= maxn (maxn=0: no n-grams)")
        self.minn, self.maxn = minn, maxn
        self.bucket = check_int("bucket", bucket, low=1)
        super().__init__(algo, ns_exponent=ns_exponent, **kwargs)

    def _default_alpha(self) -> float:
        return 0.05

    def hyperparameters(self) -> dict:
        return {
            **super().hyperparameters(),
            "minn": self.minn,
            "maxn": self.maxn,
            "bucket": self.bucket,
            "subwords": self.subwords,
        }

    def _input_rows(self, corpus: Corpus) -> tuple[int, np.ndarray, np.ndarray]:
        """Word ``w`` reads row ``w`` and the rows of its n-grams' buckets (renumbered
        ``V, V+1, ...`` in increasing bucket order, so only used buckets take memory)."""
        words = corpus.vocab.itos
        n = len(words)
        grams_per_word = [
            subword_ngrams(w, self.minn, self.maxn, self.subwords) if self.maxn else []
            for w in words
        ]
        lengths = np.fromiter(map(len, grams_per_word), np.int64, n)
        flat = [g for grams in grams_per_word for g in grams]
        buckets = (fnv1a(flat).astype(np.int64) % self.bucket) if flat else np.zeros(0, np.int64)
        self._buckets, rank = np.unique(buckets, return_inverse=True)
        sub_ptr = np.zeros(n + 1, np.int64)
        sub_ptr[1:] = np.cumsum(lengths + 1)
        sub_idx = np.empty(sub_ptr[-1], np.int32)
        own = sub_ptr[:-1]
        sub_idx[own] = np.arange(n)
        is_gram = np.ones(len(sub_idx), bool)
        is_gram[own] = False
        sub_idx[is_gram] = n + rank
        return n + len(self._buckets), sub_ptr.astype(np.int32), sub_idx

    def _kernel(self):
        from seqlab.embeddings import _kernels_w2v as K  # numba compiles on import: on first use

        heads = (self._syn1neg, self._syn1, self._points, self._codes, self._code_lens)
        kernel = K.cbow_chunk if self.algo == "cbow" else K.subword_skipgram_chunk
        return kernel, (self._syn0, self._sub_ptr, self._sub_idx, *heads), ()

    def _vectors(self) -> np.ndarray:
        """(V, d): each word's mean over its own row and its n-gram rows."""
        from scipy.sparse import csr_matrix  # seconds to import: only when vectors are built

        lengths = np.diff(self._sub_ptr)
        weights = np.repeat(1.0 / lengths, lengths).astype(np.float32)
        mean = csr_matrix(
            (weights, self._sub_idx, self._sub_ptr), shape=(len(lengths), len(self._syn0))
        )
        return np.asarray(mean @ self._syn0, dtype=np.float32)  # (V, R) @ (R, d)

    def _keyed_vectors(self, corpus: Corpus) -> FastTextKeyedVectors:
        n = len(corpus.vocab)
        return FastTextKeyedVectors(
            corpus.vocab.itos,
            self._vectors(),
            corpus.vocab.counts,
            self._syn0[n:].copy(),
            self._buckets,
            self.minn,
            self.maxn,
            self.bucket,
            subwords=self.subwords,
        )
