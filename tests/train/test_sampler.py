"""ResumableBatchSampler: seeded per epoch, resumable at a position, sharded across ranks."""

import numpy as np
import pytest

from seqlab.train import ResumableBatchSampler


def epoch(sampler, e):
    sampler.set_epoch(e)
    return list(sampler)


def test_order_depends_only_on_seed_and_epoch():
    a, b = ResumableBatchSampler(50, 4, seed=3), ResumableBatchSampler(50, 4, seed=3)
    assert epoch(a, 1) == epoch(b, 1)
    assert epoch(a, 1) != epoch(a, 2)
    assert epoch(a, 1) != epoch(ResumableBatchSampler(50, 4, seed=4), 1)
    assert sorted(i for batch in epoch(a, 5) for i in batch) == list(range(50))


def test_position_resumes_the_epoch_and_only_once():
    sampler = ResumableBatchSampler(30, 4, seed=1)
    full = epoch(sampler, 2)
    sampler.set_position(3)
    assert list(sampler) == full[3:]
    assert list(sampler) == full  # the next pass starts at 0 again
    assert len(sampler) == len(full) == 8


def test_shards_deal_out_the_global_batches_of_one_process():
    lengths = np.random.default_rng(0).integers(1, 40, size=101)
    single = ResumableBatchSampler(lengths, 8, seed=7, pool_factor=3)
    shards = [
        ResumableBatchSampler(lengths, 4, seed=7, pool_factor=3, num_replicas=2, rank=r)
        for r in range(2)
    ]
    for e in range(3):
        one = epoch(single, e)
        two = [epoch(s, e) for s in shards]
        assert len(two[0]) == len(two[1]) == len(one)  # same number of steps on every rank
        for step, batch in enumerate(one):
            assert sorted(two[0][step] + two[1][step]) == sorted(batch)
            assert not set(two[0][step]) & set(two[1][step])
    # each rank's shard changes from epoch to epoch
    shard = [{i for b in epoch(shards[0], e) for i in b} for e in range(2)]
    assert shard[0] != shard[1]


def test_bucketing_stays_within_each_shard():
    lengths = np.random.default_rng(1).integers(1, 200, size=400)
    sampler = ResumableBatchSampler(lengths, 8, seed=0, num_replicas=2, rank=1)
    spread = np.mean([np.ptp(lengths[b]) for b in epoch(sampler, 0)])
    random_spread = np.mean([np.ptp(lengths[b]) for b in np.split(np.arange(400), 50)])
    assert spread < random_spread / 5


def test_training_drops_a_last_global_batch_smaller_than_the_world_evaluation_keeps_all():
    # 9 examples, 2 ranks, batch 2: global batches of 4, 4, 1; the 1 cannot feed both ranks
    train = [ResumableBatchSampler(9, 2, num_replicas=2, rank=r) for r in range(2)]
    assert [len(s) for s in train] == [2, 2]
    evaluation = [
        ResumableBatchSampler(9, 2, shuffle=False, num_replicas=2, rank=r) for r in range(2)
    ]
    seen = sorted(i for s in evaluation for b in s for i in b)
    assert seen == list(range(9))
    assert [len(s) for s in evaluation] == [3, 2]


def test_bad_arguments():
    with pytest.raises(ValueError, match="empty"):
        ResumableBatchSampler(0, 4)
    with pytest.raises(ValueError, match="batch_size"):
        ResumableBatchSampler(10, 0)
    with pytest.raises(ValueError, match="rank"):
        ResumableBatchSampler(10, 2, num_replicas=2, rank=2)
