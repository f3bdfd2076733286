"""Projections: PCA, t-SNE, UMAP and word axes; computed once, cached atomically, keyed by file."""

from __future__ import annotations

import os

import numpy as np
import pytest

from seqlab.embeddings import KeyedVectors, UnknownWordError
from seqlab.explore.projection import (
    ProjectionCache,
    ProjectionUnavailable,
    compute,
    pca,
    plotted_rows,
    umap_available,
    word_axes,
)


def test_plotted_rows_follow_counts_when_known():
    vectors = np.eye(4, dtype=np.float32)
    assert plotted_rows(KeyedVectors("abcd", vectors), 2).tolist() == [0, 1]
    kv = KeyedVectors("abcd", vectors, counts=[1, 9, 9, 5])
    assert plotted_rows(kv, 3).tolist() == [1, 2, 3]  # ties keep file order
    assert plotted_rows(kv, 10).tolist() == [1, 2, 3, 0]


def test_pca_matches_the_svd_and_fills_missing_components():
    x = np.random.default_rng(0).normal(size=(50, 6)) * [5, 3, 1, 0.5, 0.1, 0.1]
    coords, comps, share = pca(x, 3)
    assert coords.shape == (50, 3)
    assert np.allclose(comps @ comps.T, np.eye(3), atol=1e-10)
    variances = coords.var(axis=0)
    assert variances[0] > variances[1] > variances[2]
    assert np.allclose(share, variances / x.var(axis=0).sum())
    flat, _, flat_share = pca(np.array([[0.0, 1.0], [1.0, 1.0]]), 3)  # rank 1: zeros beyond it
    assert np.allclose(flat[:, 1:], 0) and flat_share[1:].tolist() == [0.0, 0.0]


@pytest.mark.parametrize(("method", "dims"), [("pca", 2), ("pca", 3), ("tsne", 2), ("tsne", 3)])
def test_compute_reports_progress_and_keeps_clusters(kv, method, dims):
    rows = plotted_rows(kv, 60)
    messages = []
    projection = compute(kv, rows, method, dims, progress=messages.append)
    assert projection.coords.shape == (60, dims) and projection.coords.dtype == np.float32
    assert np.isfinite(projection.coords).all()
    assert messages and not projection.cached
    # the three meal words (cosines ≈ 0.99) sit together, far from the random fillers
    at = {kv.index_to_key[r]: projection.coords[i] for i, r in enumerate(rows)}
    meals = np.linalg.norm(at["lunch"] - at["dinner"])
    spread = np.median(np.linalg.norm(projection.coords - projection.coords.mean(0), axis=1))
    assert meals < 0.5 * spread


@pytest.mark.slow
@pytest.mark.skipif(not umap_available(), reason="umap-learn is not installed (seqlab[umap])")
def test_umap(kv):
    projection = compute(kv, plotted_rows(kv, 60), "umap", 2)
    assert projection.coords.shape == (60, 2) and np.isfinite(projection.coords).all()


def test_bad_settings(kv, monkeypatch):
    rows = plotted_rows(kv, 20)
    with pytest.raises(ValueError, match="unknown projection 'lda'"):
        compute(kv, rows, "lda", 2)
    with pytest.raises(ValueError, match="dims must be 2 or 3"):
        compute(kv, rows, "pca", 4)
    with pytest.raises(ValueError, match="at least 5 words"):
        compute(kv, rows[:3], "tsne", 2)
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None)
    with pytest.raises(ProjectionUnavailable, match=r"pip install 'seqlab\[umap\]'"):
        compute(kv, rows, "umap", 2)


def test_word_axes(kv):
    rows = plotted_rows(kv, 50)
    xy, label = word_axes(kv, rows, ("man", "woman"), None)
    assert xy.shape == (50, 2) and label == "main direction left (PCA)"
    with pytest.raises(UnknownWordError, match="'nobody'"):
        word_axes(kv, rows, ("man", "nobody"), None)
    with pytest.raises(ValueError, match="point the same way"):
        word_axes(kv, rows, ("man", "woman"), ("woman", "man"))


def test_cache_round_trip_and_key(kv, vectors_file, tmp_path):
    cache = ProjectionCache(vectors_file, tmp_path / "cache")
    rows = plotted_rows(kv, 40)
    assert cache.get("pca", 2, rows) is None
    projection = compute(kv, rows, "pca", 2)
    path = cache.put(projection)
    assert path.parent == tmp_path / "cache" and path.with_name(path.name + ".json").is_file()
    again = cache.get("pca", 2, rows)
    assert again.cached and np.array_equal(again.coords, projection.coords)
    assert again.explained == pytest.approx(projection.explained)
    # another setting, other rows or another seed is another entry
    assert cache.get("pca", 3, rows) is None
    assert cache.get("pca", 2, rows[:30]) is None
    assert cache.get("pca", 2, rows, seed=1) is None
    assert not list((tmp_path / "cache").glob("*.part"))  # written atomically: no leftovers


def test_cache_is_invalidated_when_the_vectors_file_changes(kv, tmp_path):
    path = tmp_path / "v.bin"
    kv.save(path)
    rows = plotted_rows(kv, 30)
    ProjectionCache(path, tmp_path / "c").put(compute(kv, rows, "pca", 2))
    assert ProjectionCache(path, tmp_path / "c").get("pca", 2, rows) is not None
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched: maybe new content
    assert ProjectionCache(path, tmp_path / "c").get("pca", 2, rows) is None


def test_damaged_cache_entry_is_ignored(kv, vectors_file, tmp_path):
    cache = ProjectionCache(vectors_file, tmp_path)
    rows = plotted_rows(kv, 20)
    path = cache.put(compute(kv, rows, "pca", 2))
    path.write_bytes(path.read_bytes()[:50])
    assert cache.get("pca", 2, rows) is None


def test_default_cache_folder_follows_seqlab_cache(monkeypatch, tmp_path, vectors_file):
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path))
    assert ProjectionCache(vectors_file).folder == tmp_path / "explore"
