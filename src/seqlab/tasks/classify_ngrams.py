"""A bag-of-n-grams vote beside the recurrent classifier: NB-weighted logistic regression.

A recurrent network reads word order but learns every phrase from a few thousand sentences;
a linear model over which words and word pairs occur learns each one from its counts alone,
and errs on other sentences. Wang & Manning (2012, "Baselines and bigrams") found such a model,
logistic regression or an SVM on binary n-gram features scaled by their naive-Bayes log-count
ratio, as accurate as the neural models of the time on short sentiment snippets, and Mesnil et
al. (2015) gained by averaging it with recurrent and paragraph-vector models. `NgramLogistic`
is that model for two classes:

- features: the distinct word 1- to 3-grams of a text that occur in the training texts, each
  stored as its 32-bit FNV-1a hash (a few hundred thousand n-grams: a handful of colliding
  pairs);
- ``r = log((p / |p|₁) / (q / |q|₁))`` with ``p``, ``q`` the counts, plus one, of texts of the
  second and first class holding the n-gram;
- L2-regularised logistic regression (scikit-learn's) on the features times ``r``. A model
  trained on short texts and applied to long ones (SST-2's phrases, then sentences) sums many
  weights and is overconfident: a stronger penalty (smaller ``c``) keeps its vote in
  proportion.

Its logit is ``bias + Σ_f r_f w_f`` over the text's n-grams, so the model is one weight per
training n-gram (``r ∘ w``) and a bias: an ``nn.EmbeddingBag`` sum.
`seqlab.tasks.classify.Classifier` averages its probabilities with the recurrent model's
(``ngram_weight``); `vote_share` chooses the share on validation texts.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from scipy import sparse
from torch import nn

from seqlab.embeddings.fasttext import fnv1a

MAX_N = 3


def ngram_hashes(tokens: list[str], max_n: int = MAX_N) -> np.ndarray:
    """Sorted distinct 32-bit FNV-1a hashes of the 1- to ``max_n``-grams of ``tokens``.

    Examples
    --------
    >>> ngram_hashes(["not", "good", "not"]).shape
    (5,)
    """
    grams = [
        " ".join(tokens[i : i + n]) for n in range(1, max_n + 1) for i in range(len(tokens) - n + 1)
    ]
    return np.unique(fnv1a(grams).astype(np.int64)) if grams else np.zeros(0, np.int64)


class NgramLogistic(nn.Module):
    """Logits ``(B, 2)`` = ``(0, bias + Σ weight)`` over the known n-grams of each text.

    ``keys`` holds the sorted hashes of the training n-grams, ``weight`` one number per key;
    n-grams not seen in training add nothing.

    Examples
    --------
    >>> model = NgramLogistic(torch.tensor([3, 8, 9]))
    >>> model.probabilities([["good"], []]).shape
    (2, 2)
    """

    def __init__(self, keys: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("keys", keys.to(torch.int64))
        self.weight = nn.Parameter(torch.zeros(len(keys), 1), requires_grad=False)
        self.bias = nn.Parameter(torch.zeros(1), requires_grad=False)

    def rows(self, token_lists: list[list[str]]) -> list[np.ndarray]:
        """Each text's row indices into ``weight``."""
        keys = self.keys.numpy()
        out = []
        for tokens in token_lists:
            hashes = ngram_hashes(tokens)
            at = np.searchsorted(keys, hashes).clip(max=max(len(keys) - 1, 0))
            out.append(at[keys[at] == hashes] if len(keys) else at[:0])
        return out

    def forward(self, rows: list[np.ndarray]) -> torch.Tensor:
        flat = torch.from_numpy(np.concatenate([np.zeros(0, np.int64), *rows]))
        offsets = torch.tensor(np.cumsum([0] + [len(r) for r in rows[:-1]]), dtype=torch.int64)
        z = nn.functional.embedding_bag(flat, self.weight, offsets, mode="sum")[:, 0] + self.bias
        return torch.stack([torch.zeros_like(z), z], dim=-1)

    @torch.no_grad()
    def probabilities(self, token_lists: list[list[str]]) -> np.ndarray:
        """Class probabilities ``(len(token_lists), 2)``."""
        if not token_lists:
            return np.zeros((0, 2), np.float32)
        return torch.softmax(self(self.rows(token_lists)), -1).numpy()


def fit(token_lists: list[list[str]], labels, c: float = 1.0) -> NgramLogistic:
    """`NgramLogistic` fitted on tokenised texts and their labels (0 or 1); ``c`` is the
    inverse strength of the L2 penalty (scikit-learn's ``C``)."""
    # scikit-learn takes a second to import: only when a model is fitted
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(labels)
    if set(np.unique(y).tolist()) != {0, 1}:
        raise ValueError("the n-gram vote needs exactly two classes, both in the training data")
    hashes = [ngram_hashes(t) for t in token_lists]
    keys, columns = np.unique(np.concatenate([np.zeros(0, np.int64), *hashes]), return_inverse=True)
    indptr = np.cumsum([0] + [len(h) for h in hashes])
    x = sparse.csr_matrix(
        (np.ones(len(columns), np.float32), columns, indptr), shape=(len(hashes), len(keys))
    )
    p = 1.0 + np.asarray(x[y == 1].sum(0)).ravel()
    q = 1.0 + np.asarray(x[y == 0].sum(0)).ravel()
    ratio = np.log((p / p.sum()) / (q / q.sum()))
    regression = LogisticRegression(C=c, max_iter=1000).fit(x @ sparse.diags(ratio), y)
    model = NgramLogistic(torch.from_numpy(keys))
    model.weight.copy_(torch.from_numpy(ratio * regression.coef_[0]).float()[:, None])
    model.bias.copy_(torch.from_numpy(regression.intercept_).float())
    return model


#: The shares `vote_share` chooses from: 0 (no vote) to 0.95 in steps of 0.05.
VOTE_SHARES = np.round(np.arange(0.0, 0.951, 0.05), 2)


def vote_share(recurrent: np.ndarray, ngrams: np.ndarray, labels) -> float:
    """The share ``w`` of the n-gram vote whose average ``(1 - w) · recurrent + w · ngrams``
    has the least log-loss on these (validation) texts, among `VOTE_SHARES`.

    The log-loss weighs how sure each text's answer is, not only which side of 0.5 it falls
    on, so the choice moves less from one validation set to the next than the accuracy's
    would; it also corrects for a model that is more sure than it is right (the mixture's
    loss is convex in ``w``). ``recurrent`` and ``ngrams`` are ``(N, 2)`` probabilities.

    Examples
    --------
    >>> gold = np.array([0, 1, 1, 0])
    >>> sure_and_wrong = np.array([[0.99, 0.01], [0.99, 0.01], [0.01, 0.99], [0.01, 0.99]])
    >>> cautious_and_right = np.array([[0.7, 0.3], [0.3, 0.7], [0.3, 0.7], [0.7, 0.3]])
    >>> vote_share(sure_and_wrong, cautious_and_right, gold)
    0.95
    >>> vote_share(cautious_and_right, sure_and_wrong, gold)
    0.0
    """
    gold = np.asarray(labels)
    rows = np.arange(len(gold))
    a = np.asarray(recurrent, np.float64)[rows, gold]
    b = np.asarray(ngrams, np.float64)[rows, gold]
    if not len(gold) or not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("vote_share needs finite probabilities of at least one text")
    mixed = (1 - VOTE_SHARES[:, None]) * a + VOTE_SHARES[:, None] * b  # (shares, N)
    losses = -np.log(np.maximum(mixed, 1e-12)).mean(1)
    return float(VOTE_SHARES[int(losses.argmin())])


# --- the vote beside a `seqlab.tasks.classify.Classifier` (``clf``) on its
# `~seqlab.tasks.classify_data.ClassificationData` (``data``)


def fit_ngrams(clf, data) -> NgramLogistic:
    """The bag-of-n-grams model fitted on ``data.train`` with ``clf``'s tokens and penalty."""
    tokens = [clf.tokenizer(t)[: clf.config.max_tokens] for t, _ in data.train]
    labels = [y for _, y in data.train]
    return fit(tokens, labels, clf.config.ngram_c)


def vote_with_ngrams(clf, data, weight: float | str, ngrams: NgramLogistic | None = None):
    """Give a bag-of-n-grams model the share ``weight`` of ``clf``'s vote
    (``config.ngram_weight``; ``"auto"``: the share with the least log-loss on
    ``data.valid``); returns ``clf``.

    The n-gram model is ``ngrams`` if given, else fitted on ``data.train`` (the classifier's
    own tokens). A share of 0 leaves ``clf`` without it.
    """
    ngrams = fit_ngrams(clf, data) if ngrams is None else ngrams
    clf.ngrams = None
    if weight == "auto":
        texts = [t for t, _ in data.valid]
        tokens = [clf.encode(t, strict=False)[0] for t in texts]
        recurrent = clf.probabilities(texts, strict=False)
        gold = [y for _, y in data.valid]
        weight = vote_share(recurrent, ngrams.probabilities(tokens), gold)
    clf.config = dataclasses.replace(clf.config, ngram_weight=weight)
    clf.ngrams = ngrams if weight else None
    return clf
