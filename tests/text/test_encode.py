"""One-hot (the lecture's table), padding, collate and the bucketing sampler."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from seqlab.text import BucketBatchSampler, Collate, Vocab, one_hot, one_hot_table, pad

SENTENCE = ["the", "cat", "sat", "on", "the", "mat"]


def test_lecture_one_hot_table():
    vocab = Vocab.from_iterable([SENTENCE])
    assert vocab.itos == ["the", "cat", "sat", "on", "mat"]
    table = one_hot(vocab.encode(SENTENCE), len(vocab))
    assert table.shape == (6, 5)
    expected = np.array(
        [
            [1, 0, 0, 0, 0],  # the
            [0, 1, 0, 0, 0],  # cat
            [0, 0, 1, 0, 0],  # sat
            [0, 0, 0, 1, 0],  # on
            [1, 0, 0, 0, 0],  # the
            [0, 0, 0, 0, 1],  # mat
        ]
    )
    assert np.array_equal(table, expected)
    sparse = one_hot(vocab.encode(SENTENCE), len(vocab), sparse=True)
    assert sparse.nnz == 6 and np.array_equal(sparse.toarray(), expected)
    text = one_hot_table(SENTENCE, vocab).splitlines()
    assert text[0].split() == vocab.itos
    assert [line.split()[0] for line in text[1:]] == SENTENCE
    assert [list(map(int, line.split()[1:])) for line in text[1:]] == expected.tolist()


def test_one_hot_rejects_out_of_range():
    with pytest.raises(IndexError, match="num_classes"):
        one_hot([0, 5], 5)


def test_pad_with_lengths_and_truncation():
    x, lengths = pad([[1, 2, 3], [4], [5, 6]], pad_id=0)
    assert x.tolist() == [[1, 2, 3], [4, 0, 0], [5, 6, 0]] and lengths.tolist() == [3, 1, 2]
    x, lengths = pad([[1, 2, 3], [4]], max_len=2, batch_first=False)
    assert x.tolist() == [[1, 4], [2, 0]] and lengths.tolist() == [2, 1]


def test_collate_padded_packed_and_targets():
    batch = [([1, 2, 3], 1), ([4], 0), ([5, 6], 1)]
    x, lengths, y = Collate(batch_first=True)(batch)
    assert x.dtype == torch.int64 and x.shape == (3, 3)
    assert lengths.tolist() == [3, 1, 2] and y.tolist() == [1, 0, 1]
    packed, lengths, y = Collate(pack=True)(batch)
    assert isinstance(packed, PackedSequence)
    unpacked, unpacked_lengths = pad_packed_sequence(packed, batch_first=True)
    assert torch.equal(unpacked, x) and torch.equal(unpacked_lengths, lengths)
    # per-step targets (language modelling) are padded with -100
    x, lengths, y = Collate()([([1, 2], [2, 3]), ([4], [5])])
    assert y.tolist() == [[2, 3], [5, -100]]
    x, lengths = Collate(batch_first=False)([torch.tensor([1, 2]), np.array([3])])
    assert x.tolist() == [[1, 3], [2, 0]]
    with pytest.raises(ValueError, match="length 0"):
        Collate()([[1], []])


@settings(max_examples=40, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 50), min_size=1, max_size=200),
    batch_size=st.integers(1, 17),
    pool_factor=st.integers(1, 5),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    epoch=st.integers(0, 3),
)
def test_bucketing_keeps_every_example_once(
    lengths, batch_size, pool_factor, shuffle, drop_last, epoch
):
    sampler = BucketBatchSampler(lengths, batch_size, shuffle, pool_factor, drop_last, seed=7)
    sampler.set_epoch(epoch)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    flat = [i for b in batches for i in b]
    assert all(1 <= len(b) <= batch_size for b in batches)
    if drop_last:
        assert all(len(b) == batch_size for b in batches)
        # full pools hold whole batches, so only the last pool drops (< batch_size) examples
        assert len(set(flat)) == len(flat) and len(flat) > len(lengths) - batch_size
    else:
        assert sorted(flat) == list(range(len(lengths)))
    assert list(sampler) == batches  # same seed and epoch: same order


def test_bucketing_reduces_padding_and_reshuffles():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 100, size=2000)
    bucketed = BucketBatchSampler(lengths, 32, pool_factor=50)
    random = BucketBatchSampler(lengths, 32, pool_factor=1)
    assert bucketed.padding_fraction() < random.padding_fraction() / 3
    first = list(bucketed)
    bucketed.set_epoch(1)
    assert list(bucketed) != first
    assert sorted(i for b in bucketed for i in b) == list(range(2000))
