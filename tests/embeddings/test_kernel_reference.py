"""The compiled word2vec / fastText kernels make exactly the updates of the textbook equations.

A NumPy reference, written update by update as word2vec.c and fastText do them, trains the same
tiny corpus from the same start (set through ``build`` and ``weights``) with the same noise
words (``negative_table``), one worker, window 1 (no random shrink), no subsampling and a
constant learning rate; the weights and the loss must agree after every epoch. The kernels
read sigmoid from a 4096-bin table, the reference computes it exactly: they agree to ~1e-3 of
the updates, while a wrong sign, a missing term or a wrong noise word is off by the update.
"""

import numpy as np
import pytest

from seqlab.embeddings.fasttext import FastText
from seqlab.embeddings.word2vec import Word2Vec, huffman_codes

MAX_EXP = 6.0  # word2vec: beyond |z| = 6 sigmoid is taken as 0 or 1
ALPHA = 0.3
SENTENCES = [
    ["walking", "talked", "cat", "walking", "dog"],
    ["dog", "talking", "cat", "walked"],
    ["cat", "cat", "walking", "talked", "dog", "talking"],
    ["walked", "dog"],
    ["talking", "walking", "cat", "dog", "talked", "walked", "cat"],
]


def logistic(x, out, row, label, alpha, neu1e):
    """One logistic example of word2vec: score ``x`` against ``out[row]``; step ``out[row]``
    and add the input's step to ``neu1e``; return the loss ``-log sigmoid(z)``."""
    f = x @ out[row]
    z = f if label else -f  # the logit of the right answer
    if z >= MAX_EXP:
        return 0.0
    if z > -MAX_EXP:
        s = 1 / (1 + np.exp(-z))
        g, loss = (1 - s) * alpha, -np.log(s)
    else:
        g, loss = alpha, -z
    g = g if label else -g
    neu1e += g * out[row]  # before out[row] changes
    out[row] += g * x
    return loss


class Reference:
    """word2vec / fastText training in NumPy (float64), one update at a time."""

    def __init__(self, model, corpus):
        w = model.weights
        self.syn0, self.syn1neg, self.syn1 = (w[k].astype(np.float64) for k in w)
        self.table = model.negative_table.copy()
        self.q = 0  # position in the table
        self.rows = [model.input_rows(i) for i in range(len(corpus.vocab))]
        self.huffman = huffman_codes(corpus.vocab.counts)  # as the model builds its tree
        self.model = model
        self.sentences = [
            corpus.ids[a:b].tolist() for a, b in zip(corpus.starts, corpus.ends, strict=True)
        ]
        self.loss, self.examples = 0.0, 0

    def draw(self, target):
        """The next ``negative`` table entries that are not ``target``."""
        negs = []
        while len(negs) < self.model.negative:
            neg = self.table[self.q]
            self.q = (self.q + 1) % len(self.table)
            if neg != target:
                negs.append(neg)
        return negs

    def predict(self, h, target, negs, hs_path):
        """Every update that makes ``h`` predict ``target``; returns the input's step."""
        neu1e = np.zeros_like(h)
        for j, row in enumerate([target, *negs] if self.model.negative else []):
            self.loss += logistic(h, self.syn1neg, row, j == 0, ALPHA, neu1e)
        for node, code in hs_path:  # word2vec's label = 1 - code
            self.loss += logistic(h, self.syn1, node, code == 0, ALPHA, neu1e)
        self.examples += 1
        return neu1e

    def path(self, word):
        if not self.model.hs:
            return []
        points, codes, lens = self.huffman
        return list(zip(points[word, : lens[word]], codes[word, : lens[word]], strict=True))

    def epoch(self):
        m = self.model
        for sentence in self.sentences:
            for pos, word in enumerate(sentence):
                context = [c for c in (pos - 1, pos + 1) if 0 <= c < len(sentence)]
                if m.algo == "cbow":  # the mean of all context rows predicts the word
                    rows = [r for c in context for r in self.rows[sentence[c]]]
                    negs = self.draw(word)
                    neu1e = self.predict(self.syn0[rows].mean(axis=0), word, negs, self.path(word))
                    for r in rows:  # every row receives the whole step (word2vec, fastText)
                        self.syn0[r] += neu1e
                elif isinstance(m, FastText):  # the word's rows predict each context word
                    for c in context:
                        target = sentence[c]
                        h = self.syn0[self.rows[word]].mean(axis=0)
                        neu1e = self.predict(h, target, self.draw(target), self.path(target))
                        for r in self.rows[word]:
                            self.syn0[r] += neu1e
                else:  # word2vec skip-gram: each context word's row predicts the word
                    shared = self.draw(word) if m.shared_negatives else None
                    for c in context:
                        negs = shared if shared is not None else self.draw(word)
                        row = sentence[c]
                        neu1e = self.predict(self.syn0[row].copy(), word, negs, self.path(word))
                        self.syn0[row] += neu1e


def check_against_reference(model):
    corpus = model.build(SENTENCES)
    rng = np.random.default_rng(7)
    for matrix in model.weights.values():  # non-zero outputs: every term matters
        matrix[:] = rng.normal(0, 0.4, matrix.shape)
    model.negative_table = rng.permutation(np.repeat(np.arange(len(corpus.vocab)), 3))
    reference = Reference(model, corpus)
    start = reference.syn0.copy()
    compared = []

    def compare(model, epoch, loss):
        online = model.online_loss_history[-1]
        reference.loss, reference.examples = 0.0, 0
        reference.epoch()
        w = model.weights
        np.testing.assert_allclose(w["syn0"], reference.syn0, atol=2e-3)
        np.testing.assert_allclose(w["syn1neg"], reference.syn1neg, atol=2e-3)
        np.testing.assert_allclose(w["syn1"], reference.syn1, atol=2e-3)
        assert online == pytest.approx(reference.loss / reference.examples, abs=2e-3)
        compared.append(epoch)

    model.train(corpus, progress=False, callbacks=[compare])
    assert compared == [1, 2, 3]
    assert np.abs(reference.syn0 - start).max() > 0.2  # the updates are large enough to check


SETTINGS = dict(
    vector_size=6, window=1, sample=0, min_count=1, epochs=3, workers=1, alpha=ALPHA,
    min_alpha=ALPHA,
)  # fmt: skip


@pytest.mark.parametrize(
    ("algo", "negative", "hs", "shared"),
    [
        ("skipgram", 3, False, False),  # the default: negatives per (context, centre) pair
        ("skipgram", 3, False, True),
        ("cbow", 3, False, False),
        ("skipgram", 0, True, False),
        ("cbow", 0, True, False),
        ("skipgram", 2, True, False),  # both heads at once
    ],
)
def test_word2vec_kernel_matches_the_reference(algo, negative, hs, shared):
    model = Word2Vec(algo, negative=negative, hs=hs, shared_negatives=shared, **SETTINGS)
    check_against_reference(model)


@pytest.mark.parametrize("algo", ["skipgram", "cbow"])
def test_fasttext_subword_kernel_matches_the_reference(algo):
    model = FastText(algo, negative=3, minn=3, maxn=4, bucket=100_000, **SETTINGS)
    check_against_reference(model)
    rows = [model.input_rows(w) for w in range(len(model.weights["syn0"]))[:6]]
    assert all(len(r) == len(set(r.tolist())) > 1 for r in rows)  # n-gram rows, no repeats


def test_cbow_direct_rows_match_the_general_path():
    # word2vec CBOW reads each word's row by id; fastText without n-grams (maxn=0) goes
    # through the general rows-of-a-word path with one row per word: the same updates.
    settings = dict(
        vector_size=20, window=3, min_count=1, epochs=2, workers=1, negative=3, hs=True,
        alpha=0.05, ns_exponent=0.75,
    )  # fmt: skip
    corpus = [s * 3 for s in SENTENCES] * 20
    direct = Word2Vec("cbow", **settings)
    general = FastText("cbow", maxn=0, **settings)
    for model in (direct, general):
        model.train(corpus, progress=False)
    for name in ("syn0", "syn1neg", "syn1"):
        np.testing.assert_array_equal(direct.weights[name], general.weights[name])
    assert direct.loss_history == general.loss_history
