"""Vocabulary: the bijection between tokens and integer ids, with the counts behind it.

Ids are assigned deterministically: specials first (``<pad>`` always 0), then words by frequency,
most frequent first, ties broken by first occurrence in the corpus. The same corpus therefore
gives the same ids on every run and every machine (no hash ordering is involved).

A vocabulary is built either from an iterable of token lists (:meth:`Vocab.from_iterable`) or
streamed from a text file in one pass with bounded memory (:meth:`Vocab.from_file`). Files are
read as whitespace-separated tokens in fixed-size chunks (see :mod:`seqlab.text.reader`), so a
single 100 MB line such as text8 never has to be held in memory, and counted or looked up by a
numba hash table (:mod:`seqlab.text.token_table`): ~10M tokens/s on one core.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from seqlab.io import atomic_write
from seqlab.text.reader import DEFAULT_CHUNK_SIZE, EmptyCorpusError, check_errors, read_pieces

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
_FORMAT = "seqlab-vocab"
_VERSION = 1


class UnknownTokenError(ValueError):
    """Tokens are not in a vocabulary that has no ``<unk>`` to map them to."""


class Vocab:
    """Tokens <-> ids, ordered by frequency (ties: first occurrence), specials first.

    Parameters
    ----------
    itos : sequence of str
        Token of each id; specials first.
    counts : array-like of int, optional
        Corpus count of each id (specials: 0 unless the text contains them). Defaults to zeros.
    specials : sequence of str
        The special tokens, which must be the first ``len(specials)`` entries of ``itos``.
    total : int, optional
        Number of raw tokens in the corpus, pruned words included. Defaults to ``counts.sum()``.
    lowercase : bool
        Whether :meth:`from_file` lowercased the text; :meth:`encode_file` does the same.
    errors : {"strict", "replace"}
        UTF-8 policy used by :meth:`from_file`; :meth:`encode_file` uses it too.

    Attributes
    ----------
    itos : list of str
        Token of each id.
    stoi : dict of str to int
        Id of each token.
    counts : numpy.ndarray of int64, shape (len(vocab),)
        Corpus count of each id.
    total : int
        Raw token count of the corpus, including words pruned by ``min_freq`` / ``max_size``.
    unk_id : int or None
        Id of ``<unk>``, or None when the vocabulary has none.

    Examples
    --------
    >>> v = Vocab.from_iterable([["the", "cat", "sat", "on", "the", "mat"]], specials=("<pad>",))
    >>> v.itos
    ['<pad>', 'the', 'cat', 'sat', 'on', 'mat']
    >>> v.encode(["the", "mat"]).tolist()
    [1, 5]
    >>> v.decode([2, 3])
    ['cat', 'sat']
    """

    def __init__(
        self,
        itos: Sequence[str],
        counts: Sequence[int] | np.ndarray | None = None,
        specials: Sequence[str] = (),
        total: int | None = None,
        lowercase: bool = False,
        errors: str = "strict",
    ) -> None:
        check_errors(errors)
        self.itos = list(itos)
        self.stoi = {tok: i for i, tok in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            dup = [t for t, c in Counter(self.itos).items() if c > 1][:5]
            raise ValueError(f"duplicate tokens in itos: {dup}; every token needs exactly one id")
        self.specials = tuple(specials)
        if tuple(self.itos[: len(self.specials)]) != self.specials:
            raise ValueError(f"specials {self.specials} must be the first entries of itos")
        if PAD in self.specials and self.stoi[PAD] != 0:
            raise ValueError(f"{PAD} must have id 0")
        if counts is None:
            counts = np.zeros(len(self.itos), dtype=np.int64)
        self.counts = np.asarray(counts, dtype=np.int64)
        if self.counts.shape != (len(self.itos),):
            raise ValueError(f"counts has shape {self.counts.shape}, expected ({len(self.itos)},)")
        self.total = int(self.counts.sum()) if total is None else int(total)
        self.lowercase = bool(lowercase)
        self.errors = errors
        self.unk_id = self.stoi.get(UNK) if UNK in self.specials else None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_counter(
        cls,
        counter: dict[str, int],
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = (),
        total: int | None = None,
        lowercase: bool = False,
        errors: str = "strict",
    ) -> Vocab:
        """Build from ``{token: count}`` whose insertion order is the order of first occurrence.

        ``min_freq`` drops words seen fewer times; ``max_size`` caps ``len(vocab)``, specials
        included, keeping the most frequent words (ties: earlier first occurrence wins).
        A special that also occurs in the text (PTB's literal ``<unk>``) keeps its special id
        and its corpus count.
        """
        if not counter:
            raise EmptyCorpusError("the corpus holds no tokens; pass a non-empty corpus")
        specials = _order_specials(specials)
        words = list(counter)
        counts = np.fromiter(counter.values(), dtype=np.int64, count=len(counter))
        if total is None:
            total = int(counts.sum())
        special_counts = [counter.get(sp, 0) for sp in specials]
        for sp in specials:  # a special found in the text stays the special, not a word
            if sp in counter:
                counts[words.index(sp)] = 0
        order = _rank(counts, min_freq, max_size, len(specials))
        return cls._assemble(
            [words[i] for i in order.tolist()],
            counts[order],
            specials,
            special_counts,
            total,
            lowercase,
            errors,
        )

    @classmethod
    def _assemble(
        cls,
        words: list[str],
        counts: np.ndarray,
        specials: tuple[str, ...],
        special_counts: Sequence[int],
        total: int,
        lowercase: bool,
        errors: str,
    ) -> Vocab:
        """Specials (with their counts in the corpus), then the ranked ``words``."""
        itos = list(specials) + words
        all_counts = np.concatenate([np.asarray(special_counts, np.int64), counts])
        return cls(itos, all_counts, specials, total, lowercase=lowercase, errors=errors)

    @classmethod
    def from_iterable(
        cls,
        token_lists: Iterable[Iterable[str]],
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = (),
    ) -> Vocab:
        """Count the tokens of ``token_lists`` (e.g. tokenized sentences) and build a vocabulary.

        Examples
        --------
        >>> v = Vocab.from_iterable([["a", "b", "b"], ["c", "b"]], specials=("<pad>", "<unk>"))
        >>> v.itos, v.counts.tolist()
        (['<pad>', '<unk>', 'b', 'a', 'c'], [0, 0, 3, 1, 1])
        >>> v.encode(["a", "zebra"]).tolist()  # unknown words map to <unk>
        [3, 1]
        """
        counter: Counter[str] = Counter()
        for tokens in token_lists:
            if isinstance(tokens, str):
                raise TypeError(
                    "token_lists must yield lists of tokens, got a str; tokenize first, "
                    "e.g. [WordTokenizer()(line) for line in lines]"
                )
            counter.update(tokens)
        return cls.from_counter(counter, min_freq, max_size, specials)

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike,
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = (),
        lowercase: bool = False,
        errors: str = "strict",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> Vocab:
        """Count the whitespace-separated tokens of a UTF-8 file in one streaming pass.

        Memory is bounded by ``chunk_size`` plus the distinct words: the file is read in
        fixed-size byte chunks and partial tokens are carried across chunk boundaries, so a
        single 100 MB line is fine. Counting runs on the raw bytes in a numba hash table
        (:mod:`seqlab.text.token_table`); only the words that survive pruning are decoded.

        Parameters
        ----------
        path : str or PathLike
            UTF-8 text; tokens are separated by ASCII whitespace (as in word2vec).
        min_freq, max_size, specials
            As in :meth:`from_counter`.
        lowercase : bool
            Lowercase the text (Unicode-aware) before counting.
        errors : {"strict", "replace"}
            ``"strict"`` raises :class:`~seqlab.text.reader.TextDecodeError` naming the file
            and byte offset of the first invalid byte; ``"replace"`` uses U+FFFD.
        chunk_size : int
            Bytes read at a time.

        Raises
        ------
        EmptyCorpusError
            The file holds no tokens, or ``min_freq`` removes all of them.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.txt"
        >>> _ = p.write_text("the cat sat on the mat\\n", encoding="utf-8")
        >>> v = Vocab.from_file(p, min_freq=2)
        >>> v.itos, v.counts.tolist(), v.total
        (['the'], [2], 6)
        """
        from seqlab.text.token_table import TokenTable  # lazy: numba costs ~0.5 s to import

        table = TokenTable()
        total = 0
        for piece in read_pieces(path, chunk_size, lowercase, errors):
            total += table.count(piece)
        if not total:
            raise EmptyCorpusError(f"{path}: the file holds no tokens; pass a non-empty corpus")
        specials = _order_specials(specials)
        counts = table.counts.copy()
        special_counts = []
        for sp in specials:  # a special found in the text stays the special, not a word
            index = table.find(sp.encode("utf-8"))
            special_counts.append(int(counts[index]) if index >= 0 else 0)
            if index >= 0:
                counts[index] = 0
        try:
            order = _rank(counts, min_freq, max_size, len(specials))
        except EmptyCorpusError as e:
            raise EmptyCorpusError(f"{path}: {e}") from None
        # Pieces are valid UTF-8 and cut on whitespace, so every token decodes on its own;
        # only the words that survive pruning are decoded at all.
        words = [w.decode("utf-8") for w in table.words(order)]
        return cls._assemble(
            words, counts[order], specials, special_counts, total, lowercase, errors
        )

    # ------------------------------------------------------------------ encoding
    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __repr__(self) -> str:
        head = ", ".join(self.itos[:5]) + (", ..." if len(self) > 5 else "")
        return f"Vocab(size={len(self)}, total={self.total}, itos=[{head}])"

    def encode(self, tokens: Iterable[str], bos: bool = False, eos: bool = False) -> np.ndarray:
        """Ids of ``tokens`` (index encoding) as an int64 array; unknown tokens map to ``<unk>``.

        ``bos`` / ``eos`` wrap the sequence in ``<bos>`` ... ``<eos>`` (the vocabulary must have
        them as specials), as sequence-to-sequence decoders and language models expect.

        Raises
        ------
        UnknownTokenError
            When a token is unknown and the vocabulary has no ``<unk>`` special.

        Examples
        --------
        >>> v = Vocab.from_iterable([["hi", "there"]], specials=("<pad>", "<bos>", "<eos>"))
        >>> v.encode(["there", "hi"], bos=True, eos=True).tolist()
        [1, 4, 3, 2]
        """
        tokens = list(tokens)
        if self.unk_id is not None:
            get, unk = self.stoi.get, self.unk_id
            ids = np.fromiter((get(t, unk) for t in tokens), dtype=np.int64, count=len(tokens))
        else:
            try:
                ids = np.fromiter(map(self.stoi.__getitem__, tokens), np.int64, len(tokens))
            except KeyError:
                unknown = sorted({t for t in tokens if t not in self.stoi})
                raise UnknownTokenError(
                    f"{len(unknown)} token(s) not in the vocabulary: {unknown[:10]}; "
                    f"build the vocabulary with specials=('<unk>',) to map them to <unk>"
                ) from None
        if bos or eos:
            head = [self._special_id(BOS)] if bos else []
            tail = [self._special_id(EOS)] if eos else []
            ids = np.concatenate([np.array(head, np.int64), ids, np.array(tail, np.int64)])
        return ids

    def _special_id(self, special: str) -> int:
        if special not in self.specials:
            raise ValueError(
                f"this vocabulary has no {special}; build it with specials=(..., {special!r})"
            )
        return self.stoi[special]

    def decode(self, ids: Iterable[int] | np.ndarray) -> list[str]:
        """Tokens of ``ids``; raises ``IndexError`` naming any id outside ``[0, len(vocab))``."""
        ids = np.asarray(ids, dtype=np.int64).ravel()
        bad = ids[(ids < 0) | (ids >= len(self.itos))]
        if bad.size:
            raise IndexError(f"ids {bad[:10].tolist()} outside the vocabulary [0, {len(self)})")
        itos = self.itos
        return [itos[i] for i in ids.tolist()]

    def encode_file(
        self, path: str | os.PathLike, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every token of a text file as its id, streamed; words not in the vocabulary DROPPED.

        Dropping out-of-vocabulary words (rather than mapping them to ``<unk>``) is word2vec's
        semantics: pruned rare words vanish and the window closes over the gap. The file is
        normalized as in :meth:`from_file` (same ``lowercase`` and ``errors``).

        Returns
        -------
        ids : numpy.ndarray of int32, shape (n_kept,)
            Id of every kept token, in file order.
        line_starts : numpy.ndarray of int64, shape (n_sentences,)
            Offset into ``ids`` where each line begins (sentence boundaries). Lines are ended
            by ``\\n``; a line with no kept token is skipped, so offsets strictly increase and
            every sentence is non-empty. Sentence ``k`` is
            ``ids[line_starts[k] : line_starts[k + 1]]`` (the last ends at ``len(ids)``).

        Raises
        ------
        EmptyCorpusError
            The file holds no tokens, or none of them is in the vocabulary.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.txt"
        >>> _ = p.write_text("the cat sat\\nzebra\\non the mat\\n", encoding="utf-8")
        >>> v = Vocab.from_iterable([["the", "cat", "sat", "on", "the", "mat"]])
        >>> ids, starts = v.encode_file(p)
        >>> ids.tolist(), starts.tolist()
        ([0, 1, 2, 3, 0, 4], [0, 3])
        """
        from seqlab.text.token_table import TokenTable  # lazy: numba costs ~0.5 s to import

        # Only words without whitespace can ever match a file token; the table indexes them in
        # the order inserted, and ids_of maps that index back to the vocabulary id.
        encodable = [
            (w, i) for i, w in enumerate(self.itos) if w and not any(c in w for c in _SPACES)
        ]
        table = TokenTable(slots=_next_pow2(4 * len(encodable)))
        # (surrogatepass: a word holding a lone surrogate is stored, but no valid text matches it)
        table.count(b"\n".join(w.encode("utf-8", "surrogatepass") for w, _ in encodable))
        ids_of = np.array([i for _, i in encodable], dtype=np.int32)
        id_parts: list[np.ndarray] = []
        start_parts: list[np.ndarray] = []
        n_ids = 0  # ids kept so far = offset of the next kept id
        n_tokens = 0  # tokens read, kept or not
        line_open = False  # whether the line in progress already has a kept token (a start)
        for piece in read_pieces(path, chunk_size, self.lowercase, self.errors):
            ids, starts, line_open, n = table.encode(piece, ids_of, line_open)
            id_parts.append(ids)
            start_parts.append(starts + n_ids)
            n_ids += len(ids)
            n_tokens += n
        if not n_tokens:
            raise EmptyCorpusError(f"{path}: the file holds no tokens; pass a non-empty corpus")
        if not n_ids:
            raise EmptyCorpusError(
                f"{path}: none of its {n_tokens} tokens is in the vocabulary; build the "
                f"vocabulary from this corpus (or a similar one) and check lowercase="
            )
        return np.concatenate(id_parts), np.concatenate(start_parts)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        """Plain-JSON form of the vocabulary (what :meth:`save` writes)."""
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "itos": self.itos,
            "counts": self.counts.tolist(),
            "specials": list(self.specials),
            "total": self.total,
            "lowercase": self.lowercase,
            "errors": self.errors,
        }

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary as JSON (atomically: an interrupted save leaves no file)."""
        with atomic_write(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, ensure_ascii=False)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocab:
        """Read a vocabulary written by :meth:`save`.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> v = Vocab.from_iterable([["한국", "서울", "한국"]], specials=("<unk>",))
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "vocab.json"
        >>> v.save(p)
        >>> Vocab.load(p).itos
        ['<unk>', '한국', '서울']
        """
        path = Path(path)
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not a JSON vocabulary file ({e})") from None
        if not isinstance(d, dict) or d.get("format") != _FORMAT:
            raise ValueError(f"{path}: not a seqlab vocabulary (expected format={_FORMAT!r})")
        if d.get("version") != _VERSION:
            raise ValueError(f"{path}: vocabulary format version {d.get('version')} unsupported")
        return cls(
            d["itos"],
            d["counts"],
            d["specials"],
            d["total"],
            lowercase=d.get("lowercase", False),
            errors=d.get("errors", "strict"),
        )


_SPACES = " \t\n\r\x0b\x0c"  # the ASCII whitespace that separates tokens in files


def _next_pow2(n: int) -> int:
    return 1 << max(4, (n - 1).bit_length())


def _rank(counts: np.ndarray, min_freq: int, max_size: int | None, n_specials: int) -> np.ndarray:
    """Indices of the words to keep, most frequent first; ties keep first-occurrence order.

    ``counts`` is in order of first occurrence; a stable sort preserves it among equal counts.
    """
    if min_freq < 1:
        raise ValueError(f"min_freq must be >= 1, got {min_freq}")
    if max_size is not None and max_size <= n_specials:
        raise ValueError(f"max_size={max_size} leaves no room for words after the specials")
    keep = np.flatnonzero(counts >= min_freq)
    if keep.size == 0 and counts.any():  # (all zero: the text held nothing but specials)
        raise EmptyCorpusError(
            f"min_freq={min_freq} removes every word (the most frequent occurs "
            f"{int(counts.max())} times); lower min_freq"
        )
    order = keep[np.argsort(-counts[keep], kind="stable")]
    return order if max_size is None else order[: max_size - n_specials]


def _order_specials(specials: Sequence[str]) -> tuple[str, ...]:
    """Specials in the order given, except that ``<pad>`` always comes first (id 0)."""
    specials = tuple(specials)
    if len(set(specials)) != len(specials):
        raise ValueError(f"duplicate specials: {specials}")
    if PAD in specials:
        specials = (PAD, *(s for s in specials if s != PAD))
    return specials
