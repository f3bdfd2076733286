"""word2vec, fastText and GloVe in PyTorch, in minibatches, for a GPU (or the CPU).

The same objectives as the numba trainers (:mod:`~seqlab.embeddings.word2vec`,
:mod:`~seqlab.embeddings.fasttext`, :mod:`~seqlab.embeddings.glove`), reorganised for a device
that wants thousands of examples per step. Each one subclasses its CPU trainer (as torch.nn's
RNN subclasses own no weight layout of their own): ``TorchWord2Vec(Word2Vec)``,
``TorchFastText(TorchWord2Vec, FastText)``, ``TorchGloVe(GloVe)``. The CPU class checks and
stores the arguments, owns the checkpointed settings, the input-row layout, the initial GloVe
parameters and the returned vectors; the subclass adds ``device`` and ``batch_size``, replaces
the epochs, and refuses CPU-only arguments (``workers``, ``hs``...) with
:class:`UnsupportedSettingError` instead of ignoring them.


- word2vec / fastText: a minibatch is ``B`` centre tokens of the subsampled corpus, every
  (centre, context) pair inside each centre's randomly shrunk window (``P`` pairs) and ``K``
  negatives per pair drawn from a unigram**``ns_exponent`` table. Skip-gram predicts each
  context word from the centre's input vector (fastText's orientation, so a fastText word's
  n-gram mean is computed once per centre); CBOW predicts the centre from the mean of its
  context words' input vectors. fastText's input vector of a word is the mean of its own row
  and its n-gram rows.
- GloVe: a minibatch is ``B`` nonzero entries ``X_ij`` in a fresh random order every epoch.

How the parameters are updated: no autograd and no optimizer object. Each step computes the
gradients by hand and applies them with ``Tensor.index_add_`` to the touched rows only: sparse
SGD with word2vec's linearly decaying learning rate, and for GloVe sparse AdaGrad
(squared-gradient sums kept per coordinate, as glove.c). Where the hand-written step is not
plain gradient descent, it says so: CBOW gives every context word the whole gradient of their
mean (as word2vec.c), and the steps aimed at a row that occurs several times in a batch are
averaged (:func:`add_mean`), not summed: they are all computed from the same pre-step values,
and summing them made frequent words diverge on text8. That is the price of batching; it keeps
every step one gather, a few dense products and one scatter per matrix, which is what a GPU is
fast at. fastText's rule holds as in the CPU kernels: every row of a word (its own and its
n-gram rows) takes the whole step of the word's mean, not ``1 / rows`` of it (the true
gradient), so that n-grams learn at the pace fastText's learning rates assume. The steps are
public (``TorchWord2Vec.step`` on a :class:`Batch`, ``TorchGloVe.step`` on entries), and the
tests check them against autograd.

``device=None`` picks CUDA when available. Tests run these trainers on the CPU with tiny data;
on the CPU the numba trainers are the faster choice.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from seqlab.embeddings.cooccurrence import Cooccurrence
from seqlab.embeddings.fasttext import FastText
from seqlab.embeddings.glove import GloVe, initial_parameters
from seqlab.embeddings.keyedvectors import KeyedVectors
from seqlab.embeddings.training import (
    Corpus,
    check_loss,
    load_checkpoint,
    loss_sample,
    prepare_corpus,
    progress_bar,
    save_checkpoint,
)
from seqlab.embeddings.word2vec import Word2Vec, negative_table, subsample_thresholds


class UnsupportedSettingError(ValueError):
    """An argument of the CPU trainer that its PyTorch subclass cannot honour."""


#: ``workers`` of the CPU trainers: threads have no meaning for one device.
_ONE_STREAM = (1, "one batched device stream replaces the threads: raise batch_size instead")


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` -> CUDA if available, else CPU; a CUDA request without CUDA is a clear error."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={str(device)!r} but PyTorch sees no CUDA device; use device='cpu'"
        )
    return device


def cpu_only_arguments(trainer: str, given: dict, fixed: dict[str, tuple[object, str]]) -> dict:
    """The values the PyTorch ``trainer`` fixes for its CPU base class's arguments ``fixed``
    (name -> (value, why)); another value in ``given`` is an error, never silently ignored.

    Examples
    --------
    >>> cpu_only_arguments("TorchGloVe", {"workers": 1}, {"workers": (1, "one device")})
    {'workers': 1}
    >>> cpu_only_arguments("TorchGloVe", {"workers": 4}, {"workers": (1, "one device")})
    Traceback (most recent call last):
    ...
    seqlab.embeddings.torch_trainers.UnsupportedSettingError: TorchGloVe does not take workers=4 ...
    """
    for name, (value, why) in fixed.items():
        if name in given and given[name] != value:
            raise UnsupportedSettingError(
                f"{trainer} does not take {name}={given[name]!r} ({why}): leave {name} out, or "
                f"train with the CPU trainer {trainer.removeprefix('Torch')}"
            )
    return {name: value for name, (value, _) in fixed.items()}


def positive_int(name: str, value: int) -> int:
    """``value`` as an int, or a ValueError naming ``name`` when it is not a positive integer."""
    if int(value) != value or value < 1:
        raise ValueError(f"{name}={value!r}: pass a positive integer")
    return int(value)


def add_mean(table: torch.Tensor, rows: torch.Tensor, steps: torch.Tensor) -> None:
    """``table[r] += mean of the steps aimed at row r`` in this batch (rows (N,), steps (N, ...)).

    Averaging, not summing, the steps of a row repeated in one batch: with sums, a frequent word
    drawn hundreds of times per batch as a negative takes hundreds of steps computed from the
    same stale value and diverges (seen on text8 at batch 4096).
    """
    counts = torch.bincount(rows, minlength=len(table)).clamp_(min=1)  # (len(table),)
    scale = (1.0 / counts[rows]).to(steps.dtype).view(-1, *([1] * (steps.dim() - 1)))
    table.index_add_(0, rows, steps * scale)


def _generator(device: torch.device, seed: int, epoch: int) -> torch.Generator:
    """A generator seeded from ``(seed, epoch)``: a resumed run replays the same epoch."""
    g = torch.Generator(device=device)
    g.manual_seed(int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0]))
    return g


#: The generator stream of loss evaluations (epochs use streams 0, 1, ...).
_EVALUATION_STREAM = 2**32 - 1


def _sentence_of_each_token(corpus: Corpus, device: torch.device) -> torch.Tensor:
    """(n,) the sentence number of every token: windows never cross a sentence."""
    return torch.repeat_interleave(
        torch.arange(len(corpus.starts), device=device),
        torch.from_numpy(corpus.ends - corpus.starts).to(device),
    )


@dataclass
class Batch:
    """The examples of one word2vec step: ``B`` centre words and their context windows.

    Attributes
    ----------
    centre : torch.Tensor, (B,) int64
        Centre word ids.
    context : torch.Tensor, (B, 2W) int64
        Word ids at the ``2 * window`` positions around each centre (any id where not valid).
    valid : torch.Tensor, (B, 2W) bool
        Which of them are context words (inside the shrunk window and the sentence).
    negatives : torch.Tensor, (P, K) int64
        ``K`` noise words per example. Skip-gram: one example per valid (centre, position),
        in row-major order, the centre's input vector predicting the context word. CBOW: one
        per centre with a valid position, the mean of its context words predicting it.
    """

    centre: torch.Tensor
    context: torch.Tensor
    valid: torch.Tensor
    negatives: torch.Tensor


class TorchWord2Vec(Word2Vec):
    """word2vec with negative sampling on a PyTorch device: a :class:`Word2Vec` whose epochs
    run as batched tensor steps.

    Parameters
    ----------
    algo, vector_size, window, negative, sample, min_count, max_vocab, epochs, alpha, min_alpha,
    seed, sg, ns_exponent
        As :class:`~seqlab.embeddings.Word2Vec`, which checks and stores them.
    batch_size : int
        Centre tokens per step (``B``); pairs per step are about ``B * window``.
    device : str or torch.device, optional
        ``"cuda"``, ``"cpu"``...; ``None`` takes CUDA when available.

    ``hs=True``, ``shared_negatives=True`` and ``workers`` other than 1 raise
    :class:`UnsupportedSettingError`: only negative sampling is batched, its negatives are drawn
    per (context, centre) pair, and one device stream replaces the worker threads.

    Attributes
    ----------
    wv : KeyedVectors
        The trained vectors (input vectors, as word2vec saves).
    loss_history, online_loss_history : list[float]
        Mean negative-sampling loss per (input, target) example at the end of each epoch on a
        fixed sample of the corpus, and over the epoch's steps (as :class:`Word2Vec`).

    Examples
    --------
    >>> sentences = [["cat", "meows", "softly"], ["dog", "barks", "loudly"]] * 100
    >>> model = TorchWord2Vec(vector_size=16, min_count=1, epochs=2, device="cpu")
    >>> model.train(sentences, progress=False).vectors.shape
    (6, 16)
    """

    #: Word2Vec arguments this trainer fixes: name -> (value, why no other value works).
    CPU_ONLY: ClassVar[dict[str, tuple[object, str]]] = {
        "hs": (False, "only negative sampling runs batched on the device"),
        "shared_negatives": (False, "negatives are drawn for every (context, centre) pair"),
        "workers": _ONE_STREAM,
    }

    def __init__(
        self,
        algo: str = "skipgram",
        *,
        batch_size: int = 4096,
        device: str | torch.device | None = None,
        **kwargs,
    ):
        fixed = cpu_only_arguments(type(self).__name__, kwargs, self.CPU_ONLY)
        super().__init__(algo, **(kwargs | fixed))
        self.batch_size = positive_int("batch_size", batch_size)
        self.device = resolve_device(device)

    def hyperparameters(self) -> dict:
        """Word2Vec's, plus ``batch_size`` (it changes the result); stored in checkpoints."""
        return {**super().hyperparameters(), "batch_size": self.batch_size}

    # ------------------------------------------------------------------ training
    def build(self, corpus: str | os.PathLike | Iterable[Sequence[str]] | Corpus) -> Corpus:
        """Prepare ``corpus``, the row layout, sampling tables and fresh weights on the device,
        without training; return the prepared corpus. :meth:`train` on it then starts from
        this state (see :meth:`Word2Vec.build`), and :meth:`step` can be called on it."""
        if not isinstance(corpus, Corpus):
            corpus = prepare_corpus(corpus, self.min_count, self.max_vocab)
        dev, d = self.device, self.vector_size
        V = len(corpus.vocab)
        # The base class's input-row layout (fastText: own row + n-gram rows), kept for
        # _keyed_vectors; sub_ptr, sub_idx (int32) as Word2Vec._input_rows documents.
        n_rows, self._sub_ptr, self._sub_idx = self._input_rows(corpus)
        sub_ptr, sub_idx = self._sub_ptr.astype(np.int64), self._sub_idx.astype(np.int64)
        lens = np.diff(sub_ptr)
        # (V, S) padded input rows of each word; padding points one past the last row.
        rows = np.full((V, int(lens.max())), n_rows, np.int64)
        rows[
            np.repeat(np.arange(V), lens), np.arange(len(sub_idx)) - np.repeat(sub_ptr[:-1], lens)
        ] = sub_idx
        self._rows = torch.from_numpy(rows).to(dev)
        self._lens = torch.from_numpy(lens.astype(np.float32)).to(dev)

        rng = np.random.default_rng(self.seed)
        counts = corpus.vocab.counts
        self._keep_t = torch.from_numpy(subsample_thresholds(counts, self.sample) / 2**32).to(dev)
        self._neg_t = torch.from_numpy(negative_table(counts, self.ns_exponent, rng)).to(dev).long()
        # word2vec's initialisation: input rows uniform in [-0.5, 0.5) / d, output rows zero.
        self._syn0_t = torch.from_numpy((rng.random((n_rows + 1, d), np.float32) - 0.5) / d).to(dev)
        self._syn0_t[n_rows] = 0  # the padding row
        self._syn1_t = torch.zeros((V, d), dtype=torch.float32, device=dev)
        self._vocab = corpus.vocab
        self.loss_history, self.online_loss_history, self.train_seconds = [], [], 0.0
        self._built_for = corpus
        return corpus

    @property
    def weights(self) -> dict[str, torch.Tensor]:
        """The float32 tensors training updates in place (views, on the device), after
        :meth:`build` or :meth:`train`: ``"syn0"`` (R, d) input rows (word2vec: R = V;
        fastText: also the n-gram rows) and ``"syn1neg"`` (V, d) output vectors."""
        self._require_built()
        return {"syn0": self._syn0_t[:-1], "syn1neg": self._syn1_t}

    @property
    def negative_table(self) -> torch.Tensor:
        """(T,) word ids, each in proportion to ``count ** ns_exponent``; every noise word is
        an entry drawn at random (on the device)."""
        self._require_built()
        return self._neg_t

    def _require_built(self) -> None:
        if not hasattr(self, "_syn0_t"):
            raise RuntimeError(f"{type(self).__name__} has no weights yet: call build() or train()")

    def train(
        self,
        corpus: str | os.PathLike | Iterable[Sequence[str]] | Corpus,
        checkpoint: str | os.PathLike | None = None,
        progress: bool = True,
        callbacks: Sequence[Callable[[Word2Vec, int, float], None]] = (),
    ) -> KeyedVectors:
        """Train on ``corpus`` (path, token lists or prepared Corpus); return the vectors.

        As :meth:`Word2Vec.train`: ``checkpoint`` is saved after every epoch (safetensors +
        JSON, atomic) and an existing one is resumed; ``callbacks`` run after every epoch;
        ``loss_history`` is the model's loss on a fixed sample of the corpus at the end of each
        epoch and ``online_loss_history`` the mean over the epoch's steps. Raises
        ``EmptyCorpusError`` for an empty corpus or one that ``min_count`` empties, and
        ``TrainingDivergedError`` (naming ``alpha``) when the loss turns NaN.
        """
        if not isinstance(corpus, Corpus):
            corpus = prepare_corpus(corpus, self.min_count, self.max_vocab)
        if self._built_for is not corpus:
            self.build(corpus)
        self._built_for = None
        dev = self.device
        expect = {
            "model": type(self).__name__,
            "corpus": corpus.fingerprint,
            "hyperparameters": self.hyperparameters(),
        }
        first_epoch = 0
        stored = load_checkpoint(checkpoint, expect) if checkpoint is not None else None
        if stored is not None:
            arrays, meta = stored
            self._syn0_t = torch.from_numpy(arrays["syn0"]).to(dev)
            self._syn1_t = torch.from_numpy(arrays["syn1"]).to(dev)
            self.loss_history = list(meta["loss_history"])
            self.online_loss_history = list(meta.get("online_loss_history", []))
            first_epoch = int(meta["epochs_done"])
        syn0, syn1 = self._syn0_t, self._syn1_t
        sample = loss_sample(corpus)

        ids = torch.from_numpy(corpus.ids).to(dev).long()
        sentence = _sentence_of_each_token(corpus, dev)
        n = len(ids)
        bar = progress_bar(
            self.epochs * n, first_epoch * n, f"{type(self).__name__} {self.algo}", "w", progress
        )
        with bar:
            for epoch in range(first_epoch, self.epochs):
                started = time.perf_counter()
                g = _generator(dev, self.seed, epoch)
                kept = torch.rand(n, generator=g, device=dev) < self._keep_t[ids]  # subsampling
                words, sents = ids[kept], sentence[kept]
                loss_sum = torch.zeros((), dtype=torch.float64, device=dev)
                examples = 0
                m = len(words)
                for a in range(0, m, self.batch_size):
                    b = min(m, a + self.batch_size)
                    done = (epoch * n + a * n / max(m, 1)) / (self.epochs * n)
                    lr = self.alpha - (self.alpha - self.min_alpha) * done
                    batch = self._sample(words, sents, a, b, g)
                    batch_loss, batch_examples = self.step(batch, lr)
                    loss_sum += batch_loss
                    examples += batch_examples
                    bar.update(round((b - a) * n / max(m, 1)))
                where = f"epoch {epoch + 1}"
                online = check_loss(float(loss_sum), examples, self.alpha, where)
                loss = check_loss(*self._frozen_loss(sample), self.alpha, where)
                bar.set_postfix(loss=f"{loss:.4f}")
                self.loss_history.append(loss)
                self.online_loss_history.append(online)
                self.train_seconds += time.perf_counter() - started
                if checkpoint is not None:
                    arrays = {"syn0": syn0.cpu().numpy(), "syn1": syn1.cpu().numpy()}
                    meta = {
                        **expect,
                        "epochs_done": epoch + 1,
                        "loss_history": self.loss_history,
                        "online_loss_history": self.online_loss_history,
                    }
                    save_checkpoint(checkpoint, arrays, meta)
                for callback in callbacks:
                    callback(self, epoch + 1, loss)
        # (n_rows, d) input rows back on the host: the base class turns them into word vectors.
        self._syn0 = syn0[:-1].cpu().numpy()
        self.wv = self._keyed_vectors(corpus)
        return self.wv

    def _frozen_loss(self, corpus: Corpus, seed: int = 0) -> tuple[float, int]:
        """``(loss_sum, n_examples)`` of the current weights on ``corpus``, updating nothing;
        the examples come from a generator fixed by ``seed`` (the same at every call)."""
        dev = self.device
        g = _generator(dev, seed, _EVALUATION_STREAM)
        ids = torch.from_numpy(corpus.ids).to(dev).long()
        kept = torch.rand(len(ids), generator=g, device=dev) < self._keep_t[ids]
        words, sents = ids[kept], _sentence_of_each_token(corpus, dev)[kept]
        loss_sum, examples = 0.0, 0
        for a in range(0, len(words), self.batch_size):
            batch = self._sample(words, sents, a, min(len(words), a + self.batch_size), g)
            batch_loss, batch_examples = self.step(batch, None)
            loss_sum += float(batch_loss)
            examples += batch_examples
        return loss_sum, examples

    def _sample(self, words, sents, a, b, g) -> Batch:
        """The examples of the centres ``words[a:b]`` (of the subsampled corpus ``words``,
        sentence numbers ``sents``): shrunk windows within the sentence, then the noise words."""
        dev, W = words.device, self.window
        m = len(words)
        pos = torch.arange(a, b, device=dev)  # (B,)
        offsets = torch.cat([torch.arange(-W, 0, device=dev), torch.arange(1, W + 1, device=dev)])
        reach = torch.randint(1, W + 1, (len(pos),), generator=g, device=dev)  # shrunk window
        ctx = pos[:, None] + offsets[None, :]  # (B, 2W)
        valid = (ctx >= 0) & (ctx < m) & (offsets.abs()[None, :] <= reach[:, None])
        ctx = ctx.clamp(0, m - 1)
        valid &= sents[ctx] == sents[pos][:, None]
        examples = int(valid.sum()) if self.algo == "skipgram" else int(valid.any(1).sum())
        table = self._neg_t
        draws = torch.randint(len(table), (examples, self.negative), generator=g, device=dev)
        return Batch(words[pos], words[ctx], valid, table[draws])

    def step(self, batch: Batch, lr: float | None) -> tuple[torch.Tensor, int]:
        """One SGD step of :attr:`weights` on ``batch``; returns ``(loss_sum, n_examples)``
        before the step (``loss_sum`` a float64 tensor). With ``lr=None`` only the loss is
        computed. The step is the gradient of the loss written out by hand, with two rules of
        word2vec and of batching: CBOW adds the gradient of the context mean ``h`` to every
        context word whole (not divided by their number, as word2vec.c does), and the steps
        aimed at a row that occurs several times in the batch are averaged (:func:`add_mean`);
        a noise word equal to its example's target counts neither in the loss nor the step.
        """
        syn0, syn1 = self._syn0_t, self._syn1_t  # (R + 1, d) with a zero padding row, (V, d)
        if self.algo == "skipgram":
            v = self._inputs(syn0, batch.centre)  # (B, d)
            b_idx, c_idx = batch.valid.nonzero(as_tuple=True)  # pairs (P,)
            h, target = v[b_idx], batch.context[b_idx, c_idx]
        else:
            n_ctx = batch.valid.sum(1)
            keep = n_ctx > 0
            vc = self._inputs(syn0, batch.context.reshape(-1)).view(*batch.context.shape, -1)
            h = (vc * batch.valid.unsqueeze(-1)).sum(1) / n_ctx.clamp(min=1).unsqueeze(-1)
            h, target = h[keep], batch.centre[keep]  # (P, d), (P,)
        if len(target) == 0:
            return torch.zeros((), dtype=torch.float64, device=syn0.device), 0
        negs = batch.negatives  # (P, K)
        real = negs != target[:, None]  # (P, K): a noise word equal to the target is skipped
        u_pos, u_neg = syn1[target], syn1[negs]  # (P, d), (P, K, d)
        s_pos = (h * u_pos).sum(-1)  # (P,)
        s_neg = torch.bmm(u_neg, h.unsqueeze(-1)).squeeze(-1)  # (P, K)
        softplus = torch.nn.functional.softplus
        loss = softplus(-s_pos).sum() + (softplus(s_neg) * real).sum()
        if lr is None:
            return loss.double(), len(target)
        # d(-log sigma(s))/ds = sigma(s) - 1; d(-log sigma(-s))/ds = sigma(s). Times -lr: the step.
        g_pos = (1 - torch.sigmoid(s_pos)) * lr  # (P,)
        g_neg = -torch.sigmoid(s_neg) * lr * real  # (P, K)
        grad_h = g_pos[:, None] * u_pos + (g_neg.unsqueeze(-1) * u_neg).sum(1)  # (P, d)
        out_rows = torch.cat([target, negs.reshape(-1)])  # (P + P*K,)
        out_steps = torch.cat(
            [g_pos[:, None] * h, (g_neg.unsqueeze(-1) * h.unsqueeze(1)).flatten(0, 1)]
        )
        add_mean(syn1, out_rows, out_steps)
        if self.algo == "skipgram":
            grad_v = torch.zeros_like(v).index_add_(0, b_idx, grad_h)  # (B, d) per centre
            self._scatter(syn0, batch.centre, grad_v)
        else:
            # word2vec adds the whole error of the mean to every context word.
            valid = batch.valid[keep]
            grad_ctx = grad_h.unsqueeze(1).expand(-1, valid.shape[1], -1)[valid]  # (n_valid, d)
            self._scatter(syn0, batch.context[keep][valid], grad_ctx)
        return loss.double(), len(target)

    def _inputs(self, syn0: torch.Tensor, words: torch.Tensor) -> torch.Tensor:
        """(N, d) input vectors of ``words`` (N,): the mean of each word's rows."""
        rows = self._rows[words]  # (N, S)
        return syn0[rows].sum(1) / self._lens[words].unsqueeze(-1)  # padding row stays zero

    def _scatter(self, syn0: torch.Tensor, words: torch.Tensor, grad: torch.Tensor) -> None:
        """Add ``grad`` (N, d) of each word's input vector whole to every one of its rows."""
        rows = self._rows[words]  # (N, S)
        whole = grad.unsqueeze(1).expand(-1, rows.shape[1], -1)  # (N, S, d)
        add_mean(syn0, rows.reshape(-1), whole.reshape(-1, grad.shape[1]))
        syn0[-1] = 0  # padding row: whatever landed there is not a parameter


class TorchFastText(TorchWord2Vec, FastText):
    """fastText (word2vec on character n-gram means) on a PyTorch device.

    Parameters as :class:`TorchWord2Vec`, plus ``minn``, ``maxn``, ``bucket`` as
    :class:`~seqlab.embeddings.fasttext.FastText`. Everything but the batched epochs comes from
    :class:`FastText` (next in the method resolution order): its argument checks and defaults
    (``alpha`` 0.05, ``ns_exponent`` 0.5), its n-gram hashing and row layout, and its
    :class:`FastTextKeyedVectors`, so the result answers out-of-vocabulary words the same way.

    Examples
    --------
    >>> text = [["walking", "talking", "walked", "talked"]] * 50
    >>> wv = TorchFastText(vector_size=8, min_count=1, epochs=1, device="cpu").train(
    ...     text, progress=False)
    >>> type(wv).__name__, wv["walks"].shape
    ('FastTextKeyedVectors', (8,))
    """


class TorchGloVe(GloVe):
    """GloVe on a PyTorch device: a :class:`~seqlab.embeddings.GloVe` whose fit runs in
    minibatches of nonzero entries with sparse AdaGrad.

    Parameters as :class:`~seqlab.embeddings.GloVe`, which checks and stores them (``alpha`` is
    the weighting exponent, ``learning_rate`` AdaGrad's step), plus ``batch_size`` (entries per
    step) and ``device``; ``workers`` other than 1 raises :class:`UnsupportedSettingError`.
    Counting runs on the CPU (:meth:`GloVe.train`); :meth:`fit` then keeps the matrix on the
    device (16 bytes per nonzero entry).

    Examples
    --------
    >>> sentences = [["the", "king", "rules"], ["the", "queen", "rules"]] * 50
    >>> model = TorchGloVe(vector_size=8, window=2, min_count=1, epochs=5, device="cpu")
    >>> model.train(sentences, progress=False).vectors.shape
    (4, 8)
    """

    #: GloVe arguments this trainer fixes: name -> (value, why no other value works).
    CPU_ONLY: ClassVar[dict[str, tuple[object, str]]] = {"workers": _ONE_STREAM}

    def __init__(
        self,
        *,
        batch_size: int = 65536,
        device: str | torch.device | None = None,
        **kwargs,
    ):
        fixed = cpu_only_arguments(type(self).__name__, kwargs, self.CPU_ONLY)
        super().__init__(**(kwargs | fixed))
        self.batch_size = positive_int("batch_size", batch_size)
        self.device = resolve_device(device)

    def hyperparameters(self) -> dict:
        """GloVe's, plus ``batch_size``; another trainer's checkpoint is refused."""
        return {
            **super().hyperparameters(),
            "algorithm": "glove-torch",
            "batch_size": self.batch_size,
        }

    def _fit(
        self, X: Cooccurrence, checkpoint, expect: dict, progress: bool, callbacks
    ) -> np.ndarray:
        """The epochs on the device, in minibatches; returns ``W + C`` (V, d)."""
        V, d, dev = X.n_words, self.vector_size, self.device
        i_all = torch.from_numpy(X.rows).to(dev).long()
        j_all = torch.from_numpy(X.cols).to(dev).long()
        x = torch.from_numpy(X.values).to(dev)
        log_x = torch.log(x).float()
        weight = torch.clamp(x / self.x_max, max=1.0).pow(self.alpha).float()
        del x

        rng = np.random.default_rng(self.seed)
        params, first_epoch = self._resume(checkpoint, expect, initial_parameters(rng, V, d))
        p = {k: torch.from_numpy(a).to(dev) for k, a in params.items()}  # W, C, bw, bc, gW...

        lr = self.learning_rate
        bar = progress_bar(self.epochs * X.nnz, first_epoch * X.nnz, "TorchGloVe", "pair", progress)
        with bar:
            for epoch in range(first_epoch, self.epochs):
                started = time.perf_counter()
                order = torch.randperm(
                    X.nnz, generator=_generator(dev, self.seed, epoch), device=dev
                )
                loss_sum = torch.zeros((), dtype=torch.float64, device=dev)
                for a in range(0, X.nnz, self.batch_size):
                    e = order[a : a + self.batch_size]
                    loss_sum += self.step(p, i_all[e], j_all[e], log_x[e], weight[e])
                    bar.update(len(e))
                loss = check_loss(float(loss_sum), X.nnz, lr, f"epoch {epoch + 1}", "learning_rate")
                bar.set_postfix(loss=f"{loss:.4f}")
                self.loss_history.append(float(loss))
                self.train_seconds += time.perf_counter() - started
                if checkpoint is not None:
                    arrays = {k: t.cpu().numpy() for k, t in p.items()}
                    meta = {**expect, "epochs_done": epoch + 1, "loss_history": self.loss_history}
                    save_checkpoint(checkpoint, arrays, meta)
                for callback in callbacks:
                    callback(self, epoch + 1, loss)
        return (p["W"] + p["C"]).cpu().numpy()

    def step(
        self,
        params: dict[str, torch.Tensor],
        i: torch.Tensor,
        j: torch.Tensor,
        log_x: torch.Tensor,
        weight: torch.Tensor,
    ) -> torch.Tensor:
        """One AdaGrad step on the entries ``X_ij`` (``i, j`` (B,) int64, ``log_x`` and
        ``weight = f(X_ij)`` (B,) float32); returns their loss ``sum 0.5 f diff^2`` before it.

        ``params`` holds ``W, C`` (V, d), ``bw, bc`` (V,) and their squared-gradient sums
        ``gW, gC, gbw, gbc``, updated in place. The gradient is written out by hand; as in
        glove.c each coordinate of ``learning_rate * gradient`` is clipped to ``grad_clip``
        and divided by the root of its sum before the sum grows. The steps aimed at a row that
        occurs several times in the batch are averaged (:func:`add_mean`); the sums add up.
        """
        p, lr, clip = params, self.learning_rate, self.grad_clip
        w, c = p["W"][i], p["C"][j]  # (B, d)
        diff = (w * c).sum(1) + p["bw"][i] + p["bc"][j] - log_x  # (B,)
        fdiff = weight * diff
        loss = 0.5 * (fdiff * diff).sum().double()
        fdiff = fdiff * lr
        # AdaGrad with glove.c's per-coordinate clipping, scattered to the rows.
        step_w = (fdiff[:, None] * c).clamp(-clip, clip)
        step_c = (fdiff[:, None] * w).clamp(-clip, clip)
        add_mean(p["W"], i, -step_w / p["gW"][i].sqrt())
        add_mean(p["C"], j, -step_c / p["gC"][j].sqrt())
        add_mean(p["bw"], i, -fdiff / p["gbw"][i].sqrt())
        add_mean(p["bc"], j, -fdiff / p["gbc"][j].sqrt())
        p["gW"].index_add_(0, i, step_w * step_w)
        p["gC"].index_add_(0, j, step_c * step_c)
        p["gbw"].index_add_(0, i, fdiff * fdiff)
        p["gbc"].index_add_(0, j, fdiff * fdiff)
        return loss
