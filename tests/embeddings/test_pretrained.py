"""Pretrained vectors into nn.Embedding: alignment, coverage, missing-word policies, freezing."""

import numpy as np
import pytest
import torch

from seqlab.embeddings import KeyedVectors, coverage, embedding_from_vectors
from seqlab.text import Vocab


@pytest.fixture
def kv():
    vectors = np.arange(12, dtype=np.float32).reshape(4, 3)
    return KeyedVectors(["the", "cat", "한국", "mat"], vectors)


@pytest.fixture
def vocab():
    return Vocab(["<pad>", "<unk>", "cat", "The", "dog", "한국"], specials=["<pad>", "<unk>"])


def test_rows_aligned_to_vocab(kv, vocab, capsys):
    emb = embedding_from_vectors(vocab, kv, missing="zero")
    out = capsys.readouterr().out
    assert "3 of 4 vocabulary words" in out and "dog" in out and "via lowercase" in out
    w = emb.weight.detach().numpy()
    assert w.shape == (6, 3)
    assert np.array_equal(w[2], kv["cat"]) and np.array_equal(w[3], kv["the"])
    assert np.array_equal(w[5], kv["한국"])
    assert not w[0].any() and not w[1].any() and not w[4].any()
    assert emb.padding_idx == 0 and emb.weight.requires_grad


def test_policies_and_freeze(kv, vocab):
    mean = embedding_from_vectors(vocab, kv, missing="mean", freeze=True, verbose=False)
    found = np.stack([kv["cat"], kv["the"], kv["한국"]])
    assert np.allclose(mean.weight[4].numpy(), found.mean(0))
    assert not mean.weight.requires_grad
    assert not mean.weight[0].any()  # <pad> stays zero
    rand = embedding_from_vectors(vocab, kv, missing="random", seed=1, verbose=False)
    again = embedding_from_vectors(vocab, kv, missing="random", seed=1, verbose=False)
    assert torch.equal(rand.weight, again.weight) and rand.weight[4].abs().sum() > 0
    with pytest.raises(ValueError, match="policy"):
        embedding_from_vectors(vocab, kv, missing="ones")


def test_from_path_and_no_coverage(kv, vocab, tmp_path):
    kv.save(tmp_path / "v.txt", format="word2vec-txt")
    emb = embedding_from_vectors(vocab, tmp_path / "v.txt", verbose=False)
    assert np.array_equal(emb.weight[2].detach().numpy(), kv["cat"])
    strict = coverage(vocab, kv, lowercase_fallback=False)
    assert strict.found == 2 and strict.missing == ["The", "dog"]
    with pytest.raises(ValueError, match="no vocabulary word"):
        embedding_from_vectors(Vocab(["zebra"]), kv, verbose=False)
    with pytest.raises(TypeError, match="key_to_index"):
        embedding_from_vectors(vocab, {"cat": [1, 2, 3]}, verbose=False)


def test_accepts_gensim_keyedvectors(vocab):
    from gensim.models import KeyedVectors as GensimKeyedVectors

    gkv = GensimKeyedVectors(vector_size=2)
    gkv.add_vectors(["cat", "dog"], np.array([[1, 2], [3, 4]], dtype=np.float32))
    emb = embedding_from_vectors(vocab, gkv, missing="zero", verbose=False)
    assert emb.weight[2].tolist() == [1, 2] and emb.weight[4].tolist() == [3, 4]
