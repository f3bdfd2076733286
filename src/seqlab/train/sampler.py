"""`ResumableBatchSampler`: seeded, length-bucketed batches that resume mid-epoch and shard.

Exact resume needs the data order to be a function of numbers a checkpoint can hold: here the
order of epoch ``e`` depends only on ``(seed, e)``, and a resumed run starts the epoch at batch
``position`` without loading the batches before it. Under torchrun the same global batches are
dealt out to the ranks, so N processes with ``batch_size`` b see, step by step, the examples one
process sees with ``batch_size`` N·b.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch.distributed as dist
from torch.utils.data import Sampler

from seqlab.text.batching import BucketBatchSampler


class ResumableBatchSampler(Sampler[list[int]]):
    """Batches of dataset indices: seeded per epoch, resumable at any batch, sharded per rank.

    Order of epoch ``e`` with ``shuffle=True`` (that of :class:`~seqlab.text.BucketBatchSampler`
    with the global batch size G = ``batch_size`` · world size, seeded by ``(seed, e)``):

    1. permute all indices;
    2. with ``lengths``: cut the permutation into pools of ``G * pool_factor`` examples and sort
       each pool by length, so a batch holds similar lengths (little padding);
    3. cut into global batches of G and shuffle their order;
    4. deal each global batch to the ranks: rank r takes its examples r, r+W, r+2W, … (W ranks),
       so every rank's batch is length-bucketed, ranks finish each step together, and each rank
       sees its own shard of the data, a different one every epoch.

    With ``shuffle=False`` (evaluation) the examples are sorted by length (kept in order when
    there are no lengths) and dealt out the same way; every example is kept, so ranks may get
    one batch fewer. In training (``shuffle=True``) with several ranks, a last global batch
    smaller than W is dropped so that all ranks take the same number of steps.

    Parameters
    ----------
    lengths : int or sequence of int
        The dataset size, or the length of each example (enables bucketing).
    batch_size : int
        Examples per batch on each rank.
    shuffle : bool
        Shuffle as above (training); else a fixed order (evaluation).
    seed : int
        Base seed of the order.
    pool_factor : int
        Bucketing pool size in global batches: larger means less padding, less randomness.
    drop_last : bool
        Drop a last global batch smaller than G.
    num_replicas, rank : int or None
        World size and rank; None reads them from ``torch.distributed`` when each epoch starts
        (1 and 0 when it is not initialised), so a loader built before the process group works.

    Examples
    --------
    >>> sampler = ResumableBatchSampler(10, batch_size=4, seed=1)
    >>> sampler.set_epoch(2)
    >>> full = list(sampler)
    >>> sampler.set_position(1)  # resume after the first batch of epoch 2
    >>> list(sampler) == full[1:], len(sampler)
    (True, 3)
    >>> sorted(len(b) for b in ResumableBatchSampler(10, 2, num_replicas=2, rank=1))
    [1, 2, 2]
    """

    def __init__(
        self,
        lengths: int | Sequence[int] | np.ndarray,
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        pool_factor: int = 50,
        drop_last: bool = False,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        if isinstance(lengths, int | np.integer):
            if lengths < 1:
                raise ValueError(f"the dataset is empty (size {lengths}): nothing to batch")
            self.lengths = np.zeros(int(lengths), dtype=np.int64)  # one length: plain shuffling
        else:
            self.lengths = np.asarray(lengths, dtype=np.int64)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if num_replicas is not None and not 0 <= (rank or 0) < num_replicas:
            raise ValueError(f"rank must be in [0, {num_replicas}), got {rank}")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.pool_factor = pool_factor
        self.drop_last = drop_last
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.position = 0
        self._cache: tuple[tuple, list[list[int]]] | None = None

    def set_epoch(self, epoch: int) -> None:
        """Select epoch ``epoch``'s order (depends only on ``seed`` and ``epoch``)."""
        self.epoch = epoch

    def set_position(self, position: int) -> None:
        """Start the next pass at batch ``position`` of the epoch (the pass after starts at 0)."""
        self.position = position

    def world(self) -> tuple[int, int]:
        """``(world_size, rank)``: the arguments, else ``torch.distributed``'s, else (1, 0)."""
        if self.num_replicas is not None:
            return self.num_replicas, self.rank or 0
        if dist.is_available() and dist.is_initialized():
            return dist.get_world_size(), dist.get_rank()
        return 1, 0

    def batches(self) -> list[list[int]]:
        """This rank's batches of the current epoch, in order."""
        world, rank = self.world()
        key = (self.epoch, world, rank)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        global_batches = BucketBatchSampler(
            self.lengths,
            self.batch_size * world,
            shuffle=self.shuffle,
            pool_factor=self.pool_factor,
            drop_last=self.drop_last,
            seed=self.seed,
        )
        global_batches.set_epoch(self.epoch)
        mine = []
        for batch in global_batches:
            if self.shuffle and len(batch) < world:
                continue  # some rank would have no batch for this step
            if batch[rank::world]:
                mine.append(batch[rank::world])
        self._cache = (key, mine)
        return mine

    def __iter__(self) -> Iterator[list[int]]:
        start, self.position = self.position, 0
        yield from self.batches()[start:]

    def __len__(self) -> int:
        return len(self.batches())
