r"""GloVe: global vectors from weighted least squares on log co-occurrence counts.

GloVe (Pennington, Socher and Manning, 2014) fits, for every nonzero entry ``X_ij`` of the
word-word co-occurrence matrix (:mod:`seqlab.embeddings.cooccurrence`),

.. math::

    J = \sum_{X_{ij} > 0} f(X_{ij}) \, (w_i^\top \tilde w_j + b_i + \tilde b_j - \log X_{ij})^2,
    \qquad f(x) = \min(1, (x / x_{max})^\alpha)

with AdaGrad, visiting the nonzero entries in a shuffled order. The saved vector of word ``i`` is
``w_i + w~_i`` (word plus context vector), as in the paper and GloVe's ``-model 2`` default.

Training follows ``glove.c``: parameters start uniform in ``[-0.5, 0.5) / d``, AdaGrad's squared
gradient sums start at 1, each coordinate's step is clipped to ``grad_clip``, and ``Hogwild``
threads update the shared matrices without locks. Shapes (V = vocabulary size, d = vector size,
N = nonzero entries): ``W, C`` (V, d) float32 word and context vectors, ``bw, bc`` (V,) float32
biases, ``gW, gC, gbw, gbc`` their AdaGrad sums; ``rows, cols`` (N,) int32, ``log_x`` and
``weight`` (N,) float32 are ``log X_ij`` and ``f(X_ij)``.

Shuffling: the entries are permuted once (seeded), then every epoch visits blocks of
:data:`BLOCK` consecutive entries in a fresh seeded order. Whole-array shuffles every epoch
would cost random memory access on four arrays per update; block order keeps the updates
cache-friendly and still changes the order every epoch, and a resumed run replays it exactly.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from numba import njit

from seqlab.checks import check_int, check_number
from seqlab.embeddings.cooccurrence import MAX_WINDOW, Cooccurrence, count_cooccurrences
from seqlab.embeddings.keyedvectors import KeyedVectors
from seqlab.embeddings.training import (
    Corpus,
    check_loss,
    load_checkpoint,
    prepare_corpus,
    progress_bar,
    run_workers,
    save_checkpoint,
)

#: Entries per shuffled block (see the module docstring).
BLOCK = 4096
#: Blocks per kernel call (~260k entries): the bar moves and Ctrl-C is honoured between calls.
BLOCKS_PER_CALL = 64
# Reassociation vectorises the dot products; no "nnan"/"ninf", so divergence shows up as NaN.
# error_model="numpy" (x / 0 = inf, no ZeroDivisionError check) is what lets LLVM vectorise the
# AdaGrad loop's square roots and divisions: ~3x faster than the default "python" model.
_FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}


@njit(nogil=True, cache=True, fastmath=_FASTMATH, error_model="numpy")
def _train_blocks(blocks, rows, cols, log_x, weight, W, C, bw, bc, gW, gC, gbw, gbc, lr, grad_clip):
    """AdaGrad updates for the entries of ``blocks`` (block indices); returns
    ``(cost_sum, n_entries, bad)`` where ``bad`` is the first entry whose loss was not finite
    (``-1`` if none; the kernel stops there)."""
    d = W.shape[1]
    n = len(rows)
    cost = 0.0
    done = 0
    for block in blocks:
        for e in range(block * BLOCK, min(n, (block + 1) * BLOCK)):
            i = rows[e]
            j = cols[e]
            w, c, gw, gc = W[i], C[j], gW[i], gC[j]  # (d,) views
            dot = np.float32(0.0)
            for k in range(d):
                dot += w[k] * c[k]
            diff = dot + bw[i] + bc[j] - log_x[e]
            fdiff = weight[e] * diff
            if not np.isfinite(fdiff):
                return cost, done, e
            cost += 0.5 * fdiff * diff
            fdiff *= lr
            for k in range(d):
                step_w = min(max(fdiff * c[k], -grad_clip), grad_clip)  # lr * dJ/dW[i, k]
                step_c = min(max(fdiff * w[k], -grad_clip), grad_clip)
                w[k] -= step_w / np.sqrt(gw[k])
                c[k] -= step_c / np.sqrt(gc[k])
                gw[k] += step_w * step_w
                gc[k] += step_c * step_c
            bw[i] -= fdiff / np.sqrt(gbw[i])
            bc[j] -= fdiff / np.sqrt(gbc[j])
            gbw[i] += fdiff * fdiff
            gbc[j] += fdiff * fdiff
            done += 1
    return cost, done, -1


@njit(nogil=True, cache=True)
def _loss_weights(values, x_max, alpha, log_x, weight):
    """``log X`` and ``f(X) = min(1, (X / x_max)^alpha)`` of every entry."""
    for e in range(len(values)):
        x = values[e]
        log_x[e] = math.log(x)
        weight[e] = 1.0 if x >= x_max else (x / x_max) ** alpha


class GloVe:
    r"""Train GloVe vectors on a corpus (a text file or an iterable of token lists).

    Parameters
    ----------
    vector_size : int
        Dimension ``d`` of the vectors.
    window : int
        Context words counted on each side (``1..20``); the paper uses 10.
    symmetric : bool
        Count context on both sides (default, as GloVe) or on the left only.
    distance_weighting : bool
        A pair at distance ``d`` adds ``1/d`` (default, as GloVe) instead of ``1``.
    x_max, alpha : float
        The weighting ``f(x) = min(1, (x / x_max)^alpha)``; the paper's 100 and 0.75.
        (``alpha`` is GloVe's exponent, not a learning rate: see ``learning_rate``.) On a
        text8-size corpus ``x_max=10`` (GloVe's own text8 demo) gives clearly better vectors.
    learning_rate : float
        AdaGrad's initial step (``-eta`` of glove.c, default 0.05).
    epochs : int
        Passes over the nonzero entries (glove.c's ``-iter``, 25 by default).
    min_count, max_vocab : int
        Words seen fewer than ``min_count`` times are dropped (the window closes over them);
        ``max_vocab`` keeps only the most frequent words.
    grad_clip : float
        Each gradient coordinate is clipped to ``[-grad_clip, grad_clip]`` (glove.c's 100).
    workers : int
        Threads updating the shared parameters without locks (Hogwild). Results are
        reproducible for a given ``seed`` only with ``workers=1``.
    seed : int
        Seeds the initial vectors and the visiting order.
    memory_limit : int
        Bytes for co-occurrence counting; beyond it sorted runs spill to temporary files.

    Attributes
    ----------
    wv : KeyedVectors
        The trained vectors ``W + W~`` (after :meth:`train`).
    loss_history : list[float]
        Mean weighted squared error ``J / N`` of each epoch.
    train_seconds : float
        Wall time of the epochs (counting excluded).

    Examples
    --------
    >>> sentences = [["the", "king", "rules"], ["the", "queen", "rules"]] * 50
    >>> model = GloVe(vector_size=8, window=2, min_count=1, epochs=5, workers=1)
    >>> kv = model.train(sentences, progress=False)
    >>> kv.vectors.shape, model.loss_history[-1] < model.loss_history[0]
    ((4, 8), True)
    """

    def __init__(
        self,
        vector_size: int = 100,
        window: int = 10,
        symmetric: bool = True,
        distance_weighting: bool = True,
        x_max: float = 100.0,
        alpha: float = 0.75,
        learning_rate: float = 0.05,
        epochs: int = 25,
        min_count: int = 5,
        max_vocab: int | None = None,
        grad_clip: float = 100.0,
        workers: int = 2,
        seed: int = 1,
        memory_limit: int = 2 << 30,
    ):
        self.vector_size = check_int("vector_size", vector_size, low=1)
        self.window = check_int("window", window, low=1, high=MAX_WINDOW)
        self.symmetric = bool(symmetric)
        self.distance_weighting = bool(distance_weighting)
        self.x_max = check_number("x_max", x_max, low=0, low_open=True)
        self.alpha = check_number("alpha", alpha, low=0, low_open=True)
        self.learning_rate = check_number("learning_rate", learning_rate, low=0, low_open=True)
        self.epochs = check_int("epochs", epochs, low=1)
        self.min_count = check_int("min_count", min_count, low=1)
        self.max_vocab = None if max_vocab is None else check_int("max_vocab", max_vocab, low=1)
        self.grad_clip = check_number("grad_clip", grad_clip, low=0, low_open=True)
        self.workers = check_int("workers", workers, low=1)
        self.seed = check_int("seed", seed, low=0)
        self.memory_limit = check_int("memory_limit", memory_limit, low=1)
        self.loss_history: list[float] = []
        self.train_seconds = 0.0
        self.wv: KeyedVectors | None = None

    def hyperparameters(self) -> dict:
        """Everything that changes the result; a checkpoint must match it to be resumed."""
        return {
            "algorithm": "glove",
            "vector_size": self.vector_size,
            "window": self.window,
            "symmetric": self.symmetric,
            "distance_weighting": self.distance_weighting,
            "x_max": self.x_max,
            "alpha": self.alpha,
            "learning_rate": self.learning_rate,
            "grad_clip": self.grad_clip,
            "seed": self.seed,
        }

    # ------------------------------------------------------------------ training
    def train(
        self,
        corpus: str | os.PathLike | Iterable[Sequence[str]] | Corpus,
        checkpoint: str | os.PathLike | None = None,
        progress: bool = True,
        callbacks: Sequence[Callable[[GloVe, int, float], None]] = (),
    ) -> KeyedVectors:
        """Count co-occurrences in ``corpus`` and fit the vectors; return them (also ``self.wv``).

        Parameters
        ----------
        corpus : path, iterable of token lists, or Corpus
            A text file (whitespace-separated tokens; each line is a sentence that windows do
            not cross), sentences as lists of tokens, or a prepared
            :class:`~seqlab.embeddings.training.Corpus`.
        checkpoint : path, optional
            Parameters and AdaGrad state are saved there (safetensors + JSON, atomically)
            after every epoch; if the file exists, training resumes after its last epoch.
        progress : bool
            Show a progress bar with pairs/s, ETA and the running loss.
        callbacks : sequence of callables
            ``callback(model, epochs_done, epoch_loss)`` after each epoch (and its checkpoint).

        Raises
        ------
        seqlab.text.EmptyCorpusError
            The corpus is empty or ``min_count`` removes every word.
        TrainingDivergedError
            The loss became NaN/inf or exploded (the message says which ``learning_rate`` to try).
        CheckpointMismatchError
            ``checkpoint`` comes from a run with other settings or another corpus.
        """
        if not isinstance(corpus, Corpus):
            corpus = prepare_corpus(corpus, self.min_count, self.max_vocab)
        vocab = corpus.vocab
        X = count_cooccurrences(
            corpus.ids,
            corpus.starts,
            len(vocab),
            self.window,
            self.symmetric,
            self.distance_weighting,
            self.memory_limit,
            progress=progress,
        )
        del corpus
        return self.fit(X, vocab.itos, vocab.counts, checkpoint, progress, callbacks)

    def fit(
        self,
        X: Cooccurrence,
        words: Sequence[str],
        counts: np.ndarray | None = None,
        checkpoint: str | os.PathLike | None = None,
        progress: bool = True,
        callbacks: Sequence[Callable[[GloVe, int, float], None]] = (),
    ) -> KeyedVectors:
        """Fit the vectors to an already counted matrix ``X`` (see :meth:`train`).

        Counting once and fitting several models (other ``vector_size``, ``x_max``...) saves
        the counting pass.
        """
        if X.nnz == 0:
            raise ValueError(
                "the co-occurrence matrix is empty (no two words share a window): "
                "give a corpus with sentences of at least two in-vocabulary words"
            )
        words = list(words)
        expect = {"settings": self.hyperparameters(), "fingerprint": _fingerprint(X, words)}
        self.loss_history, self.train_seconds = [], 0.0
        vectors = self._fit(X, checkpoint, expect, progress, callbacks)
        self.wv = KeyedVectors(words, vectors, counts)
        return self.wv

    def _resume(self, checkpoint, expect: dict, params: dict) -> tuple[dict, int]:
        """``(params, epochs done)`` from ``checkpoint`` when it exists (and its loss history),
        else ``(params, 0)``."""
        stored = load_checkpoint(checkpoint, expect) if checkpoint is not None else None
        if stored is None:
            return params, 0
        arrays, meta = stored
        self.loss_history = list(meta["loss_history"])
        params = {name: np.ascontiguousarray(arrays[name]) for name in params}
        return params, int(meta["epochs_done"])

    def _fit(
        self, X: Cooccurrence, checkpoint, expect: dict, progress: bool, callbacks
    ) -> np.ndarray:
        """The epochs, by Hogwild threads on the CPU; returns ``W + C`` (V, d).

        A subclass that trains elsewhere (:class:`~seqlab.embeddings.torch_trainers.TorchGloVe`)
        overrides this step only.
        """
        V, d = X.n_words, self.vector_size
        rng = np.random.default_rng(self.seed)
        # One seeded permutation of the entries (as GloVe's shuffle tool), see module docstring.
        perm = rng.permutation(X.nnz)
        rows, cols = X.rows[perm], X.cols[perm]
        log_x, weight = np.empty(X.nnz, np.float32), np.empty(X.nnz, np.float32)
        _loss_weights(X.values[perm], self.x_max, self.alpha, log_x, weight)
        del perm
        params, first_epoch = self._resume(checkpoint, expect, initial_parameters(rng, V, d))

        n_blocks = -(-X.nnz // BLOCK)
        bar = progress_bar(self.epochs * X.nnz, first_epoch * X.nnz, "GloVe", "pair", progress)
        with bar:
            for epoch in range(first_epoch, self.epochs):
                started = time.perf_counter()
                # A fresh block order per epoch, derived from (seed, epoch) so a resume replays it.
                order = np.random.default_rng([self.seed, epoch]).permutation(n_blocks)
                totals = np.zeros((self.workers, 2))  # per worker: loss sum, entries
                jobs = [
                    _job(blocks, rows, cols, log_x, weight, params, self, totals[k])
                    for k, blocks in enumerate(np.array_split(order, self.workers))
                ]
                run_workers(jobs, self.epochs * X.nnz, "GloVe", progress, bar=bar)
                loss_sum, n_entries = totals.sum(axis=0)
                loss = check_loss(
                    loss_sum, n_entries, self.learning_rate, f"epoch {epoch + 1}", "learning_rate"
                )
                self.loss_history.append(float(loss))
                self.train_seconds += time.perf_counter() - started
                if progress:
                    bar.write(f"GloVe epoch {epoch + 1}/{self.epochs}: loss {loss:.5f}")
                if checkpoint is not None:
                    meta = {**expect, "epochs_done": epoch + 1, "loss_history": self.loss_history}
                    save_checkpoint(checkpoint, params, meta)
                for callback in callbacks:
                    callback(self, epoch + 1, loss)
        return params["W"] + params["C"]


def initial_parameters(rng: np.random.Generator, n_words: int, d: int) -> dict[str, np.ndarray]:
    """glove.c's start: ``W, C`` (V, d) and ``bw, bc`` (V,) uniform in ``[-0.5, 0.5) / d``,
    their AdaGrad sums ``gW, gC, gbw, gbc`` at 1 (float32)."""
    shapes = {"W": (n_words, d), "C": (n_words, d), "bw": (n_words,), "bc": (n_words,)}
    params = {name: (rng.random(shape, np.float32) - 0.5) / d for name, shape in shapes.items()}
    return params | {f"g{name}": np.ones_like(params[name]) for name in shapes}


def _job(blocks, rows, cols, log_x, weight, params, model, totals):
    """A worker's share of an epoch: kernel calls of :data:`BLOCKS_PER_CALL` blocks each."""
    p = params
    lr, clip = np.float32(model.learning_rate), np.float32(model.grad_clip)

    def job(report) -> None:
        for start in range(0, len(blocks), BLOCKS_PER_CALL):
            cost, n, bad = _train_blocks(
                blocks[start : start + BLOCKS_PER_CALL],
                rows,
                cols,
                log_x,
                weight,
                p["W"],
                p["C"],
                p["bw"],
                p["bc"],
                p["gW"],
                p["gC"],
                p["gbw"],
                p["gbc"],
                lr,
                clip,
            )
            if bad >= 0:
                cost = math.nan  # check_loss names the learning rate
            totals[0] += cost  # this worker's own row: no lock needed
            totals[1] += n
            report(n, cost, n)
            if bad >= 0:
                return

    return job


def _fingerprint(X: Cooccurrence, words: list[str]) -> str:
    """Hash of the vocabulary and the matrix size: a checkpoint must match it to resume."""
    h = hashlib.sha256("\n".join(words).encode("utf-8"))
    h.update(f"{X.nnz} {float(X.values.sum())!r}".encode())
    return h.hexdigest()
