"""A small vectors file whose answers are known, and the explorer served from it.

The first words are built from a few meaningful directions, so that the queries have one right
answer (king − man + woman = queen, 한국 − 서울 + 도쿄 = 일본, the nearest word of king is
monarch); 300 filler words of small random vectors make the map and the vocabulary less trivial.
"""

from __future__ import annotations

import numpy as np
import pytest

from seqlab.embeddings import KeyedVectors
from seqlab.explore import ProjectionCache, create_app

DIM = 24
# word: {direction: weight}; directions 0-9 carry meaning, 10-23 are noise for the fillers
MEANINGS = {
    "king": {0: 1.0},
    "monarch": {0: 1.0, 7: 0.3},
    "queen": {0: 1.0, 1: 1.0},
    "man": {6: 1.0},
    "woman": {6: 1.0, 1: 1.0},
    "한국": {2: 1.0, 4: 1.0},
    "서울": {3: 1.0, 4: 1.0},
    "일본": {2: 1.0, 5: 1.0},
    "도쿄": {3: 1.0, 5: 1.0},
    "breakfast": {8: 1.0, 9: 0.2},
    "lunch": {8: 1.0, 9: 0.3},
    "dinner": {8: 1.0, 9: 0.25},
    "cereal": {8: 0.2, 7: 1.0},
}
N_FILLERS = 300


def make_vectors() -> KeyedVectors:
    rng = np.random.default_rng(7)
    words = list(MEANINGS)
    vectors = np.zeros((len(words) + N_FILLERS, DIM), dtype=np.float32)
    for i, meaning in enumerate(MEANINGS.values()):
        for axis, weight in meaning.items():
            vectors[i, axis] = weight
    fillers = [f"w{i:03d}" for i in range(N_FILLERS)]
    vectors[len(words) :, 10:] = rng.normal(size=(N_FILLERS, DIM - 10))
    vectors[len(words) :, :10] = rng.normal(scale=0.05, size=(N_FILLERS, 10))
    counts = np.arange(len(words) + N_FILLERS, 0, -1) * 10
    return KeyedVectors(words + fillers, vectors, counts)


@pytest.fixture(scope="session")
def vectors_file(tmp_path_factory) -> str:
    """The vectors in word2vec binary format (what ``seqlab embed train`` writes by default)."""
    path = tmp_path_factory.mktemp("vectors") / "small.bin"
    make_vectors().save(path)
    return str(path)


@pytest.fixture(scope="session")
def kv(vectors_file) -> KeyedVectors:
    return KeyedVectors.load(vectors_file)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("projection-cache")


@pytest.fixture(scope="session")
def app(kv, vectors_file, cache_dir):
    """The explorer of the small vectors, its PCA map already computed."""
    app = create_app(
        kv,
        name="small.bin",
        top=200,
        cache=ProjectionCache(vectors_file, cache_dir),
        allowed_hosts=("127.0.0.1", "localhost", "testserver"),
    )
    assert app.state.jobs.wait("pca", 2).state == "ready"
    assert app.state.search.wait(60)
    return app
