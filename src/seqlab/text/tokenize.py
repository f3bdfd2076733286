"""Tokenizers: text -> list of tokens, each a small object with a one-line contract.

- :class:`WordTokenizer`  words of any script (Latin, Cyrillic, Hangul, Devanagari, ...), digit
  runs, and every punctuation/symbol character as its own token; optional lowercasing.
- :class:`CharTokenizer`  every character (whitespace included), so ``"".join(tokens) == text``.
- :class:`Text8Tokenizer` the text8 normalization used for word2vec's published results:
  lowercase, keep runs of ``a``-``z``, turn everything else into a space.

All three are callables ``tokenizer(text) -> list[str]``.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import unicodedata

from seqlab.io import atomic_write
from seqlab.text.reader import DEFAULT_CHUNK_SIZE, EmptyCorpusError, read_pieces


@functools.cache
def _mark_class() -> str:
    """A regex character class of all combining marks (Unicode categories Mn, Mc, Me).

    Python's ``re`` has no ``\\p{M}``, and ``\\w`` excludes marks, which would cut Devanagari,
    Thai or decomposed accented words apart; so the class is built once from unicodedata.
    """
    ranges: list[tuple[int, int]] = []
    # Marks live only in planes 0-1 and the variation selectors of plane 14: scan just those.
    for cp in itertools.chain(range(0x20000), range(0xE0000, 0xE1000)):
        if unicodedata.category(chr(cp))[0] == "M":
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)


@functools.cache
def _word_pattern() -> re.Pattern:
    # letter-or-mark runs | digit runs | one punctuation/symbol character (underscore included)
    marks = _mark_class()
    return re.compile(rf"(?:[^\W\d_]|[{marks}])+|\d+|[^\w\s]|_")


class WordTokenizer:
    """Split text into words, numbers and punctuation, for any script.

    Contract: a token is a maximal run of letters (any script) and combining marks, or a maximal
    run of decimal digits, or a single character that is neither a letter, digit nor whitespace.
    Whitespace is dropped. Nothing else is lost: concatenating the tokens gives the text with
    whitespace removed (before lowercasing).

    Parameters
    ----------
    lowercase : bool
        Apply ``str.lower`` to the text first (Unicode-aware; Hangul is unaffected).

    Examples
    --------
    >>> WordTokenizer()("The cat's 2 mats, 한국 서울!")
    ['The', 'cat', "'", 's', '2', 'mats', ',', '한국', '서울', '!']
    >>> WordTokenizer(lowercase=True)("Ünïcode ROCKS")
    ['ünïcode', 'rocks']
    """

    def __init__(self, lowercase: bool = False) -> None:
        self.lowercase = lowercase
        self._findall = _word_pattern().findall

    def __call__(self, text: str) -> list[str]:
        if self.lowercase:
            text = text.lower()
        return self._findall(text)

    def __repr__(self) -> str:
        return f"WordTokenizer(lowercase={self.lowercase})"


class CharTokenizer:
    """Split text into characters (Unicode code points), whitespace included.

    Contract: ``"".join(CharTokenizer()(text)) == text`` (with ``lowercase=False``).

    Examples
    --------
    >>> CharTokenizer()("hi 한")
    ['h', 'i', ' ', '한']
    """

    def __init__(self, lowercase: bool = False) -> None:
        self.lowercase = lowercase

    def __call__(self, text: str) -> list[str]:
        return list(text.lower() if self.lowercase else text)

    def __repr__(self) -> str:
        return f"CharTokenizer(lowercase={self.lowercase})"


# bytes -> bytes table: a-z stay, everything else (after lowercasing) becomes a space
_TEXT8_TABLE = bytes(b if 97 <= b <= 122 else 32 for b in range(256))


class Text8Tokenizer:
    """The text8 normalization: lowercase, runs of ``a``-``z`` only, everything else a space.

    This brings any corpus into the form of Mahoney's text8/enwik9 files, on which word2vec's
    published results were measured. Non-ASCII letters (``é``, ``한``) and digits are separators,
    exactly as the contract says; nothing is transliterated or spelled out.

    Examples
    --------
    >>> Text8Tokenizer()("Hello, World! Café 42 o'clock")
    ['hello', 'world', 'caf', 'o', 'clock']
    >>> Text8Tokenizer().normalize("Hello,  World!")
    'hello world'
    """

    def __call__(self, text: str) -> list[str]:
        return self._bytes(text).decode("ascii").split()

    def normalize(self, text: str) -> str:
        """The text8 form of ``text``: its tokens joined by single spaces."""
        return " ".join(self(text))

    def normalize_file(
        self,
        src: str | os.PathLike,
        dst: str | os.PathLike,
        errors: str = "strict",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> int:
        """Stream ``src`` into ``dst`` in text8 form (one line, single spaces); returns tokens.

        Memory stays bounded by ``chunk_size``; ``dst`` is written atomically.

        Raises
        ------
        EmptyCorpusError
            When ``src`` holds no a-z letters at all.
        """
        n_tokens = 0
        with atomic_write(dst, "wb") as out:
            for piece in read_pieces(src, chunk_size, lowercase=True, errors=errors):
                # lowercasing happened on the decoded text, so no uppercase letters remain
                if piece.isascii():
                    tokens = piece.translate(_TEXT8_TABLE).split()
                else:
                    tokens = self._bytes(piece.decode("utf-8")).split()
                if tokens:
                    out.write(b" " if n_tokens else b"")
                    out.write(b" ".join(tokens))
                    n_tokens += len(tokens)
            if not n_tokens:
                raise EmptyCorpusError(f"{src}: no a-z letters, so the text8 form is empty")
        return n_tokens

    @staticmethod
    def _bytes(text: str) -> bytes:
        # Non-ASCII characters become "?" and then a space; lower() runs first so that e.g. the
        # Kelvin sign lowercases to "k" as str.lower defines.
        return text.lower().encode("ascii", "replace").translate(_TEXT8_TABLE)

    def __repr__(self) -> str:
        return "Text8Tokenizer()"
