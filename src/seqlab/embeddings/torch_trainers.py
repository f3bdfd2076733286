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

How the parameters are updated: no autograd and no optimizer
object. Each step computes the gradients by hand, from the same formulas as the CPU kernels,
and applies them with ``Tensor.index_add_`` to the touched rows only: sparse SGD with
word2vec's linearly decaying learning rate, and for GloVe sparse AdaGrad (squared-gradient
sums kept per coordinate, as glove.c). The steps aimed at a row that occurs several times in a
batch are averaged (:func:`add_mean`), not summed: they are all computed from the same pre-step
values, and summing them made frequent words diverge on text8. That is the price of batching;
it keeps every step one gather, a few dense products and one scatter per matrix, which is what
a GPU is fast at.

``device=None`` picks CUDA when available. Tests run these trainers on the CPU with tiny data;
on the CPU the numba trainers are the faster choice.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
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
    loss_history : list[float]
        Mean negative-sampling loss per (input, target) example of each epoch.

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
    def train(
        self,
        corpus: str | os.PathLike | Iterable[Sequence[str]] | Corpus,
        checkpoint: str | os.PathLike | None = None,
        progress: bool = True,
        callbacks: Sequence[Callable[[Word2Vec, int, float], None]] = (),
    ) -> KeyedVectors:
        """Train on ``corpus`` (path, token lists or prepared Corpus); return the vectors.

        As :meth:`Word2Vec.train`: ``checkpoint`` is saved after every epoch (safetensors +
        JSON, atomic) and an existing one is resumed; ``callbacks`` run after every epoch.
        Raises ``EmptyCorpusError`` for an empty corpus or one that ``min_count`` empties, and
        ``TrainingDivergedError`` (naming ``alpha``) when the loss turns NaN.
        """
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
        keep = torch.from_numpy(subsample_thresholds(counts, self.sample) / 2**32).to(dev)
        neg_table = torch.from_numpy(negative_table(counts, self.ns_exponent, rng)).to(dev).long()
        # word2vec's initialisation: input rows uniform in [-0.5, 0.5) / d, output rows zero.
        syn0 = torch.from_numpy((rng.random((n_rows + 1, d), np.float32) - 0.5) / d).to(dev)
        syn0[n_rows] = 0  # the padding row
        syn1 = torch.zeros((V, d), dtype=torch.float32, device=dev)

        expect = {
            "model": type(self).__name__,
            "corpus": corpus.fingerprint,
            "hyperparameters": self.hyperparameters(),
        }
        first_epoch = 0
        self.loss_history, self.train_seconds = [], 0.0
        stored = load_checkpoint(checkpoint, expect) if checkpoint is not None else None
        if stored is not None:
            arrays, meta = stored
            syn0 = torch.from_numpy(arrays["syn0"]).to(dev)
            syn1 = torch.from_numpy(arrays["syn1"]).to(dev)
            self.loss_history = list(meta["loss_history"])
            first_epoch = int(meta["epochs_done"])

        ids = torch.from_numpy(corpus.ids).to(dev).long()
        # Sentence number of every token: windows never cross a sentence.
        sentence = torch.repeat_interleave(
            torch.arange(len(corpus.starts), device=dev),
            torch.from_numpy(corpus.ends - corpus.starts).to(dev),
        )
        n = len(ids)
        bar = progress_bar(
            self.epochs * n, first_epoch * n, f"{type(self).__name__} {self.algo}", "w", progress
        )
        with bar:
            for epoch in range(first_epoch, self.epochs):
                started = time.perf_counter()
                g = _generator(dev, self.seed, epoch)
                kept = torch.rand(n, generator=g, device=dev) < keep[ids]  # subsampling
                words, sents = ids[kept], sentence[kept]
                loss_sum = torch.zeros((), dtype=torch.float64, device=dev)
                examples = 0
                m = len(words)
                for a in range(0, m, self.batch_size):
                    b = min(m, a + self.batch_size)
                    done = (epoch * n + a * n / max(m, 1)) / (self.epochs * n)
                    lr = self.alpha - (self.alpha - self.min_alpha) * done
                    batch_loss, batch_examples = self._step(
                        words, sents, a, b, syn0, syn1, neg_table, lr, g
                    )
                    loss_sum += batch_loss
                    examples += batch_examples
                    bar.update(round((b - a) * n / max(m, 1)))
                loss = check_loss(float(loss_sum), examples, self.alpha, f"epoch {epoch + 1}")
                bar.set_postfix(loss=f"{loss:.4f}")
                self.loss_history.append(float(loss))
                self.train_seconds += time.perf_counter() - started
                if checkpoint is not None:
                    arrays = {"syn0": syn0.cpu().numpy(), "syn1": syn1.cpu().numpy()}
                    meta = {**expect, "epochs_done": epoch + 1, "loss_history": self.loss_history}
                    save_checkpoint(checkpoint, arrays, meta)
                for callback in callbacks:
                    callback(self, epoch + 1, loss)
        # (n_rows, d) input rows back on the host: the base class turns them into word vectors.
        self._syn0 = syn0[:n_rows].cpu().numpy()
        self.wv = self._keyed_vectors(corpus)
        return self.wv

    def _step(self, words, sents, a, b, syn0, syn1, neg_table, lr, g):
        """One minibatch of centres ``words[a:b]``; returns ``(loss_sum, n_examples)``."""
        dev, W = words.device, self.window
        m = len(words)
        pos = torch.arange(a, b, device=dev)  # (B,)
        offsets = torch.cat([torch.arange(-W, 0, device=dev), torch.arange(1, W + 1, device=dev)])
        reach = torch.randint(1, W + 1, (len(pos),), generator=g, device=dev)  # shrunk window
        ctx = pos[:, None] + offsets[None, :]  # (B, 2W)
        valid = (ctx >= 0) & (ctx < m) & (offsets.abs()[None, :] <= reach[:, None])
        ctx = ctx.clamp(0, m - 1)
        valid &= sents[ctx] == sents[pos][:, None]
        centre = words[pos]  # (B,)
        if self.algo == "skipgram":
            v = self._inputs(syn0, centre)  # (B, d)
            b_idx, c_idx = valid.nonzero(as_tuple=True)  # pairs (P,)
            h, target = v[b_idx], words[ctx[b_idx, c_idx]]
        else:
            n_ctx = valid.sum(1)
            keep = n_ctx > 0
            ctx_words = words[ctx]  # (B, 2W)
            vc = self._inputs(syn0, ctx_words.reshape(-1)).view(len(pos), 2 * W, -1)
            h = (vc * valid.unsqueeze(-1)).sum(1) / n_ctx.clamp(min=1).unsqueeze(-1)  # (B, d)
            h, target = h[keep], centre[keep]
        if len(target) == 0:
            return 0.0, 0
        negs = neg_table[
            torch.randint(len(neg_table), (len(target), self.negative), generator=g, device=dev)
        ]  # (P, K)
        u_pos, u_neg = syn1[target], syn1[negs]  # (P, d), (P, K, d)
        s_pos = (h * u_pos).sum(-1)  # (P,)
        s_neg = torch.bmm(u_neg, h.unsqueeze(-1)).squeeze(-1)  # (P, K)
        loss = (
            torch.nn.functional.softplus(-s_pos).sum() + torch.nn.functional.softplus(s_neg).sum()
        )
        # d(-log sigma(s))/ds = sigma(s) - 1; d(-log sigma(-s))/ds = sigma(s). Times -lr: the step.
        g_pos = (1 - torch.sigmoid(s_pos)) * lr  # (P,)
        g_neg = -torch.sigmoid(s_neg) * lr * (negs != target[:, None])  # (P, K): skip the target
        grad_h = g_pos[:, None] * u_pos + (g_neg.unsqueeze(-1) * u_neg).sum(1)  # (P, d)
        out_rows = torch.cat([target, negs.reshape(-1)])  # (P + P*K,)
        out_steps = torch.cat(
            [g_pos[:, None] * h, (g_neg.unsqueeze(-1) * h.unsqueeze(1)).flatten(0, 1)]
        )
        add_mean(syn1, out_rows, out_steps)
        if self.algo == "skipgram":
            grad_v = torch.zeros_like(v).index_add_(0, b_idx, grad_h)  # (B, d) per centre
            self._scatter(syn0, centre, grad_v)
        else:
            # word2vec adds the whole error of the mean to every context word.
            grad_ctx = grad_h.unsqueeze(1).expand(-1, 2 * W, -1)[valid[keep]]  # (n_valid, d)
            self._scatter(syn0, ctx_words[keep][valid[keep]], grad_ctx)
        return loss.double(), len(target)

    def _inputs(self, syn0: torch.Tensor, words: torch.Tensor) -> torch.Tensor:
        """(N, d) input vectors of ``words`` (N,): the mean of each word's rows."""
        rows = self._rows[words]  # (N, S)
        return syn0[rows].sum(1) / self._lens[words].unsqueeze(-1)  # padding row stays zero

    def _scatter(self, syn0: torch.Tensor, words: torch.Tensor, grad: torch.Tensor) -> None:
        """Add ``grad`` (N, d) of each word's input vector to its rows (a mean: / rows)."""
        rows = self._rows[words]  # (N, S)
        share = (grad / self._lens[words].unsqueeze(-1)).unsqueeze(1).expand(-1, rows.shape[1], -1)
        add_mean(syn0, rows.reshape(-1), share.reshape(-1, grad.shape[1]))
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

    def _fit(self, X: Cooccurrence, checkpoint, expect: dict, progress: bool) -> np.ndarray:
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

        lr, clip = self.learning_rate, self.grad_clip
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
                    i, j = i_all[e], j_all[e]
                    w, c = p["W"][i], p["C"][j]  # (B, d)
                    diff = (w * c).sum(1) + p["bw"][i] + p["bc"][j] - log_x[e]  # (B,)
                    fdiff = weight[e] * diff
                    loss_sum += 0.5 * (fdiff * diff).sum().double()
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
                    bar.update(len(e))
                loss = check_loss(float(loss_sum), X.nnz, lr, f"epoch {epoch + 1}", "learning_rate")
                bar.set_postfix(loss=f"{loss:.4f}")
                self.loss_history.append(float(loss))
                self.train_seconds += time.perf_counter() - started
                if checkpoint is not None:
                    arrays = {k: t.cpu().numpy() for k, t in p.items()}
                    meta = {**expect, "epochs_done": epoch + 1, "loss_history": self.loss_history}
                    save_checkpoint(checkpoint, arrays, meta)
        return (p["W"] + p["C"]).cpu().numpy()
