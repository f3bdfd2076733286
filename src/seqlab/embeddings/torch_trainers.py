"""word2vec, fastText and GloVe in PyTorch, in minibatches, for a GPU (or the CPU).

The same objectives as the numba trainers (:mod:`~seqlab.embeddings.word2vec`,
:mod:`~seqlab.embeddings.fasttext`, :mod:`~seqlab.embeddings.glove`), reorganised for a device
that wants thousands of examples per step:

- word2vec / fastText: a minibatch is ``B`` centre tokens of the subsampled corpus, every
  (centre, context) pair inside each centre's randomly shrunk window (``P`` pairs) and ``K``
  negatives per pair drawn from a unigram**``ns_exponent`` table. Skip-gram predicts each
  context word from the centre's input vector (fastText's orientation, so a fastText word's
  n-gram mean is computed once per centre); CBOW predicts the centre from the mean of its
  context words' input vectors. fastText's input vector of a word is the mean of its own row
  and its n-gram rows.
- GloVe: a minibatch is ``B`` nonzero entries ``X_ij`` in a fresh random order every epoch.

How the parameters are updated (the issue's "document which"): no autograd and no optimizer
object. Each step computes the gradients by hand, from the same formulas as the CPU kernels,
and applies them with ``Tensor.index_add_`` to the touched rows only: sparse SGD with
word2vec's linearly decaying learning rate, and for GloVe sparse AdaGrad (squared-gradient
sums kept per coordinate, as glove.c). Updates of a row that occurs several times in a batch
add up, as Hogwild threads would apply them one after the other, but computed from the same
pre-step values. That is the price of batching; it keeps every step one gather, a few dense
products and one scatter per matrix, which is what a GPU is fast at.

``device=None`` picks CUDA when available. Tests run these trainers on the CPU with tiny data;
on the CPU the numba trainers are the faster choice.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence

import numpy as np
import torch

from seqlab.embeddings.cooccurrence import MAX_WINDOW, count_cooccurrences
from seqlab.embeddings.keyedvectors import KeyedVectors
from seqlab.embeddings.training import (
    Corpus,
    check_loss,
    load_checkpoint,
    prepare_corpus,
    save_checkpoint,
)


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


def _generator(device: torch.device, seed: int, epoch: int) -> torch.Generator:
    """A generator seeded from ``(seed, epoch)``: a resumed run replays the same epoch."""
    g = torch.Generator(device=device)
    g.manual_seed(int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0]))
    return g


def _progress(total: int, initial: int, desc: str, unit: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit=unit,
        unit_scale=True,
        disable=not enabled,
        smoothing=0.1,
        dynamic_ncols=True,
    )


class TorchWord2Vec:
    """word2vec with negative sampling on a PyTorch device (see :class:`Word2Vec`).

    Parameters
    ----------
    algo : {"skipgram", "cbow"}
        Or gensim's ``sg=True/False``.
    vector_size, window, negative, sample, min_count, max_vocab, epochs, alpha, min_alpha, seed,
    ns_exponent
        As :class:`~seqlab.embeddings.Word2Vec` (``alpha``: initial learning rate, default
        0.025 for skip-gram and 0.05 for CBOW, decaying linearly to ``min_alpha``).
    batch_size : int
        Centre tokens per step (``B``); pairs per step are about ``B * window``.
    device : str or torch.device, optional
        ``"cuda"``, ``"cpu"``...; ``None`` takes CUDA when available.

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

    def __init__(
        self,
        algo: str = "skipgram",
        vector_size: int = 100,
        window: int = 5,
        negative: int = 5,
        sample: float = 1e-3,
        min_count: int = 5,
        max_vocab: int | None = None,
        epochs: int = 5,
        alpha: float | None = None,
        min_alpha: float = 1e-4,
        batch_size: int = 4096,
        seed: int = 1,
        device: str | torch.device | None = None,
        sg: bool | None = None,
        ns_exponent: float = 0.75,
    ):
        if sg is not None:
            algo = "skipgram" if sg else "cbow"
        if algo not in ("skipgram", "cbow"):
            raise ValueError(f"algo must be 'skipgram' or 'cbow', got {algo!r}")
        for name, value in [
            ("vector_size", vector_size),
            ("window", window),
            ("negative", negative),
            ("min_count", min_count),
            ("epochs", epochs),
            ("batch_size", batch_size),
        ]:
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.algo = algo
        self.vector_size = int(vector_size)
        self.window = int(window)
        self.negative = int(negative)
        self.sample = float(sample)
        self.min_count = int(min_count)
        self.max_vocab = max_vocab
        self.epochs = int(epochs)
        self.alpha = float(alpha if alpha is not None else self._default_alpha())
        self.min_alpha = float(min_alpha)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.device = resolve_device(device)
        self.ns_exponent = float(ns_exponent)
        self.loss_history: list[float] = []
        self.train_seconds = 0.0
        self.wv: KeyedVectors | None = None

    def _default_alpha(self) -> float:
        return 0.025 if self.algo == "skipgram" else 0.05

    def hyperparameters(self) -> dict:
        """Everything that changes the result; a checkpoint must match it to be resumed."""
        return {
            "trainer": type(self).__name__,
            "algo": self.algo,
            "vector_size": self.vector_size,
            "window": self.window,
            "negative": self.negative,
            "sample": self.sample,
            "alpha": self.alpha,
            "min_alpha": self.min_alpha,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "ns_exponent": self.ns_exponent,
        }

    # ------------------------------------------------------------------ input rows
    def _input_rows(self, corpus: Corpus) -> tuple[int, np.ndarray, np.ndarray]:
        """``(n_rows, sub_ptr, sub_idx)``: word ``w`` reads ``sub_idx[sub_ptr[w]:sub_ptr[w+1]]``."""
        n = len(corpus.vocab)
        return n, np.arange(n + 1, dtype=np.int64), np.arange(n, dtype=np.int64)

    def _keyed_vectors(self, corpus: Corpus, syn0: np.ndarray) -> KeyedVectors:
        return KeyedVectors(corpus.vocab.itos, syn0[: len(corpus.vocab)], corpus.vocab.counts)

    # ------------------------------------------------------------------ training
    def train(
        self,
        corpus: str | os.PathLike | Iterable[Sequence[str]] | Corpus,
        checkpoint: str | os.PathLike | None = None,
        progress: bool = True,
    ) -> KeyedVectors:
        """Train on ``corpus`` (path, token lists or prepared Corpus); return the vectors.

        ``checkpoint``: saved after every epoch (safetensors + JSON, atomic); an existing one
        is resumed. Raises ``EmptyCorpusError`` for an empty corpus or one that ``min_count``
        empties, and ``TrainingDivergedError`` (naming ``alpha``) when the loss turns NaN.
        """
        from seqlab.embeddings.word2vec import negative_table, subsample_thresholds

        if not isinstance(corpus, Corpus):
            corpus = prepare_corpus(corpus, self.min_count, self.max_vocab)
        dev, d = self.device, self.vector_size
        V = len(corpus.vocab)
        n_rows, sub_ptr, sub_idx = self._input_rows(corpus)
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

        expect = {"hyperparameters": self.hyperparameters(), "corpus": corpus.fingerprint}
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
        bar = _progress(
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
        vectors = self._inputs(syn0, torch.arange(V, device=dev)).cpu().numpy()
        self._syn0 = syn0[:n_rows].cpu().numpy()
        self.wv = self._keyed_vectors(corpus, vectors)
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
        syn1.index_add_(0, target, g_pos[:, None] * h)
        syn1.index_add_(
            0, negs.reshape(-1), (g_neg.unsqueeze(-1) * h.unsqueeze(1)).reshape(-1, h.shape[1])
        )
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
        syn0.index_add_(0, rows.reshape(-1), share.reshape(-1, grad.shape[1]))
        syn0[-1] = 0  # padding row: whatever landed there is not a parameter


class TorchFastText(TorchWord2Vec):
    """fastText (word2vec on character n-gram means) on a PyTorch device.

    Parameters as :class:`TorchWord2Vec`, plus ``minn``, ``maxn``, ``bucket`` as
    :class:`~seqlab.embeddings.fasttext.FastText` (whose n-gram hashing it reuses, so the
    result answers out-of-vocabulary words the same way). ``alpha`` defaults to 0.05 and
    ``ns_exponent`` to 0.5, as fastText.

    Examples
    --------
    >>> text = [["walking", "talking", "walked", "talked"]] * 50
    >>> wv = TorchFastText(vector_size=8, min_count=1, epochs=1, device="cpu").train(
    ...     text, progress=False)
    >>> type(wv).__name__, wv["walks"].shape
    ('FastTextKeyedVectors', (8,))
    """

    def __init__(
        self,
        algo: str = "skipgram",
        minn: int = 3,
        maxn: int = 6,
        bucket: int = 2_000_000,
        ns_exponent: float = 0.5,
        **kwargs,
    ):
        from seqlab.embeddings.fasttext import FastText

        # The CPU trainer owns the n-gram layout; this one borrows it (and its argument checks).
        self._layout = FastText(minn=minn, maxn=maxn, bucket=bucket)
        self.minn, self.maxn, self.bucket = minn, maxn, bucket
        super().__init__(algo, ns_exponent=ns_exponent, **kwargs)

    def _default_alpha(self) -> float:
        return 0.05

    def hyperparameters(self) -> dict:
        return {
            **super().hyperparameters(),
            "minn": self.minn,
            "maxn": self.maxn,
            "bucket": self.bucket,
        }

    def _input_rows(self, corpus: Corpus) -> tuple[int, np.ndarray, np.ndarray]:
        n_rows, sub_ptr, sub_idx = self._layout._input_rows(corpus)
        return n_rows, sub_ptr.astype(np.int64), sub_idx.astype(np.int64)

    def _keyed_vectors(self, corpus: Corpus, vectors: np.ndarray):
        from seqlab.embeddings.fasttext import FastTextKeyedVectors

        n = len(corpus.vocab)
        return FastTextKeyedVectors(
            corpus.vocab.itos,
            vectors,
            corpus.vocab.counts,
            self._syn0[n:],
            self._layout._buckets,
            self.minn,
            self.maxn,
            self.bucket,
        )


class TorchGloVe:
    """GloVe on a PyTorch device: minibatches of nonzero entries, sparse AdaGrad.

    Parameters as :class:`~seqlab.embeddings.GloVe` (``alpha`` is the weighting exponent,
    ``learning_rate`` AdaGrad's step), plus ``batch_size`` (entries per step) and ``device``.
    Counting runs on the CPU (:func:`~seqlab.embeddings.cooccurrence.count_cooccurrences`);
    the matrix then lives on the device (16 bytes per nonzero entry).

    Examples
    --------
    >>> sentences = [["the", "king", "rules"], ["the", "queen", "rules"]] * 50
    >>> model = TorchGloVe(vector_size=8, window=2, min_count=1, epochs=5, device="cpu")
    >>> model.train(sentences, progress=False).vectors.shape
    (4, 8)
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
        batch_size: int = 65536,
        seed: int = 1,
        device: str | torch.device | None = None,
        memory_limit: int = 2 << 30,
    ):
        for name, value in [
            ("vector_size", vector_size),
            ("epochs", epochs),
            ("min_count", min_count),
            ("batch_size", batch_size),
        ]:
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name, value in [
            ("x_max", x_max),
            ("alpha", alpha),
            ("learning_rate", learning_rate),
            ("grad_clip", grad_clip),
        ]:
            if not value > 0:
                raise ValueError(f"{name}={value}: pass a positive number")
        if not 1 <= window <= MAX_WINDOW:
            raise ValueError(f"window={window}: pass a window between 1 and {MAX_WINDOW}")
        self.vector_size, self.window, self.symmetric = vector_size, window, symmetric
        self.distance_weighting, self.x_max, self.alpha = distance_weighting, x_max, alpha
        self.learning_rate, self.epochs, self.min_count = learning_rate, epochs, min_count
        self.max_vocab, self.grad_clip, self.batch_size = max_vocab, grad_clip, batch_size
        self.seed, self.memory_limit = seed, memory_limit
        self.device = resolve_device(device)
        self.loss_history: list[float] = []
        self.train_seconds = 0.0
        self.wv: KeyedVectors | None = None

    def hyperparameters(self) -> dict:
        """Everything that changes the result; a checkpoint must match it to be resumed."""
        return {
            "trainer": "TorchGloVe",
            "vector_size": self.vector_size,
            "window": self.window,
            "symmetric": self.symmetric,
            "distance_weighting": self.distance_weighting,
            "x_max": self.x_max,
            "alpha": self.alpha,
            "learning_rate": self.learning_rate,
            "grad_clip": self.grad_clip,
            "batch_size": self.batch_size,
            "seed": self.seed,
        }

    def train(
        self,
        corpus: str | os.PathLike | Iterable[Sequence[str]] | Corpus,
        checkpoint: str | os.PathLike | None = None,
        progress: bool = True,
    ) -> KeyedVectors:
        """Count co-occurrences, fit on the device, return ``W + W~`` (also ``self.wv``).

        ``checkpoint`` as :meth:`TorchWord2Vec.train`. Raises ``EmptyCorpusError``, and
        ``TrainingDivergedError`` naming ``learning_rate`` when the loss turns NaN or explodes.
        """
        if not isinstance(corpus, Corpus):
            corpus = prepare_corpus(corpus, self.min_count, self.max_vocab)
        V, d, dev = len(corpus.vocab), self.vector_size, self.device
        X = count_cooccurrences(
            corpus.ids,
            corpus.starts,
            V,
            self.window,
            self.symmetric,
            self.distance_weighting,
            self.memory_limit,
            progress=progress,
        )
        if X.nnz == 0:
            raise ValueError(
                "the co-occurrence matrix is empty (no two words share a window): "
                "give a corpus with sentences of at least two in-vocabulary words"
            )
        i_all = torch.from_numpy(X.rows).to(dev).long()
        j_all = torch.from_numpy(X.cols).to(dev).long()
        x = torch.from_numpy(X.values).to(dev)
        log_x = torch.log(x).float()
        weight = torch.clamp(x / self.x_max, max=1.0).pow(self.alpha).float()
        del x

        rng = np.random.default_rng(self.seed)
        shapes = {"W": (V, d), "C": (V, d), "bw": (V,), "bc": (V,)}
        p = {
            k: torch.from_numpy((rng.random(s, np.float32) - 0.5) / d).to(dev)
            for k, s in shapes.items()
        }
        p |= {f"g{k}": torch.ones_like(p[k]) for k in shapes}
        expect = {"hyperparameters": self.hyperparameters(), "corpus": corpus.fingerprint}
        first_epoch = 0
        self.loss_history, self.train_seconds = [], 0.0
        stored = load_checkpoint(checkpoint, expect) if checkpoint is not None else None
        if stored is not None:
            arrays, meta = stored
            p = {k: torch.from_numpy(arrays[k]).to(dev) for k in p}
            self.loss_history = list(meta["loss_history"])
            first_epoch = int(meta["epochs_done"])

        lr, clip = self.learning_rate, self.grad_clip
        bar = _progress(self.epochs * X.nnz, first_epoch * X.nnz, "TorchGloVe", "pair", progress)
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
                    p["W"].index_add_(0, i, -step_w / p["gW"][i].sqrt())
                    p["C"].index_add_(0, j, -step_c / p["gC"][j].sqrt())
                    p["bw"].index_add_(0, i, -fdiff / p["gbw"][i].sqrt())
                    p["bc"].index_add_(0, j, -fdiff / p["gbc"][j].sqrt())
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
        vectors = (p["W"] + p["C"]).cpu().numpy()
        self.wv = KeyedVectors(corpus.vocab.itos, vectors, corpus.vocab.counts)
        return self.wv
