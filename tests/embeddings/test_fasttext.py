"""fastText: n-grams and hashes as fastText computes them, OOV vectors, the model file."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from seqlab.embeddings import KeyedVectors
from seqlab.embeddings.fasttext import (
    FastText,
    FastTextKeyedVectors,
    char_ngrams,
    fnv1a,
    ngram_buckets,
)


def test_char_ngrams_match_fasttext_order():
    assert char_ngrams("where", 3, 3) == ["<wh", "whe", "her", "ere", "re>"]
    assert char_ngrams("élan") == [
        "<él",
        "<éla",
        "<élan",
        "<élan>",
        "éla",
        "élan",
        "élan>",
        "lan",
        "lan>",
        "an>",
    ]


@given(
    st.text(st.characters(exclude_characters="<>"), min_size=1, max_size=12),
    st.integers(1, 4),
    st.integers(0, 4),
)
def test_char_ngrams_are_substrings_of_the_wrapped_word(word, minn, extra):
    maxn = minn + extra
    wrapped = f"<{word}>"
    for gram in char_ngrams(word, minn, maxn):
        assert gram in wrapped and minn <= len(gram) <= maxn and gram not in ("<", ">")


def test_fnv1a_matches_fasttext_buckets():
    # ids printed by fasttext 0.9.2's get_subwords("zébra") (bucket=2M, 5 words in the model)
    expected = [
        1395360,
        1476352,
        595376,
        22531,
        312390,
        1307086,
        187389,
        145335,
        686326,
        1428277,
        1084175,
        63297,
        604331,
        991115,
    ]
    assert (ngram_buckets("zébra", 3, 6, 2_000_000) + 5).tolist() == expected
    # the reference FNV-1a on plain ASCII (no sign extension involved)
    assert fnv1a(["a"]).tolist() == [(2166136261 ^ 97) * 16777619 % 2**32]


def related_corpus(n=1200, seed=0):
    rng = np.random.default_rng(seed)
    stems = ["walk", "talk", "jump", "play", "cook", "paint"]
    sentences = []
    for _ in range(n):
        k = rng.integers(len(stems))
        words = [stems[k] + "ing", stems[k] + "ed"] + [f"x{j}" for j in rng.integers(30, size=4)]
        rng.shuffle(words)
        sentences.append(words)
    return sentences


@pytest.mark.parametrize("algo", ["skipgram", "cbow"])
def test_training_relates_words_and_builds_oov_vectors(algo):
    model = FastText(
        algo, vector_size=24, window=3, min_count=1, epochs=5, sample=0, workers=1, bucket=50_000
    )
    wv = model.train(related_corpus(), progress=False)
    assert isinstance(wv, FastTextKeyedVectors)
    assert model.loss_history[-1] < model.loss_history[0]
    assert wv.similarity("walking", "walked") > wv.similarity("walking", "cooked")
    assert "walks" not in wv
    # an unseen word shares n-grams with its family: "walks" is closest to walk*
    assert wv.most_similar("walks", topn=1)[0][0] in ("walking", "walked")


def test_word_vector_is_the_mean_of_its_rows():
    model = FastText(vector_size=8, min_count=1, epochs=1, workers=1, bucket=1000)
    wv = model.train(related_corpus(100), progress=False)
    w = wv.key_to_index["walking"]
    rows = model.weights["syn0"][model.input_rows(w)]
    assert len(rows) == 1 + len(char_ngrams("walking"))
    np.testing.assert_allclose(wv["walking"], rows.mean(axis=0), rtol=1e-5, atol=1e-7)


def test_unknown_ngrams_stay_unknown():
    wv = FastText(vector_size=8, min_count=1, epochs=1, workers=1, bucket=1000).train(
        related_corpus(50), progress=False
    )
    wv.ngram_buckets, wv.ngram_vectors = wv.ngram_buckets[:0], wv.ngram_vectors[:0]
    with pytest.raises(KeyError, match="qqqq"):
        wv["qqqq"]


def test_save_load_keeps_oov_vectors(tmp_path):
    wv = FastText(vector_size=8, min_count=1, epochs=1, workers=1).train(
        related_corpus(100), progress=False
    )
    path = tmp_path / "ft.safetensors"
    wv.save(path)
    back = FastTextKeyedVectors.load(path)
    assert back.index_to_key == wv.index_to_key
    np.testing.assert_array_equal(back["runnings"], wv["runnings"])
    plain = KeyedVectors.load(path)  # the same file is ordinary seqlab vectors too
    np.testing.assert_array_equal(plain.vectors, wv.vectors)
    wv.save(tmp_path / "ft.vec")  # text formats keep the words only
    assert len(KeyedVectors.load(tmp_path / "ft.vec")) == len(wv)


def test_invalid_ngram_settings():
    with pytest.raises(ValueError, match="minn"):
        FastText(minn=5, maxn=3)
    with pytest.raises(ValueError, match="bucket"):
        FastText(bucket=0)
