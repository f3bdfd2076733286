"""Stream a text file as whitespace-separated byte tokens, in fixed-size chunks.

This is the one place where seqlab reads raw corpus files for counting and encoding. It reads
``chunk_size`` bytes at a time and cuts each chunk after its last whitespace byte, carrying the
partial token into the next chunk, so memory stays bounded even for a corpus that is a single
100 MB line (text8 and its relatives). Tokens are what ``bytes.split()`` yields: runs of bytes
between ASCII whitespace (space, ``\\t``, ``\\n``, ``\\r``, ``\\v``, ``\\f``), the same rule as the
word2vec C tool. Working on bytes (not ``str``) is what makes counting fast: the pieces go
straight into a numba hash table (:mod:`seqlab.text.token_table`) and only the distinct words
that are kept are ever decoded.

Cutting after ASCII whitespace never splits a multi-byte UTF-8 character, because UTF-8 never
uses bytes below 0x80 inside a multi-byte sequence.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

DEFAULT_CHUNK_SIZE = 1 << 20  # 1 MiB: ~170k tokens per chunk, ~10 MB of transient token objects

_WHITESPACE = (b" ", b"\n", b"\t", b"\r", b"\x0b", b"\x0c")
_ERRORS = ("strict", "replace")
_BOM = b"\xef\xbb\xbf"


class TextDecodeError(ValueError):
    """A corpus file is not valid UTF-8; the message names the file and the byte offset."""


class EmptyCorpusError(ValueError):
    """A corpus (file or iterable) holds no tokens at all."""


def check_errors(errors: str) -> None:
    """Reject an ``errors`` policy other than ``"strict"`` or ``"replace"``."""
    if errors not in _ERRORS:
        raise ValueError(f"errors={errors!r} is not supported; use one of {_ERRORS}")


def read_pieces(
    path: str | os.PathLike,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    lowercase: bool = False,
    errors: str = "strict",
) -> Iterator[bytes]:
    """Yield the file as consecutive byte pieces that each end on a whitespace boundary.

    Every piece is valid UTF-8 (checked with ``errors="strict"``, repaired with U+FFFD when
    ``errors="replace"``) and lowercased when asked; concatenated, the pieces are the whole
    (normalized) file, so ``piece.split()`` on each gives every token exactly once. A leading
    UTF-8 byte-order mark is skipped.

    Parameters
    ----------
    path : str or PathLike
        A UTF-8 text file.
    chunk_size : int
        Bytes read at a time. Tests use tiny values to exercise the chunk boundaries.
    lowercase : bool
        Apply ``str.lower`` (Unicode-aware; ASCII-only chunks take a fast bytes path).
    errors : {"strict", "replace"}
        ``"strict"`` raises :class:`TextDecodeError` at the first invalid byte;
        ``"replace"`` substitutes U+FFFD for undecodable bytes.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    TextDecodeError
        With ``errors="strict"``, at the first byte that is not valid UTF-8.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.txt"
    >>> _ = p.write_bytes(b"The cat sat\\non the mat")
    >>> [piece.split() for piece in read_pieces(p, chunk_size=8, lowercase=True)]
    [[b'the', b'cat'], [b'sat', b'on'], [b'the'], [b'mat']]
    """
    check_errors(errors)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected a UTF-8 text file)")
    carry: list[bytes] = []  # the partial token after the last whitespace read so far
    offset = 0  # file offset of the carry's first byte, to report where a bad byte sits
    with open(path, "rb") as f:
        if f.read(3) == _BOM:  # a UTF-8 byte-order mark (Windows editors) is not text
            offset = 3
        else:
            f.seek(0)
        while block := f.read(chunk_size):
            # The carry holds no whitespace, so only the new block needs searching; a token
            # longer than many chunks is gathered in a list (no quadratic re-copying).
            cut = max(block.rfind(ws) for ws in _WHITESPACE) + 1
            if cut == 0:
                carry.append(block)
                continue
            piece = b"".join([*carry, block[:cut]]) if carry else block[:cut]
            carry = [block[cut:]] if cut < len(block) else []
            yield _normalize(piece, path, offset, lowercase, errors)
            offset += len(piece)
    if carry:  # the last token, when the file does not end in whitespace
        yield _normalize(b"".join(carry), path, offset, lowercase, errors)


def _normalize(piece: bytes, path: Path, offset: int, lowercase: bool, errors: str) -> bytes:
    """Validate (or repair) the UTF-8 of ``piece`` and lowercase it when asked."""
    if piece.isascii():  # the common case; C-speed, no decoding needed
        return piece.lower() if lowercase else piece
    try:
        text = piece.decode("utf-8", errors)
    except UnicodeDecodeError as e:
        raise TextDecodeError(
            f"{path}: not valid UTF-8 at byte offset {offset + e.start} "
            f"(byte {piece[e.start : e.start + 1]!r}: {e.reason}); convert the file to UTF-8 "
            f"(e.g. iconv -f latin1 -t utf-8), or from Python pass errors='replace'"
        ) from None
    if lowercase:
        text = text.lower()
    elif errors == "strict":
        return piece  # valid and unchanged: skip re-encoding
    return text.encode("utf-8")
