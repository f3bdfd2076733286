"""Co-occurrence counting: exact against a brute-force count, and identical when it spills."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab.embeddings.cooccurrence import (
    MAX_WINDOW,
    CooccurrenceError,
    count_cooccurrences,
)


def brute_force(ids, line_starts, n_words, window, symmetric, distance_weighting):
    """The definition, one pair at a time (GloVe's cooccur.c loop)."""
    X = np.zeros((n_words, n_words))
    bounds = [*line_starts, len(ids)]
    for begin, end in itertools.pairwise(bounds):
        for t in range(begin, end):
            for k in range(max(begin, t - window), t):
                weight = 1 / (t - k) if distance_weighting else 1.0
                X[ids[t], ids[k]] += weight
                if symmetric:
                    X[ids[k], ids[t]] += weight
    return X


corpora = st.integers(1, 8).flatmap(
    lambda n_words: st.tuples(
        st.just(n_words),
        st.lists(st.integers(0, n_words - 1), min_size=1, max_size=120),
        st.lists(st.integers(1, 119), max_size=4),
    )
)


@settings(max_examples=60, deadline=None)
@given(
    corpus=corpora,
    window=st.integers(1, 7),
    symmetric=st.booleans(),
    distance_weighting=st.booleans(),
)
def test_counts_match_brute_force_and_spilling_changes_nothing(
    corpus, window, symmetric, distance_weighting, tmp_path_factory
):
    n_words, tokens, cuts = corpus
    ids = np.array(tokens, np.int32)
    line_starts = np.array(sorted({0} | {c for c in cuts if c < len(ids)}), np.int64)
    args = (ids, line_starts, n_words, window, symmetric, distance_weighting)
    in_memory = count_cooccurrences(*args)
    tmp = tmp_path_factory.mktemp("spill")
    spilled = count_cooccurrences(*args, memory_limit=64, tmp_dir=tmp)  # a run per few pairs

    np.testing.assert_allclose(in_memory.to_dense(), brute_force(*args), rtol=1e-12)
    # Integer counting makes the spill path bit-identical, not merely close.
    for name in ("rows", "cols", "values"):
        np.testing.assert_array_equal(getattr(spilled, name), getattr(in_memory, name))
    assert list(tmp.iterdir()) == []  # the temporary runs are gone
    if symmetric:
        dense = in_memory.to_dense()
        np.testing.assert_array_equal(dense, dense.T)


def test_spill_on_a_larger_corpus_is_identical(tmp_path):
    rng = np.random.default_rng(0)
    ids = np.minimum(rng.zipf(1.3, 50_000), 500).astype(np.int32) - 1
    line_starts = np.arange(0, 50_000, 997, dtype=np.int64)
    full = count_cooccurrences(ids, line_starts, 500, window=10)
    spilled = count_cooccurrences(
        ids, line_starts, 500, window=10, memory_limit=100_000, tmp_dir=tmp_path
    )
    np.testing.assert_array_equal(spilled.values, full.values)
    np.testing.assert_array_equal(spilled.rows, full.rows)
    np.testing.assert_array_equal(spilled.cols, full.cols)


def test_windows_stop_at_line_starts():
    ids = np.array([0, 1, 2, 3], np.int32)
    X = count_cooccurrences(ids, np.array([0, 2]), n_words=4, window=5).to_dense()
    assert X[1, 2] == 0 and X[0, 3] == 0  # across the line break
    assert X[0, 1] == 1 and X[2, 3] == 1


def test_left_context_only_when_not_symmetric():
    X = count_cooccurrences(np.array([0, 1], np.int32), None, 2, window=1, symmetric=False)
    assert X.to_dense().tolist() == [[0, 0], [1, 0]]  # row 1 saw word 0 on its left


@pytest.mark.parametrize(
    ("ids", "window", "message"),
    [
        ([], 5, "non-empty corpus"),
        ([0, 1], 0, "window=0"),
        ([0, 1], MAX_WINDOW + 1, f"between 1 and {MAX_WINDOW}"),
        ([0, 7], 5, "n_words=2"),
    ],
)
def test_bad_input_is_a_clear_error(ids, window, message):
    with pytest.raises(CooccurrenceError, match=message):
        count_cooccurrences(np.array(ids, np.int32), None, 2, window=window)
