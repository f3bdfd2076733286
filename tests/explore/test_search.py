"""FastSearch answers as KeyedVectors does: its int8 bounds hold; near-ties take the exact pass."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from seqlab.embeddings import KeyedVectors, UnknownWordError
from seqlab.explore.search import FastSearch, quantise


def clustered(n: int = 3000, dim: int = 40, seed: int = 0) -> KeyedVectors:
    """Words in 30 tight clusters, so that many cosines are close to each other."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(30, dim))
    vectors = centres[rng.integers(0, 30, n)] + 0.3 * rng.normal(size=(n, dim))
    return KeyedVectors([f"w{i}" for i in range(n)], vectors.astype(np.float32))


@pytest.fixture(scope="module")
def kv() -> KeyedVectors:
    return clustered()


@pytest.fixture(scope="module")
def search(kv) -> FastSearch:
    return FastSearch(kv, background=False, threads=2)


def test_error_bounds_hold_for_every_row(kv, search):
    unit = kv.unit_vectors
    for query in (3, 50, 700):
        lower, upper = search._score_bounds(unit[[query]], search._index)
        exact = unit @ unit[query]
        assert (lower <= exact).all() and (exact <= upper).all()
        assert (upper - lower).max() < 0.1  # tight enough to leave few candidates


def test_cosmul_bounds_hold_for_every_row(kv, search):
    unit = kv.unit_vectors
    for a, c, b in [(3, 50, 700), (10, 11, 12), (5, 5, 5)]:
        lower, upper = search._score_bounds(unit[[a, c, b]], search._index)
        cosines = [unit @ unit[i] for i in (a, c, b)]
        exact = ((1 + cosines[0]) / 2) * ((1 + cosines[1]) / 2) / ((1 + cosines[2]) / 2 + 1e-6)
        assert (lower <= exact).all() and (exact <= upper).all()


@pytest.mark.parametrize("topn", [1, 10, 1000])
def test_cosmul_is_the_brute_force_answer(topn):
    """3CosMul against a float64 computation over every row, written out here."""
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(20_000, 64)).astype(np.float32)
    kv = KeyedVectors([f"w{i}" for i in range(len(vectors))], vectors)
    search = FastSearch(kv, background=False, threads=2)
    unit = vectors.astype(np.float64)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    for a, b, c in rng.integers(0, len(vectors), size=(5, 3)):
        shifted = [(1 + unit @ unit[i]) / 2 for i in (a, c, b)]
        scores = shifted[0] * shifted[1] / (shifted[2] + 1e-6)
        scores[[a, b, c]] = -np.inf
        best = np.argsort(-scores, kind="stable")[:topn]
        got = search.analogy(f"w{a}", f"w{b}", f"w{c}", topn, "3cosmul")
        assert [w for w, _ in got] == [f"w{i}" for i in best]
        assert np.allclose([s for _, s in got], scores[best], rtol=1e-5, atol=1e-6)


def test_quantised_rows_are_within_half_a_step():
    vectors = np.random.default_rng(1).normal(size=(100, 30)).astype(np.float32)
    vectors[7] = 0  # a zero row stays zero
    rows, scales, sums = quantise(vectors)
    assert rows.dtype == np.int8 and np.abs(rows).max() == 127
    assert (np.abs(rows * scales[:, None] - vectors) <= scales[:, None] * 0.5 + 1e-7).all()
    assert sums.tolist() == np.abs(rows.astype(int)).sum(axis=1).tolist()
    assert rows[7].tolist() == [0] * 30


@pytest.mark.parametrize("topn", [1, 10, 60])
def test_answers_are_those_of_keyed_vectors(kv, search, topn):
    rng = np.random.default_rng(topn)
    for a, b, c in rng.integers(0, len(kv), size=(10, 3)):
        a, b, c = (kv.index_to_key[i] for i in (a, b, c))
        assert search.nearest(a, topn) == kv.nearest([a], topn=topn)[0]
        for method in ("3cosadd", "3cosmul"):
            got = search.analogy(a, b, c, topn, method)
            expected = kv.analogy(a, b, c, topn=topn, method=method)
            assert [w for w, _ in got] == [w for w, _ in expected]
            assert np.allclose([s for _, s in got], [s for _, s in expected], rtol=1e-5)


def test_ties_beyond_the_candidates_fall_back_to_the_exact_pass(monkeypatch):
    # 1,000 copies of one vector: every candidate ties with words left outside
    vectors = np.random.default_rng(2).normal(size=(1500, 16)).astype(np.float32)
    vectors[500:] = vectors[0]
    kv = KeyedVectors([f"w{i}" for i in range(1500)], vectors)
    search = FastSearch(kv, background=False)
    exact_calls = []
    nearest = kv.nearest
    monkeypatch.setattr(kv, "nearest", lambda *a, **k: exact_calls.append(a) or nearest(*a, **k))
    assert search.nearest("w1", 5) == nearest(["w1"], topn=5)[0]
    assert search.nearest("w0", 5) == nearest(["w0"], topn=5)[0]
    assert len(exact_calls) == 1  # w1's answer was confirmed; w0 ties with 1,000 words


def test_unknown_words_are_named_together(search):
    with pytest.raises(UnknownWordError) as error:
        search.analogy("w1", "nope", "nada")
    assert error.value.words == ["nope", "nada"]
    with pytest.raises(ValueError, match="3cosadd"):
        search.analogy("w1", "w2", "w3", method="cos")


def test_the_index_is_built_in_the_background(kv):
    search = FastSearch(kv)
    assert search.nearest("w5", 3) == kv.nearest(["w5"], topn=3)[0]  # before or after: the same
    assert search.wait(60)
    assert search.nearest("w5", 3) == kv.nearest(["w5"], topn=3)[0]


def test_scores_are_bit_for_bit_those_of_keyed_vectors_at_the_end_of_the_vocabulary():
    # 1,003 words: BLAS scores the last three by another loop than the others
    vectors = np.random.default_rng(3).normal(size=(1003, 300)).astype(np.float32)
    vectors[1000:] = vectors[:3] + 0.01  # the last words are the answers of the first ones
    kv = KeyedVectors([f"w{i}" for i in range(1003)], vectors)
    search = FastSearch(kv, background=False)
    with threadpool_limits(1, user_api="blas"):  # as the server runs
        for word in ("w0", "w1", "w2", "w1002", "w500"):
            assert search.nearest(word, 5) == kv.nearest([word], topn=5)[0]
            got = search.analogy(word, "w7", "w9", 5, "3cosmul")
            assert got == kv.analogy(word, "w7", "w9", topn=5, method="3cosmul")
