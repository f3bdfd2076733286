"""word2vec (Mikolov et al. 2013): skip-gram and CBOW, negative sampling and hierarchical softmax.

Every word ``w`` has an input vector ``v_w`` (row of ``syn0``) and output vectors: ``u_w``
(``syn1neg``) for negative sampling, or one ``u_n`` per inner node ``n`` of a Huffman tree
(``syn1``) for hierarchical softmax. With ``sigma(x) = 1 / (1 + exp(-x))``, an input ``h``
predicting a target word ``t`` costs

- negative sampling: ``-log sigma(h . u_t) - sum_{k=1..K} log sigma(-h . u_{n_k})``, the
  ``n_k`` drawn from the unigram distribution raised to ``ns_exponent`` (0.75);
- hierarchical softmax: ``-sum_j log sigma((1 - 2 code_j) h . u_{point_j})`` along ``t``'s path.

Skip-gram: ``h = v_c`` for each context word ``c`` of ``t``; CBOW: ``h`` = mean of the context
words' ``v``. Each centre word sees a window shrunk at random to ``1..window`` words per side;
frequent words are dropped with probability ``1 - (sqrt(f / s) + 1) s / f`` (``f`` = the word's
share of the corpus, ``s`` = ``sample``); the learning rate decays linearly from ``alpha`` to
``min_alpha`` over all epochs. ``train`` reports the mean of that cost per example at the end of
every epoch, on a fixed sample of the corpus (``loss_history``), and as it was while training
(``online_loss_history``).
"""

from __future__ import annotations

import heapq
import os
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from seqlab.checks import check_int, check_number
from seqlab.embeddings.keyedvectors import KeyedVectors
from seqlab.embeddings.training import (
    ChunkQueue,
    Corpus,
    EmptyCorpusError,
    check_loss,
    encode_corpus,
    load_checkpoint,
    loss_sample,
    prepare_corpus,
    progress_bar,
    run_workers,
    save_checkpoint,
    split_work,
)

#: Size of the shuffled negative-sampling table (fastText's): ~1e7 draws before it repeats.
NEG_TABLE_SIZE = 10_000_000
_ALGOS = ("skipgram", "cbow")


class Word2Vec:
    """Train word2vec vectors with compiled, multi-threaded (Hogwild) kernels.

    Parameters
    ----------
    algo : {"skipgram", "cbow"}
        Skip-gram (predict the centre word from each context word) or CBOW (from their mean).
    vector_size : int
        Dimension ``d`` of the vectors.
    window : int
        Largest number of context words on each side; each centre word uses ``1..window``.
    negative : int
        Noise words per example for negative sampling (0 = off).
    hs : bool
        Hierarchical softmax over a Huffman tree of the vocabulary.
    sample : float
        Subsampling threshold for frequent words (0 = off).
    min_count : int
        Words seen fewer times are dropped.
    max_vocab : int, optional
        Keep at most this many (the most frequent) words.
    epochs : int
        Passes over the corpus.
    alpha : float, optional
        Initial learning rate; default 0.025 (skip-gram) or 0.05 (CBOW), as word2vec.
    min_alpha : float
        Learning rate reached at the end of the last epoch.
    workers : int
        Threads, taking chunks of the corpus from one queue. ``workers=1`` with a fixed
        ``seed`` gives bit-identical vectors on every run.
    seed : int
        Seed of the initial vectors, the negative table and every worker's random numbers.
    sg : bool, optional
        gensim spelling: ``sg=True`` is ``algo="skipgram"``, ``sg=False`` is ``"cbow"``.
    ns_exponent : float
        Exponent of the counts in the negative-sampling distribution.
    shared_negatives : bool
        Skip-gram: draw the negatives once per centre word and share them across its window
        (Ji et al. 2016: ~1.5× faster, ~0.5 analogy points less on wiki_text8) instead of once
        per (context, centre) pair as word2vec does (the default).

    Attributes
    ----------
    wv : KeyedVectors
        The trained vectors (after :meth:`train`).
    loss_history : list of float
        Loss of the model at the end of each epoch: mean loss per example on a fixed sample of
        the corpus (about 100,000 words, the same examples every epoch, the model not updated
        while it is measured), so the figures are comparable and fall while training improves
        the model. :meth:`evaluate_loss` measures the same on other text.
    online_loss_history : list of float
        Mean loss of each epoch's examples, each measured just before its update (the figure
        of the progress bar, and gensim's ``compute_loss``). It is lowered by recent updates of
        the same words, a help that shrinks with the learning rate: in the last epochs it can
        rise while the model improves (see docs/embeddings.md).
    train_seconds : float
        Wall time of the epochs (corpus preparation excluded).

    Examples
    --------
    >>> sentences = [["cat", "meows", "softly"], ["dog", "barks", "loudly"]] * 200
    >>> model = Word2Vec(vector_size=16, min_count=1, epochs=2, workers=1, seed=3)
    >>> wv = model.train(sentences, progress=False)
    >>> wv.vectors.shape, len(model.loss_history)
    ((6, 16), 2)
    """

    def __init__(
        self,
        algo: str = "skipgram",
        vector_size: int = 100,
        window: int = 5,
        negative: int = 5,
        hs: bool = False,
        sample: float = 1e-3,
        min_count: int = 5,
        max_vocab: int | None = None,
        epochs: int = 5,
        alpha: float | None = None,
        min_alpha: float = 1e-4,
        workers: int = 2,
        seed: int = 1,
        sg: bool | None = None,
        ns_exponent: float = 0.75,
        shared_negatives: bool = False,
    ) -> None:
        if sg is not None:
            algo = "skipgram" if sg else "cbow"
        if algo not in _ALGOS:
            raise ValueError(f"algo must be one of {_ALGOS}, got {algo!r}")
        self.algo = algo
        self.vector_size = check_int("vector_size", vector_size, low=1)
        self.window = check_int("window", window, low=1)
        self.negative = check_int("negative", negative, low=0)
        self.hs = bool(hs)
        if not self.negative and not self.hs:
            raise ValueError("negative=0 and hs=False leave nothing to train; set one of them")
        self.sample = check_number("sample", sample, low=0)
        self.min_count = check_int("min_count", min_count, low=1)
        self.max_vocab = None if max_vocab is None else check_int("max_vocab", max_vocab, low=1)
        self.epochs = check_int("epochs", epochs, low=1)
        alpha = self._default_alpha() if alpha is None else alpha
        self.alpha = check_number("alpha", alpha, low=0, low_open=True)
        self.min_alpha = check_number("min_alpha", min_alpha, low=0)
        if self.min_alpha > self.alpha:
            warnings.warn(
                f"min_alpha={self.min_alpha:g} is above alpha={self.alpha:g}: the learning rate "
                "will grow during training instead of decaying; was that meant?",
                stacklevel=2,
            )
        self.workers = check_int("workers", workers, low=1)
        self.seed = check_int("seed", seed, low=0)
        self.ns_exponent = check_number("ns_exponent", ns_exponent)
        self.shared_negatives = bool(shared_negatives)
        self.wv: KeyedVectors | None = None
        self.loss_history: list[float] = []
        self.online_loss_history: list[float] = []
        self._built_for: Corpus | None = None  # the corpus build() prepared, until train()
        self.train_seconds = 0.0

    def _default_alpha(self) -> float:
        return 0.025 if self.algo == "skipgram" else 0.05

    def hyperparameters(self) -> dict:
        """Every constructor argument and its value (stored in checkpoints)."""
        keys = (
            "algo",
            "vector_size",
            "window",
            "negative",
            "hs",
            "sample",
            "min_count",
            "max_vocab",
            "epochs",
            "alpha",
            "min_alpha",
            "seed",
            "ns_exponent",
            "shared_negatives",
        )
        return {k: getattr(self, k) for k in keys}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------------ training
    def train(
        self,
        corpus: str | os.PathLike | Iterable[Sequence[str]] | Corpus,
        checkpoint: str | os.PathLike | None = None,
        progress: bool = True,
        callbacks: Sequence[Callable[[Word2Vec, int, float], None]] = (),
    ) -> KeyedVectors:
        """Train on ``corpus`` and return the vectors (also kept as ``self.wv``).

        Parameters
        ----------
        corpus : path, iterable of token lists, or Corpus
            A UTF-8 text file (one sentence per line), sentences as lists of words, or a corpus
            already prepared by :func:`seqlab.embeddings.training.prepare_corpus`.
        checkpoint : path, optional
            Saved after every epoch (safetensors + JSON, atomic). If it exists, training resumes
            after its last epoch; with ``workers=1`` the result is bit-identical to an
            uninterrupted run.
        progress : bool
            Show a progress bar (words/s, ETA, running mean loss).
        callbacks : sequence of callables
            ``callback(model, epochs_done, epoch_loss)`` after each epoch (and its checkpoint);
            ``epoch_loss`` is the epoch's entry of ``loss_history``.

        Training starts from fresh weights, except right after :meth:`build` on the same
        prepared corpus: then it starts from the weights and negative table that ``build``
        made (and the caller may have changed).

        Raises
        ------
        EmptyCorpusError, TextDecodeError
            No usable words, or bytes that are not UTF-8.
        TrainingDivergedError
            The loss became NaN or exploded; the message names the learning rate.
        """
        if not isinstance(corpus, Corpus):
            corpus = prepare_corpus(corpus, self.min_count, self.max_vocab)
        if self._built_for is not corpus:
            self._setup(corpus)
        self._built_for = None
        sample = loss_sample(corpus)
        first_epoch = 0
        if checkpoint is not None:
            first_epoch = self._resume(checkpoint, corpus)
        chunks = split_work(corpus)
        workers = min(self.workers, len(chunks))
        total = self.epochs * len(corpus.ids)
        bar = progress_bar(total, first_epoch * len(corpus.ids), None, "w", progress)
        try:
            for epoch in range(first_epoch, self.epochs):
                bar.set_description(
                    f"{type(self).__name__} {self.algo} epoch {epoch + 1}/{self.epochs}"
                )
                started = time.perf_counter()
                sums = np.zeros((workers, 2))  # per worker: loss sum, examples
                queue = ChunkQueue(chunks)
                jobs = [self._job(corpus, w, queue, epoch, sums) for w in range(workers)]
                run_workers(jobs, total, "", progress, bar=bar)
                self.train_seconds += time.perf_counter() - started
                online = check_loss(
                    sums[:, 0].sum(), sums[:, 1].sum(), self.alpha, f"epoch {epoch + 1}"
                )
                if not np.isfinite(self._syn0).all():
                    check_loss(np.nan, 1, self.alpha, f"epoch {epoch + 1}")
                loss = check_loss(*self._frozen_loss(sample), self.alpha, f"epoch {epoch + 1}")
                self.loss_history.append(loss)
                self.online_loss_history.append(online)
                if progress:
                    bar.write(
                        f"epoch {epoch + 1}/{self.epochs}: loss {loss:.4f} (while training "
                        f"{online:.4f})"
                    )
                if checkpoint is not None:
                    self._save_checkpoint(checkpoint, corpus, epoch + 1)
                for callback in callbacks:
                    callback(self, epoch + 1, loss)
        finally:
            bar.close()
        self.wv = self._keyed_vectors(corpus)
        return self.wv

    def build(self, corpus: str | os.PathLike | Iterable[Sequence[str]] | Corpus) -> Corpus:
        """Prepare ``corpus``, fresh weights and sampling tables, without training; return the
        prepared corpus.

        :meth:`train` on the returned corpus then starts from this state: set start values in
        :attr:`weights`, or chosen noise words in :attr:`negative_table`, in between (the
        tests check the kernels against a NumPy reference this way).

        Examples
        --------
        >>> model = Word2Vec(vector_size=4, min_count=1, epochs=1, workers=1)
        >>> corpus = model.build([["a", "b", "c"]] * 20)
        >>> model.weights["syn1neg"][:] = 0.5
        >>> _ = model.train(corpus, progress=False)   # starts from these output vectors
        """
        if not isinstance(corpus, Corpus):
            corpus = prepare_corpus(corpus, self.min_count, self.max_vocab)
        self._setup(corpus)
        self._built_for = corpus
        return corpus

    @property
    def weights(self) -> dict[str, np.ndarray]:
        """The float32 arrays training updates in place, after :meth:`build` or :meth:`train`.

        ``"syn0"`` (R, d): input rows (word2vec: R = V, row ``w`` is word ``w``'s input
        vector; fastText: also the n-gram rows); ``"syn1neg"`` (V, d): output vectors of
        negative sampling; ``"syn1"`` (V - 1, d): output vectors of the inner nodes of the
        Huffman tree (hierarchical softmax). An unused one has a single row of zeros.
        """
        self._require_built()
        return {"syn0": self._syn0, "syn1neg": self._syn1neg, "syn1": self._syn1}

    @property
    def negative_table(self) -> np.ndarray:
        """The noise words of negative sampling, (T,) int32 word ids.

        Each word appears in proportion to ``count ** ns_exponent``, shuffled once. Worker ``k``
        of ``n`` walks the table in order from position ``k * T // n`` on, wrapping around, and
        skips entries equal to the word being predicted: with ``workers=1`` the examples of
        training take their ``negative`` noise words from ``table[0], table[1], ...`` in corpus
        order. Assign an array (after :meth:`build`) to train with chosen noise words; the
        positions restart at the table's beginning.
        """
        self._require_built()
        return self._neg_table

    @negative_table.setter
    def negative_table(self, table) -> None:
        self._require_built()
        table = np.ascontiguousarray(table, dtype=np.int32)
        n_words = len(self._keep)
        if table.ndim != 1 or len(np.unique(table)) < 2 or not 0 <= table.min() < n_words:
            raise ValueError(
                "negative_table must be a 1-D array of word ids (0 <= id < "
                f"{n_words}) holding at least 2 distinct words, got {table!r}"
            )
        if table.max() >= n_words:
            raise ValueError(f"negative_table holds id {table.max()}: the vocabulary has {n_words}")
        self._neg_table = table
        self._states[:, 1] = np.arange(self.workers, dtype=np.uint64) * np.uint64(
            len(table) // self.workers
        )

    def input_rows(self, word: int) -> np.ndarray:
        """The rows of ``weights["syn0"]`` whose mean is the input vector of the word with id
        ``word`` (int32): word2vec: ``[word]``; fastText: the word's own row, then the rows of
        its character n-grams, in :func:`~seqlab.embeddings.fasttext.char_ngrams` order."""
        self._require_built()
        return self._sub_idx[self._sub_ptr[word] : self._sub_ptr[word + 1]]

    def evaluate_loss(
        self, corpus: str | os.PathLike | Iterable[Sequence[str]] | Corpus, seed: int = 0
    ) -> float:
        """Mean loss per example of the current model on ``corpus``, without changing it.

        The examples are drawn as in training (subsampling, shrunk windows, noise words from
        :attr:`negative_table`), from a random state fixed by ``seed``: the same corpus gives
        the same examples at every call, so the figure is comparable between epochs (e.g. in
        a callback, on held-out text). Words outside the model's vocabulary are dropped.

        Examples
        --------
        >>> text = [["a", "b", "c", "d"]] * 50
        >>> model = Word2Vec(vector_size=8, min_count=1, epochs=3, workers=1)
        >>> _ = model.train(text, progress=False)
        >>> model.evaluate_loss(text) == model.loss_history[-1]  # the epoch's loss: the same
        True
        """
        self._require_built()
        if not isinstance(corpus, Corpus):
            corpus = encode_corpus(corpus, self._vocab)
        if len(corpus.ids) == 0:
            raise EmptyCorpusError("no word of the corpus is in the model's vocabulary")
        return check_loss(*self._frozen_loss(corpus, seed), self.alpha, "evaluation")

    def _frozen_loss(self, corpus: Corpus, seed: int = 0) -> tuple[float, int]:
        """``(loss_sum, n_examples)`` of the model on ``corpus``: the kernel with a learning
        rate of 0 (it then updates nothing) and a random state fixed by ``seed``."""
        from seqlab.embeddings import _kernels_w2v as K  # numba compiles on import: on first use

        kernel, matrices, options = self._kernel()
        state = np.array([seed * 2 + 1, 0], dtype=np.uint64)  # LCG state, table position
        loss_sum, n_examples, _ = kernel(
            corpus.ids, corpus.starts, corpus.ends, *matrices, self._keep, self._neg_table, state,
            self.window, self.negative, self.hs, 0.0, 0.0, 0.0, 0.0, *options, *K.SIGMOID_TABLES,
        )  # fmt: skip
        return loss_sum, n_examples

    def _require_built(self) -> None:
        if not hasattr(self, "_syn0"):
            raise RuntimeError(f"{type(self).__name__} has no weights yet: call build() or train()")

    def _job(self, corpus: Corpus, worker: int, queue: ChunkQueue, epoch: int, sums):
        """The work of one thread in one epoch: chunks from `queue`, one kernel call each.

        The learning rate follows each chunk's place in the corpus (linear decay over all
        epochs), whichever thread takes it.
        """
        from seqlab.embeddings import _kernels_w2v as K  # numba compiles on import: on first use

        kernel, matrices, options = self._kernel()
        state = self._states[worker]
        words = int((corpus.ends - corpus.starts).sum())
        step = 1.0 / (words * self.epochs)
        negative, hs, window = self.negative, self.hs, self.window

        def job(report):
            for chunk in queue:
                progress0 = (epoch + chunk.words_before / words) / self.epochs
                loss_sum, n_examples, n_words = kernel(
                    corpus.ids, corpus.starts[chunk.lo : chunk.hi],
                    corpus.ends[chunk.lo : chunk.hi], *matrices, self._keep, self._neg_table,
                    state, window, negative, hs, self.alpha, self.min_alpha, progress0, step,
                    *options, *K.SIGMOID_TABLES,
                )  # fmt: skip
                alpha_now = max(self.min_alpha, self.alpha * (1 - progress0))
                check_loss(loss_sum, n_examples, alpha_now, f"epoch {epoch + 1}")
                sums[worker] += (loss_sum, n_examples)
                report(n_words, loss_sum, n_examples)

        return job

    def _kernel(self):
        """``(kernel, matrices, options)`` for ``self.algo``: the kernel, the matrices it takes
        after the sentence bounds and its own options before the sigmoid tables."""
        from seqlab.embeddings import _kernels_w2v as K  # numba compiles on import: on first use

        heads = (self._syn1neg, self._syn1, self._points, self._codes, self._code_lens)
        if self.algo == "skipgram":
            return K.skipgram_chunk, (self._syn0, *heads), (self.shared_negatives,)
        # no sub_ptr/sub_idx: each word's input row is its own (the kernel's direct path)
        return K.cbow_chunk, (self._syn0, None, None, *heads), ()

    # ------------------------------------------------------------------ model state
    def _input_rows(self, corpus: Corpus) -> tuple[int, np.ndarray, np.ndarray]:
        """``(rows, sub_ptr, sub_idx)``: word ``w`` reads input rows
        ``sub_idx[sub_ptr[w]:sub_ptr[w + 1]]``; word2vec: one row per word, its own."""
        n = len(corpus.vocab)
        return n, np.arange(n + 1, dtype=np.int32), np.arange(n, dtype=np.int32)

    def _setup(self, corpus: Corpus) -> None:
        """Fresh weights and sampling tables for ``corpus`` (all derived from ``seed``)."""
        counts = corpus.vocab.counts
        n_words, d = len(counts), self.vector_size
        if n_words < 2:
            raise EmptyCorpusError(
                f"the vocabulary has {n_words} word ({corpus.vocab.itos!r}) after "
                f"min_count={self.min_count}; word2vec needs at least 2 distinct words: use a "
                "larger corpus or lower min_count"
            )
        rng = np.random.default_rng(self.seed)
        n_rows, self._sub_ptr, self._sub_idx = self._input_rows(corpus)
        # (R, d): uniform in +-1/d as gensim and fastText (word2vec.c: +-0.5/d); outputs start
        # at zero
        self._syn0 = ((2 * rng.random((n_rows, d), dtype=np.float32) - 1) / d).astype(np.float32)
        self._syn1neg = np.zeros((n_words if self.negative else 1, d), np.float32)
        self._syn1 = np.zeros((max(n_words - 1, 1) if self.hs else 1, d), np.float32)
        self._points, self._codes, self._code_lens = (
            huffman_codes(counts) if self.hs else _no_codes(n_words)
        )
        self._keep = subsample_thresholds(counts, self.sample)
        self._neg_table = negative_table(counts, self.ns_exponent, rng)
        seeds = rng.integers(1, 2**63, size=self.workers, dtype=np.int64).astype(np.uint64)
        offsets = np.arange(self.workers, dtype=np.uint64) * np.uint64(
            len(self._neg_table) // self.workers
        )
        self._states = np.stack([seeds, offsets], axis=1)  # (workers, 2): LCG, table position
        self._vocab = corpus.vocab
        self.loss_history, self.online_loss_history = [], []
        self.train_seconds = 0.0

    def _vectors(self) -> np.ndarray:
        """(V, d) final word vectors."""
        return self._syn0

    def _keyed_vectors(self, corpus: Corpus) -> KeyedVectors:
        return KeyedVectors(corpus.vocab.itos, self._vectors().copy(), corpus.vocab.counts)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "syn0": self._syn0,
            "syn1neg": self._syn1neg,
            "syn1": self._syn1,
            "states": self._states.view(np.int64),
        }

    def _save_checkpoint(self, path, corpus: Corpus, epochs_done: int) -> None:
        meta = {
            "model": type(self).__name__,
            "corpus": corpus.fingerprint,
            "hyperparameters": self.hyperparameters(),
            "workers": self.workers,
            "epochs_done": epochs_done,
            "loss_history": self.loss_history,
            "online_loss_history": self.online_loss_history,
            "train_seconds": self.train_seconds,
        }
        save_checkpoint(path, self._arrays(), meta)

    def _resume(self, path, corpus: Corpus) -> int:
        """Load ``path`` if it exists; return the number of epochs already done."""
        expect = {
            "model": type(self).__name__,
            "corpus": corpus.fingerprint,
            "hyperparameters": self.hyperparameters(),
            "workers": self.workers,
        }
        found = load_checkpoint(Path(path), expect)
        if found is None:
            return 0
        arrays, meta = found
        for name, value in self._arrays().items():
            value[...] = arrays[name].reshape(value.shape)
        self.loss_history = list(meta["loss_history"])
        self.online_loss_history = list(meta.get("online_loss_history", []))
        self.train_seconds = float(meta["train_seconds"])
        return int(meta["epochs_done"])


# ---------------------------------------------------------------------- sampling tables
def subsample_thresholds(counts: np.ndarray, sample: float) -> np.ndarray:
    """(V,) int64: keep a word when a uniform 32-bit random number is below its threshold.

    word2vec's rule: keep with probability ``(sqrt(c / t) + 1) * t / c``, ``t = sample * total``;
    2**32 means "always keep".

    Examples
    --------
    >>> subsample_thresholds(np.array([1_000_000, 10]), 1e-3).tolist()
    [140114480, 4294967296]
    """
    counts = np.asarray(counts, np.float64)
    if sample <= 0:
        return np.full(len(counts), 2**32, np.int64)
    t = sample * counts.sum()
    keep = (np.sqrt(counts / t) + 1) * t / counts
    return np.minimum(keep * 2**32, 2**32).astype(np.int64)


def negative_table(counts: np.ndarray, power: float, rng: np.random.Generator) -> np.ndarray:
    """Word ids, each repeated in proportion to ``count**power`` (at least once), shuffled."""
    weights = np.asarray(counts, np.float64) ** power
    size = min(NEG_TABLE_SIZE, 1000 * len(counts))
    repeats = np.ceil(weights / weights.sum() * size).astype(np.int64)
    return rng.permutation(np.repeat(np.arange(len(counts), dtype=np.int32), repeats))


def huffman_codes(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Huffman tree over the counts: ``(points (V, L) int32, codes (V, L) int8, lens (V,))``.

    ``points[w, :lens[w]]`` are the inner nodes (0..V-2, root = V-2) from the root down to
    ``w``, ``codes[w, j]`` the branch taken at each; frequent words get short codes.

    Examples
    --------
    >>> points, codes, lens = huffman_codes(np.array([5, 3, 1, 1]))
    >>> lens.tolist(), codes[0, :1].tolist(), points[0, 0]
    ([1, 2, 3, 3], [0], np.int32(2))
    """
    n = len(counts)
    if n < 2:
        return _no_codes(n)
    heap = [(int(c), i) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    parent = np.zeros(2 * n - 1, np.int64)
    branch = np.zeros(2 * n - 1, np.int8)
    next_node = n
    while len(heap) > 1:
        c1, a = heapq.heappop(heap)
        c2, b = heapq.heappop(heap)
        parent[a] = parent[b] = next_node
        branch[b] = 1
        heapq.heappush(heap, (c1 + c2, next_node))
        next_node += 1
    root = 2 * n - 2
    # depth of every node, computed top-down (parents are created after their children)
    depth = np.zeros(2 * n - 1, np.int64)
    for node in range(root - 1, -1, -1):
        depth[node] = depth[parent[node]] + 1
    lens = depth[:n].astype(np.int32)
    width = int(lens.max())
    points = np.zeros((n, width), np.int32)
    codes = np.zeros((n, width), np.int8)
    node = np.arange(n)
    level = lens.astype(np.int64) - 1  # fill each word's path from its leaf upwards
    active = level >= 0
    while active.any():
        w = np.nonzero(active)[0]
        codes[w, level[w]] = branch[node[w]]
        points[w, level[w]] = parent[node[w]] - n
        node[w] = parent[node[w]]
        level[w] -= 1
        active = level >= 0
    return points, codes, lens


def _no_codes(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros((n, 1), np.int32), np.zeros((n, 1), np.int8), np.zeros(n, np.int32)
