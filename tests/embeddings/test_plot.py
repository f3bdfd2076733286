"""Word pictures: a real PNG with the chosen words, Hangul labels that never crash."""

import numpy as np
import pytest

from seqlab.embeddings import KeyedVectors, UnknownWordError
from seqlab.embeddings.plot import plot_words, project

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def kv():
    rng = np.random.default_rng(0)
    words = ["man", "woman", "king", "queen", "공부", "학생", "학교"] + [f"w{i}" for i in range(20)]
    return KeyedVectors(words, rng.normal(size=(len(words), 10)).astype(np.float32))


def test_pca_preserves_parallel_offsets():
    rng = np.random.default_rng(1)
    base, offset = rng.normal(size=(2, 6)), rng.normal(size=6) * 3
    vectors = np.concatenate([base, base + offset, rng.normal(size=(3, 6))])
    xy = project(vectors)
    assert xy.shape == (7, 2)
    # PCA is linear: equal offsets in R^6 stay equal in the plane
    np.testing.assert_allclose(xy[2] - xy[0], xy[3] - xy[1], atol=1e-9)


def test_plot_with_neighbours_and_arrows(kv, tmp_path):
    out = tmp_path / "plot.png"
    result = plot_words(
        kv, ["공부"], out, neighbours=3, analogies=[("man", "woman", "king", "queen")]
    )
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert result.words[:5] == ["공부", "man", "woman", "king", "queen"]
    neighbours = [w for w, _ in kv.nearest(["공부"], topn=3)[0]]
    assert set(neighbours) <= set(result.words) and len(set(result.words)) == len(result.words)
    assert result.coords.shape == (len(result.words), 2)


def test_tsne(kv, tmp_path):
    result = plot_words(kv, ["학생", "학교", "man", "w1", "w2"], tmp_path / "t.png", method="tsne")
    assert result.coords.shape == (5, 2) and (tmp_path / "t.png").stat().st_size > 0


def test_latin_labels_need_no_cjk_font(kv, tmp_path):
    assert not plot_words(kv, ["man", "woman"], tmp_path / "a.png").font_fallback


def test_bad_requests(kv, tmp_path):
    with pytest.raises(UnknownWordError, match="nope"):
        plot_words(kv, ["man", "nope"], tmp_path / "x.png")
    with pytest.raises(ValueError, match="4 words"):
        plot_words(kv, [], tmp_path / "x.png", analogies=[("man", "woman", "king")])
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_words(kv, [], tmp_path / "x.png")
    with pytest.raises(ValueError, match="'pca' or 'tsne'"):
        plot_words(kv, ["man"], tmp_path / "x.png", method="umap")
    assert not (tmp_path / "x.png").exists()
