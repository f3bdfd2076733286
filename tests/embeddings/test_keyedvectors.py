"""KeyedVectors queries: same answers as gensim 4.4 on the same vectors, clear errors otherwise."""

import numpy as np
import pytest
from gensim.models import KeyedVectors as GensimKV

from seqlab.embeddings import KeyedVectors, UnknownWordError

# gensim 4.4 calls its own deprecated init_sims() inside most_similar_cosmul
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def pair():
    """The same 400 random 24-d vectors in seqlab and in gensim (Hangul words included)."""
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(396)] + ["한국", "서울", "일본", "도쿄"]
    vectors = rng.normal(size=(len(words), 24)).astype(np.float32)
    gensim_kv = GensimKV(24)
    gensim_kv.add_vectors(words, vectors)
    return KeyedVectors(words, vectors), gensim_kv


def same_ranking(ours, theirs):
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5, atol=1e-6)


def test_contract_attributes():
    kv = KeyedVectors(["a", "b"], [[1, 2], [3, 4]], counts=[5, 3])
    assert kv.index_to_key == ["a", "b"] and kv.key_to_index == {"a": 0, "b": 1}
    assert kv.vectors.dtype == np.float32 and kv.vector_size == 2 and len(kv) == 2
    assert "a" in kv and "z" not in kv
    np.testing.assert_array_equal(kv["b"], [3, 4])
    np.testing.assert_array_equal(kv[["b", "a"]], [[3, 4], [1, 2]])
    assert kv.counts.dtype == np.int64
    np.testing.assert_allclose(np.linalg.norm(kv.unit_vectors, axis=1), 1, rtol=1e-6)


@pytest.mark.parametrize(
    ("words", "vectors", "message"),
    [
        (["a"], np.zeros((2, 3)), "1 words but 2 vectors"),
        (["a", "a"], np.zeros((2, 3)), "duplicate words"),
        (["a"], np.zeros(3), "must be 2-D"),
    ],
)
def test_bad_construction(words, vectors, message):
    with pytest.raises(ValueError, match=message):
        KeyedVectors(words, vectors)


@pytest.mark.parametrize("restrict_vocab", [None, 150])
def test_most_similar_matches_gensim(pair, restrict_vocab):
    kv, g = pair
    for positive, negative in [(["w1"], []), (["w1", "w7"], ["w3"]), (["한국", "도쿄"], ["서울"])]:
        ours = kv.most_similar(positive, negative, topn=10, restrict_vocab=restrict_vocab)
        theirs = g.most_similar(positive, negative, topn=10, restrict_vocab=restrict_vocab)
        same_ranking(ours, theirs)
        assert not set(positive + negative) & {w for w, _ in ours}  # query words excluded


def test_weighted_and_vector_keys_match_gensim(pair):
    kv, g = pair
    same_ranking(kv.most_similar([("w1", 2.0), "w2"]), g.most_similar([("w1", 2.0), "w2"]))
    vec = kv["w5"] * 3
    same_ranking(kv.most_similar(vec, topn=3), g.most_similar(vec, topn=3))


def test_cosmul_matches_gensim(pair):
    kv, g = pair
    ours = kv.most_similar_cosmul(["w1", "w2"], ["w3"], topn=10)
    same_ranking(ours, g.most_similar_cosmul(["w1", "w2"], ["w3"], topn=10))


def test_analogy_is_a_minus_b_plus_c(pair):
    kv, g = pair
    same_ranking(
        kv.analogy("한국", "서울", "도쿄", topn=5),
        g.most_similar(["한국", "도쿄"], ["서울"], topn=5),
    )
    ours = kv.analogy("w1", "w2", "w3", topn=5, method="3cosmul")
    same_ranking(ours, g.most_similar_cosmul(["w1", "w3"], ["w2"], topn=5))
    with pytest.raises(ValueError, match="3cosadd"):
        kv.analogy("w1", "w2", "w3", method="nope")


def test_lecture_analogy_answers_japan():
    vectors = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [-1, -1, -1]], np.float32)
    kv = KeyedVectors(["korea", "seoul", "japan", "tokyo", "pizza"], vectors)
    assert kv.analogy("korea", "seoul", "tokyo")[0][0] == "japan"


def test_similarity_and_doesnt_match_match_gensim(pair):
    kv, g = pair
    assert kv.similarity("w1", "서울") == pytest.approx(float(g.similarity("w1", "서울")), abs=1e-6)
    words = ["w1", "w2", "w3", "w4", "한국"]
    assert kv.doesnt_match(words) == g.doesnt_match(words)


@pytest.mark.parametrize("restrict_vocab", [None, 100])
def test_nearest_is_batched_most_similar(pair, restrict_vocab):
    kv, g = pair
    queries = ["w0", "w10", "한국", "w300"]
    batched = kv.nearest(queries, topn=7, restrict_vocab=restrict_vocab)
    for word, row in zip(queries, batched, strict=True):
        same_ranking(row, g.most_similar(word, topn=7, restrict_vocab=restrict_vocab))
    assert kv.nearest("w0", topn=0) == [[]]


def test_nearest_large_topn_uses_argpartition(pair):
    kv, g = pair
    same_ranking(kv.nearest(["w9"], topn=50)[0], g.most_similar("w9", topn=50))


def test_topn_larger_than_vocabulary():
    kv = KeyedVectors(["a", "b", "c"], np.eye(3, dtype=np.float32))
    assert [w for w, _ in kv.most_similar("a", topn=10)] == ["b", "c"]


def test_unknown_words_are_all_listed(pair):
    kv, _ = pair
    with pytest.raises(UnknownWordError, match="'nope', 'zilch'") as info:
        kv.most_similar(["w1", "nope", "zilch"])
    assert info.value.words == ["nope", "zilch"]
    assert isinstance(info.value, ValueError) and isinstance(info.value, KeyError)
    for call in (
        lambda: kv["nope"],
        lambda: kv.similarity("w1", "nope"),
        lambda: kv.nearest(["w1", "nope"]),
        lambda: kv.doesnt_match(["w1", "nope"]),
        lambda: kv.analogy("nope", "w1", "w2"),
        lambda: kv.most_similar_cosmul(["w1"], ["nope"]),
    ):
        with pytest.raises(UnknownWordError, match="nope"):
            call()


class CharVectors(KeyedVectors):
    """A fastText-like subclass: unseen words get the mean vector of their letters' words."""

    def _oov_vector(self, word):
        rows = [self.key_to_index[ch] for ch in word if ch in self.key_to_index]
        return self.vectors[rows].mean(axis=0) if rows else None


def test_oov_hook_supplies_vectors():
    rng = np.random.default_rng(0)
    kv = CharVectors(list("abcdef"), rng.normal(size=(6, 4)).astype(np.float32))
    np.testing.assert_allclose(kv["ab"], (kv["a"] + kv["b"]) / 2)
    assert kv.similarity("ab", "ab") == pytest.approx(1.0)
    assert len(kv.most_similar("ab", topn=3)) == 3  # nothing excluded: 'ab' has no row
    assert len(kv.nearest(["ab", "c"], topn=2)) == 2
    with pytest.raises(UnknownWordError, match="xyz"):
        kv.most_similar("xyz")


@pytest.mark.parametrize(
    "module",
    [
        "seqlab.embeddings.keyedvectors",
        "seqlab.embeddings.formats",
        "seqlab.embeddings.evaluate",
        "seqlab.embeddings.plot",
    ],
)
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


def test_assigning_vectors_refreshes_the_unit_cache():
    kv = KeyedVectors(["a", "b"], [[1, 0], [0, 1]])
    assert kv.similarity("a", "b") == 0
    kv.vectors = np.array([[1, 0], [1, 0]], dtype=np.float32)
    assert kv.similarity("a", "b") == pytest.approx(1)
