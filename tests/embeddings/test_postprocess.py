"""All-but-the-top: centring, the removed directions, bad input."""

import numpy as np
import pytest

from seqlab.embeddings import KeyedVectors
from seqlab.embeddings.postprocess import all_but_the_top


def planted(n=400, d=8, seed=0):
    """Vectors with a common mean and one dominant direction on top of small noise."""
    rng = np.random.default_rng(seed)
    direction = np.zeros(d)
    direction[0], direction[1] = 0.6, 0.8
    x = rng.normal(scale=0.1, size=(n, d)) + 3.0 + rng.normal(scale=5.0, size=(n, 1)) * direction
    words = [f"w{i}" for i in range(n)]
    return KeyedVectors(words, x.astype(np.float32), counts=np.arange(n, 0, -1)), direction


def test_removes_the_mean_and_the_dominant_direction():
    kv, direction = planted()
    before = kv.vectors.copy()
    out = all_but_the_top(kv, 1)
    np.testing.assert_allclose(out.vectors.mean(axis=0), 0, atol=1e-5)
    # what is left along the planted direction is the noise's share only
    assert np.abs(out.vectors @ direction).max() < 0.05
    assert out.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(out.counts, kv.counts)
    np.testing.assert_array_equal(kv.vectors, before)  # the input is not changed


def test_removed_directions_are_the_principal_ones():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 6)) * np.array([9.0, 5.0, 1.0, 1.0, 1.0, 1.0])
    kv = KeyedVectors([str(i) for i in range(200)], x.astype(np.float32))
    out = all_but_the_top(kv, 2)
    centred = x - x.mean(axis=0)
    top = np.linalg.svd(centred, full_matrices=False)[2][:2]
    np.testing.assert_allclose(out.vectors @ top.T, 0, atol=1e-4)
    expected = centred - centred @ top.T @ top
    np.testing.assert_allclose(out.vectors, expected, atol=1e-4)


def test_zero_components_only_centres():
    kv, _ = planted()
    out = all_but_the_top(kv, 0)
    np.testing.assert_allclose(out.vectors, kv.vectors - kv.vectors.mean(axis=0), atol=1e-5)


@pytest.mark.parametrize("components", [-1, 8, 2.5, True])
def test_bad_component_counts_are_refused(components):
    kv, _ = planted(d=8)
    with pytest.raises(ValueError, match="components"):
        all_but_the_top(kv, components)
