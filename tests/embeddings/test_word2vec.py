"""word2vec: learning on a corpus with a known answer, determinism, tables, bad input."""

import numpy as np
import pytest
from numba import njit

from seqlab.embeddings import _kernels_w2v as K
from seqlab.embeddings.training import EmptyCorpusError, TrainingDivergedError
from seqlab.embeddings.word2vec import (
    Word2Vec,
    huffman_codes,
    negative_table,
    subsample_thresholds,
)
from seqlab.text.reader import TextDecodeError


def paired_corpus(n_sentences=1500, topics=12, noise=40, seed=0):
    """Sentences about one topic k: three of its four words t<k>_<i> among noise words. Words of
    a topic share their contexts, so their vectors end up closest to each other."""
    rng = np.random.default_rng(seed)
    sentences = []
    for _ in range(n_sentences):
        k = rng.integers(topics)
        words = [f"t{k}_{i}" for i in rng.permutation(4)[:3]]
        words += [f"n{j}" for j in rng.integers(noise, size=3)]
        rng.shuffle(words)
        sentences.append(words)
    return sentences


def pair_accuracy(wv, topics=12):
    """Share of topic words whose nearest other topic word is of the same topic."""
    words = [f"t{k}_{i}" for k in range(topics) for i in range(4)]
    unit = np.stack([wv.get_vector(w, norm=True) for w in words])
    scores = unit @ unit.T
    np.fill_diagonal(scores, -np.inf)
    return np.mean(np.argmax(scores, axis=1) // 4 == np.arange(len(words)) // 4)


@pytest.mark.parametrize(
    "algo,hs,negative,shared",
    [
        ("skipgram", False, 5, True),
        ("skipgram", False, 5, False),
        ("cbow", False, 5, True),
        ("skipgram", True, 0, True),
        ("cbow", True, 0, True),
    ],
)
def test_learns_pairs_and_lowers_the_loss(algo, hs, negative, shared):
    model = Word2Vec(
        algo,
        shared_negatives=shared,
        vector_size=24,
        window=3,
        hs=hs,
        negative=negative,
        sample=0,
        min_count=1,
        epochs=8,
        workers=1,
        seed=2,
        alpha=0.05,
    )
    wv = model.train(paired_corpus(), progress=False)
    assert model.loss_history[-1] < model.loss_history[0]
    assert pair_accuracy(wv) >= 0.9
    related = np.mean([wv.similarity(f"t{k}_0", f"t{k}_1") for k in range(12)])
    unrelated = np.mean([wv.similarity(f"t{k}_0", f"t{(k + 1) % 12}_1") for k in range(12)])
    assert related > unrelated + 0.2


def test_loss_is_the_negative_sampling_objective_at_start():
    # Outputs start at zero, so every logistic term starts at -log sigmoid(0) = log 2 and an
    # example with 1 target + K noise words costs (K + 1) log 2; the first epoch is below it.
    model = Word2Vec(
        vector_size=8, negative=3, min_count=1, epochs=1, workers=1, alpha=1e-6, min_alpha=1e-6
    )
    model.train(paired_corpus(200), progress=False)
    assert model.loss_history[0] == pytest.approx(4 * np.log(2), rel=1e-3)


def test_one_worker_is_bit_identical_and_seed_matters():
    corpus = paired_corpus(400)
    runs = [
        Word2Vec(vector_size=16, min_count=1, epochs=2, workers=1, seed=s, hs=True)
        .train(corpus, progress=False)
        .vectors
        for s in (5, 5, 6)
    ]
    assert np.array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


@njit  # no cache=True: numba would not see the helpers change in _kernels_w2v.py
def _simd_helpers(x, m, a):
    """Every SIMD helper of the kernels applied to ``x``, ``m[1]`` and the scalar ``a``."""
    dot = K._dot(x, m, 1)
    added, axpy, scaled = x.copy(), x.copy(), x.copy()
    K._add(added, m, 1)
    K._axpy(axpy, a, m, 1)
    K._scale(scaled, a)
    to_row, axpy_to_row = m.copy(), m.copy()
    K._add(to_row, 1, x)
    K._axpy(axpy_to_row, 1, a, x)
    return dot, added, axpy, scaled, to_row, axpy_to_row


@pytest.mark.parametrize("n", [*range(0, 34), 100])
def test_simd_blocks_match_numpy(n):
    # full 16-float blocks, then a masked block for the rest: every size up to two blocks
    rng = np.random.default_rng(n)
    x = rng.normal(size=n).astype(np.float32)
    m = rng.normal(size=(3, n)).astype(np.float32)
    a = np.float32(0.3)
    dot, added, axpy, scaled, to_row, axpy_to_row = _simd_helpers(x, m, a)
    assert dot == pytest.approx(float(x.astype(np.float64) @ m[1]), rel=1e-5, abs=1e-5)
    np.testing.assert_array_equal(added, x + m[1])
    np.testing.assert_allclose(axpy, x + a * m[1], rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(scaled, x * a)
    rows = [0, 2]  # untouched
    np.testing.assert_array_equal(to_row[rows], m[rows])
    np.testing.assert_array_equal(to_row[1], m[1] + x)
    np.testing.assert_array_equal(axpy_to_row[rows], m[rows])
    np.testing.assert_allclose(axpy_to_row[1], m[1] + a * x, rtol=1e-6, atol=1e-7)


def test_two_workers_train_every_sentence():
    model = Word2Vec("cbow", vector_size=16, min_count=1, sample=0, epochs=6, workers=2)
    wv = model.train(paired_corpus(), progress=False)
    assert pair_accuracy(wv) >= 0.9


def test_file_corpus_and_vocabulary_limits(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("\n".join(" ".join(s) for s in paired_corpus(300)) + "\n", encoding="utf-8")
    wv = Word2Vec(vector_size=8, min_count=1, max_vocab=10, epochs=1, workers=1).train(
        path, progress=False
    )
    assert len(wv) == 10
    assert wv.counts.tolist() == sorted(wv.counts.tolist(), reverse=True)


def test_huffman_codes_are_a_prefix_free_tree():
    counts = np.array([50, 30, 10, 5, 3, 1, 1])
    points, codes, lens = huffman_codes(counts)
    paths = {tuple(codes[w, : lens[w]]) for w in range(len(counts))}
    assert len(paths) == len(counts)
    for p in paths:
        assert not any(q != p and q[: len(p)] == p for q in paths)
    assert np.all(points[:, 0][lens > 0] == len(counts) - 2)  # every path starts at the root
    assert lens[0] <= lens[-1]  # frequent words get shorter codes
    # Kraft equality of a full binary tree
    assert sum(2.0**-lens) == pytest.approx(1.0)


def test_sampling_tables():
    keep = subsample_thresholds(np.array([10_000, 100, 1]), 1e-3)
    assert keep[0] < keep[1] <= 2**32 and keep[2] == 2**32
    assert np.all(subsample_thresholds(np.array([5, 1]), 0) == 2**32)
    table = negative_table(np.array([81, 16, 1]), 0.75, np.random.default_rng(0))
    share = np.bincount(table) / len(table)
    assert share == pytest.approx(np.array([27, 8, 1]) / 36, abs=1e-3)


def test_empty_corpus_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n", encoding="utf-8")
    with pytest.raises(EmptyCorpusError, match="no tokens"):
        Word2Vec().train(empty, progress=False)
    with pytest.raises(EmptyCorpusError):
        Word2Vec().train([], progress=False)


def test_min_count_removing_every_word_names_the_fix():
    with pytest.raises(EmptyCorpusError, match="lower min_freq"):
        Word2Vec(min_count=5).train([["a", "b", "a"]], progress=False)


def test_a_single_word_vocabulary_is_refused():
    with pytest.raises(EmptyCorpusError, match="at least 2 distinct words"):
        Word2Vec(min_count=1).train([["same", "same", "same"]], progress=False)


def test_non_utf8_corpus_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"good words \xff\xfe more words\n")
    with pytest.raises(TextDecodeError, match=r"bad\.txt"):
        Word2Vec(min_count=1).train(bad, progress=False)


@pytest.mark.parametrize("algo", ["skipgram", "cbow"])
def test_exploding_learning_rate_is_named(algo):
    with pytest.raises(TrainingDivergedError, match="alpha="):
        Word2Vec(algo, vector_size=8, min_count=1, epochs=3, workers=1, alpha=1e30, sample=0).train(
            paired_corpus(300), progress=False
        )


@pytest.mark.parametrize(
    "kwargs",
    [{"algo": "glove"}, {"window": 0}, {"negative": 0}, {"vector_size": 2.5}, {"sample": -1}],
)
def test_invalid_settings(kwargs):
    with pytest.raises(ValueError):
        Word2Vec(**kwargs)
