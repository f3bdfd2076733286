"""A hash table of byte-string tokens in numba: count or look up every token of a byte buffer.

This is the C-speed path behind :meth:`Vocab.from_file <seqlab.text.Vocab.from_file>` and
:meth:`Vocab.encode_file <seqlab.text.Vocab.encode_file>`. A buffer (a piece of the file that
ends on whitespace, see :mod:`seqlab.text.reader`) is scanned once; each token (a run of
non-whitespace bytes) is hashed with 64-bit FNV-1a while it is scanned and found in an
open-addressing table (linear probing) whose keys are compared byte for byte, so hash
collisions never merge two words. No Python object is created per token, which is what makes
it ~10x faster than ``bytes.split`` + ``collections.Counter``.

Layout (W = words stored, S = slots, a power of two, W <= S / 2 so probes stay short):

- ``slots`` (S,) int32: word index or -1 (empty).
- ``hashes`` (S/2,) uint64, ``offsets`` (S/2,) int64, ``lengths`` (S/2,) int64,
  ``counts`` (S/2,) int64: per word, in order of first insertion (= first occurrence).
- ``arena`` (A,) uint8: the bytes of all words, back to back (``offsets`` point into it).
"""

from __future__ import annotations

import numba
import numpy as np

_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)


@numba.njit(cache=True, inline="always")
def _is_space(b: int) -> bool:
    # bytes.split()'s whitespace: space, \t, \n, \v, \f, \r
    return b == 32 or 9 <= b <= 13


@numba.njit(cache=True)
def _find(buf, s, e, h, slots, hashes, offsets, lengths, arena):
    """Index of word ``buf[s:e]`` (hash ``h``), or ``-1 - slot`` of the empty slot it would take."""
    mask = len(slots) - 1
    i = np.int64(h & np.uint64(mask))
    n = e - s
    while True:
        w = slots[i]
        if w < 0:
            return -1 - i
        if hashes[w] == h and lengths[w] == n:
            off = offsets[w]
            same = True
            for k in range(n):
                if arena[off + k] != buf[s + k]:
                    same = False
                    break
            if same:
                return w
        i = (i + 1) & mask


@numba.njit(cache=True)
def _count(buf, pos, n_words, used, slots, hashes, offsets, lengths, counts, arena):
    """Count the tokens of ``buf[pos:]``; stop early (returning where) when the table is full.

    Returns ``(pos, n_words, used, n_tokens)``: ``pos < len(buf)`` means "grow and call again
    from ``pos``" (the token starting there was not counted yet).
    """
    n = len(buf)
    n_tokens = 0
    i = pos
    while i < n:
        while i < n and _is_space(buf[i]):
            i += 1
        if i >= n:
            break
        s = i
        h = _FNV_OFFSET
        while i < n and not _is_space(buf[i]):
            h = (h ^ np.uint64(buf[i])) * _FNV_PRIME
            i += 1
        r = _find(buf, s, i, h, slots, hashes, offsets, lengths, arena)
        if r >= 0:
            counts[r] += 1
        else:
            if n_words >= len(hashes) or used + (i - s) > len(arena):
                return s, n_words, used, n_tokens
            slots[-1 - r] = n_words
            hashes[n_words] = h
            offsets[n_words] = used
            lengths[n_words] = i - s
            counts[n_words] = 1
            arena[used : used + (i - s)] = buf[s:i]
            used += i - s
            n_words += 1
        n_tokens += 1
    return n, n_words, used, n_tokens


@numba.njit(cache=True)
def _lookup(buf, slots, hashes, offsets, lengths, arena):
    """Index of the word equal to all of ``buf``, or -1."""
    h = _FNV_OFFSET
    for b in buf:
        h = (h ^ np.uint64(b)) * _FNV_PRIME
    w = _find(buf, 0, len(buf), h, slots, hashes, offsets, lengths, arena)
    return max(w, -1)


@numba.njit(cache=True)
def _rehash(slots, hashes, n_words):
    mask = len(slots) - 1
    for w in range(n_words):
        i = np.int64(hashes[w] & np.uint64(mask))
        while slots[i] >= 0:
            i = (i + 1) & mask
        slots[i] = w


@numba.njit(cache=True)
def _encode(buf, slots, hashes, offsets, lengths, arena, ids_of, out_ids, out_starts, line_open):
    """Ids of the tokens of ``buf`` (unknown ones dropped) and where kept lines start.

    ``ids_of`` maps a word index to the id to emit (-1: drop). ``line_open`` tells whether the
    line in progress (continued from the previous buffer) already has a kept token.
    Returns ``(n_ids, n_starts, line_open, n_tokens)``; ``out_starts`` holds offsets into this
    buffer's ids.
    """
    n = len(buf)
    n_ids = 0
    n_starts = 0
    n_tokens = 0
    i = 0
    while i < n:
        while i < n and _is_space(buf[i]):
            if buf[i] == 10:  # \n ends the line
                line_open = False
            i += 1
        if i >= n:
            break
        s = i
        h = _FNV_OFFSET
        while i < n and not _is_space(buf[i]):
            h = (h ^ np.uint64(buf[i])) * _FNV_PRIME
            i += 1
        n_tokens += 1
        w = _find(buf, s, i, h, slots, hashes, offsets, lengths, arena)
        if w >= 0 and ids_of[w] >= 0:
            if not line_open:
                out_starts[n_starts] = n_ids
                n_starts += 1
                line_open = True
            out_ids[n_ids] = ids_of[w]
            n_ids += 1
    return n_ids, n_starts, line_open, n_tokens


class TokenTable:
    """Distinct byte tokens with their counts, in order of first occurrence.

    Examples
    --------
    >>> table = TokenTable()
    >>> table.count(b"the cat sat on the mat")
    6
    >>> table.words(), table.counts.tolist()
    ([b'the', b'cat', b'sat', b'on', b'mat'], [2, 1, 1, 1, 1])
    """

    def __init__(self, slots: int = 1 << 16, arena: int = 1 << 20) -> None:
        if slots < 2 or slots & (slots - 1) or arena < 1:
            raise ValueError(
                f"slots must be a power of two >= 2 and arena >= 1, got {slots}, {arena}"
            )
        self._slots = np.full(slots, -1, dtype=np.int32)
        self._hashes = np.zeros(slots // 2, dtype=np.uint64)
        self._offsets = np.zeros(slots // 2, dtype=np.int64)
        self._lengths = np.zeros(slots // 2, dtype=np.int64)
        self._counts = np.zeros(slots // 2, dtype=np.int64)
        self._arena = np.zeros(arena, dtype=np.uint8)
        self.n_words = 0
        self._used = 0  # bytes of the arena in use

    @property
    def counts(self) -> np.ndarray:
        """Count of each word, in order of first occurrence; shape (n_words,)."""
        return self._counts[: self.n_words]

    def count(self, piece: bytes) -> int:
        """Add every whitespace-separated token of ``piece``; returns how many there were."""
        buf = np.frombuffer(piece, dtype=np.uint8)
        pos, total = 0, 0
        while True:
            pos, self.n_words, self._used, n = _count(
                buf, pos, self.n_words, self._used, self._slots, self._hashes,
                self._offsets, self._lengths, self._counts, self._arena,
            )  # fmt: skip
            total += n
            if pos >= len(buf):
                return total
            self._grow(need_bytes=len(buf) - pos)

    def _grow(self, need_bytes: int) -> None:
        if self.n_words >= len(self._hashes):  # table half full: double it
            size = 2 * len(self._slots)
            self._slots = np.full(size, -1, dtype=np.int32)
            for name in ("_hashes", "_offsets", "_lengths", "_counts"):
                old = getattr(self, name)
                setattr(self, name, np.concatenate([old, np.zeros_like(old)]))
            _rehash(self._slots, self._hashes, self.n_words)
        if self._used + need_bytes > len(self._arena):  # the pending token may not fit
            size = max(2 * len(self._arena), self._used + need_bytes)
            self._arena = np.concatenate([self._arena, np.zeros(size - len(self._arena), np.uint8)])

    def find(self, word: bytes) -> int:
        """Index of ``word`` in the table, or -1 when it was never counted."""
        buf = np.frombuffer(word, dtype=np.uint8)
        args = (self._slots, self._hashes, self._offsets, self._lengths, self._arena)
        return int(_lookup(buf, *args))

    def word(self, index: int) -> bytes:
        """The bytes of word ``index``."""
        off = self._offsets[index]
        return self._arena[off : off + self._lengths[index]].tobytes()

    def words(self, indices: np.ndarray | None = None) -> list[bytes]:
        """The bytes of the given words (all, in first-occurrence order, by default)."""
        if indices is None:
            indices = np.arange(self.n_words)
        arena = self._arena.tobytes()
        offsets, lengths = self._offsets[indices].tolist(), self._lengths[indices].tolist()
        return [arena[o : o + n] for o, n in zip(offsets, lengths, strict=True)]

    def encode(self, piece: bytes, ids_of: np.ndarray, line_open: bool):
        """Look up every token of ``piece``: ``(ids, starts, line_open, n_tokens)``.

        ``ids`` (int32) holds ``ids_of[word]`` of each token found with ``ids_of[word] >= 0``;
        ``starts`` (int64) the offsets in ``ids`` where a line with kept tokens begins.
        """
        buf = np.frombuffer(piece, dtype=np.uint8)
        bound = len(buf) // 2 + 1  # at most one token per two bytes (token + separator)
        out_ids = np.empty(bound, dtype=np.int32)
        out_starts = np.empty(bound, dtype=np.int64)
        n_ids, n_starts, line_open, n_tokens = _encode(
            buf, self._slots, self._hashes, self._offsets, self._lengths, self._arena,
            ids_of, out_ids, out_starts, line_open,
        )  # fmt: skip
        return out_ids[:n_ids].copy(), out_starts[:n_starts].copy(), line_open, n_tokens
