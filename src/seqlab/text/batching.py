"""Batching variable-length sequences for recurrent models: collate and a bucketing sampler.

A batch of sentences has many lengths; a recurrent layer needs a rectangle. :class:`Collate`
pads a list of examples into ``(B, T)`` (or time-major ``(T, B)``) tensors plus the true lengths,
or packs them into a ``PackedSequence``. :class:`BucketBatchSampler` groups examples of similar
length into the same batch, so little of each rectangle is padding.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence
from torch.utils.data import Sampler

from seqlab.text.encode import pad


class Collate:
    """Turn a list of examples into padded tensors + lengths (or a PackedSequence).

    An example is either a sequence of ids, or a pair ``(ids, target)`` where ``target`` is a
    scalar label (stacked into a ``(B,)`` tensor) or a sequence of per-step targets (padded with
    ``target_pad``, by default -100, which ``nn.CrossEntropyLoss`` ignores).

    Parameters
    ----------
    pad_id : int
        Fill value of the inputs (``<pad>`` = 0 in a :class:`~seqlab.text.Vocab`).
    batch_first : bool
        ``(B, T)`` inputs when True, else ``(T, B)`` like ``torch.nn.RNN``'s default.
    pack : bool
        Return a ``PackedSequence`` (``enforce_sorted=False``) instead of a padded tensor.
    target_pad : int
        Fill value of per-step targets.

    Returns (when called)
    ---------------------
    ``(x, lengths)`` or ``(x, lengths, targets)``: ``x`` LongTensor ``(B, T)``/``(T, B)`` or a
    PackedSequence; ``lengths`` LongTensor ``(B,)`` on the CPU (as packing requires).

    Examples
    --------
    >>> x, lengths = Collate()([[5, 6, 7], [8]])
    >>> x.tolist(), lengths.tolist()
    ([[5, 6, 7], [8, 0, 0]], [3, 1])
    >>> x, lengths, y = Collate(batch_first=False)([([5, 6], 1), ([7], 0)])
    >>> x.shape, y.tolist()
    (torch.Size([2, 2]), [1, 0])
    """

    def __init__(
        self, pad_id: int = 0, batch_first: bool = True, pack: bool = False, target_pad: int = -100
    ) -> None:
        self.pad_id = pad_id
        self.batch_first = batch_first
        self.pack = pack
        self.target_pad = target_pad

    def __call__(self, batch: Sequence[Any]) -> tuple:
        if not batch:
            raise ValueError("cannot collate an empty batch; check the sampler's batch_size")
        paired = isinstance(batch[0], tuple)
        seqs = [_as_ids(ex[0] if paired else ex) for ex in batch]
        if any(len(s) == 0 for s in seqs):
            raise ValueError(
                "a sequence of length 0 cannot be fed to a recurrent layer; filter empty "
                "examples out (or add <bos>/<eos>) before batching"
            )
        padded, lengths = pad(seqs, self.pad_id, batch_first=self.batch_first)
        x: torch.Tensor | PackedSequence = torch.from_numpy(padded)  # (B, T) or (T, B)
        lengths_t = torch.from_numpy(lengths)  # (B,)
        if self.pack:
            x = pack_padded_sequence(x, lengths_t, self.batch_first, enforce_sorted=False)
        if not paired:
            return x, lengths_t
        return x, lengths_t, self._targets([ex[1] for ex in batch])

    def _targets(self, targets: list) -> torch.Tensor:
        if np.ndim(targets[0]) == 0:  # one label per example
            return torch.as_tensor(np.asarray(targets))  # (B,)
        padded, _ = pad(
            [_as_ids(t) for t in targets], self.target_pad, batch_first=self.batch_first
        )
        return torch.from_numpy(padded)  # (B, T) or (T, B)

    def __repr__(self) -> str:
        return (
            f"Collate(pad_id={self.pad_id}, batch_first={self.batch_first}, pack={self.pack}, "
            f"target_pad={self.target_pad})"
        )


def _as_ids(seq: Any) -> np.ndarray:
    if isinstance(seq, torch.Tensor):
        return seq.numpy(force=True)
    return np.asarray(seq, dtype=np.int64)


class BucketBatchSampler(Sampler[list[int]]):
    """Batches of indices whose examples have similar lengths, every example once per epoch.

    Shuffling (``shuffle=True``), per epoch, with a generator seeded by ``seed + epoch``:

    1. permute all indices at random;
    2. cut the permutation into pools of ``batch_size * pool_factor`` examples and sort each
       pool by length (stable), so batches cut from a pool hold similar lengths;
    3. cut each pool into batches and shuffle the order of all batches.

    Without shuffling, all examples are sorted by length (stable) and cut in order. Call
    :meth:`set_epoch` at the start of each epoch for a new, reproducible order.

    Parameters
    ----------
    lengths : sequence of int
        Length of each example of the dataset.
    batch_size : int
        Examples per batch (the last batch of a pool may be smaller unless ``drop_last``).
    shuffle : bool
        Shuffle as described above; otherwise deterministic length order.
    pool_factor : int
        Pool size in batches: larger means less padding but less randomness.
    drop_last : bool
        Drop batches smaller than ``batch_size``.
    seed : int
        Base seed of the shuffling.

    Examples
    --------
    >>> sampler = BucketBatchSampler([5, 1, 4, 2, 3, 1], batch_size=2, shuffle=False)
    >>> list(sampler)
    [[1, 5], [3, 4], [2, 0]]
    """

    def __init__(
        self,
        lengths: Sequence[int] | np.ndarray,
        batch_size: int,
        shuffle: bool = True,
        pool_factor: int = 50,
        drop_last: bool = False,
        seed: int = 0,
    ) -> None:
        if batch_size < 1 or pool_factor < 1:
            raise ValueError(
                f"batch_size and pool_factor must be >= 1 ({batch_size}, {pool_factor})"
            )
        self.lengths = np.asarray(lengths, dtype=np.int64)
        if self.lengths.ndim != 1 or self.lengths.size == 0:
            raise ValueError("lengths must be a non-empty 1-D sequence (one length per example)")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.pool_factor = pool_factor
        self.drop_last = drop_last
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the shuffling of ``epoch`` (order depends only on ``seed`` and ``epoch``)."""
        self.epoch = epoch

    def _batches(self) -> list[np.ndarray]:
        n, b = self.lengths.size, self.batch_size
        if not self.shuffle:
            pools = [np.argsort(self.lengths, kind="stable")]
        else:
            rng = np.random.default_rng([self.seed, self.epoch])
            perm = rng.permutation(n)
            size = b * self.pool_factor
            pools = [
                pool[np.argsort(self.lengths[pool], kind="stable")]
                for pool in (perm[i : i + size] for i in range(0, n, size))
            ]
        batches = [pool[i : i + b] for pool in pools for i in range(0, len(pool), b)]
        if self.drop_last:
            batches = [batch for batch in batches if len(batch) == b]
        if self.shuffle:
            order = rng.permutation(len(batches))
            batches = [batches[i] for i in order]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self._batches():
            yield batch.tolist()

    def __len__(self) -> int:
        n, b = self.lengths.size, self.batch_size
        # pool sizes are multiples of b except the last one (or the single unshuffled pool)
        pool = b * self.pool_factor if self.shuffle else n
        full, rest = divmod(n, pool)
        per_full = -(-pool // b) if not self.drop_last else pool // b
        per_rest = rest // b if self.drop_last else -(-rest // b)
        return full * per_full + per_rest

    def padding_fraction(self) -> float:
        """Share of padded cells over this epoch's batches (0 = no padding at all)."""
        cells = real = 0
        for batch in self._batches():
            lens = self.lengths[batch]
            cells += int(lens.max()) * len(lens)
            real += int(lens.sum())
        return 1 - real / cells if cells else 0.0
