"""wiki_text8: Mahoney's text8 recipe applied to ``enwiki_extract``, built once and cached.

The recipe (http://mattmahoney.net/dc/textdata.html, as reproduced for this mirror):

1. drop WikiExtractor's ``<doc ...>`` and ``</doc>`` lines;
2. lower-case with Python's full ``str.lower`` (so e.g. the Kelvin sign becomes ``k``);
3. spell out every digit as a word (``"1"`` -> ``" one "``);
4. turn every run of characters outside ``a-z`` into one space (line breaks included);
5. start with exactly one space and keep the first 100,000,000 characters, backing off to the
   last word boundary when the cut would split a word.

On ``enwiki_extract`` this gives 99,999,996 characters and 16,940,015 tokens (text8 itself:
100,000,000 and 17,005,207). The output is one line, like text8. It is streamed: the 300 MB of
source text is read in blocks of whole lines and written as it is produced; only one block is in
memory. A JSON sidecar records the size, token count and sha256, so later loads verify by size
and a copy made elsewhere is checked once against the registered sha256.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from tqdm import tqdm

from seqlab.data.errors import ChecksumError
from seqlab.io import atomic_write

LIMIT = 100_000_000
TARGET = "wiki_text8.txt"
BLOCK_CHARS = 8 << 20
DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
DIGIT_WORDS = str.maketrans({str(d): f" {w} " for d, w in enumerate(DIGIT_NAMES)})
NON_LETTERS = re.compile(r"[^a-z]+")


def normalize(text: str) -> str:
    """Steps 2-4 of the recipe on a piece of text made of whole lines.

    Examples
    --------
    >>> normalize("In 1984, Orwell wrote...\\n")
    'in one nine eight four orwell wrote '
    """
    return NON_LETTERS.sub(" ", text.lower().translate(DIGIT_WORDS))


def text8_pieces(blocks: Iterable[str], limit: int = LIMIT) -> Iterator[str]:
    """The output of the recipe, in pieces, from raw text ``blocks`` that end at line breaks.

    Step 5 is done on the fly: runs of spaces across blocks are collapsed, one leading space is
    ensured, and the last piece is cut at ``limit`` characters, backed off to a word boundary
    when the character after the cut is a letter.

    Examples
    --------
    >>> "".join(text8_pieces(["Hello, world!\\n", "42 is\\n"], limit=20))
    ' hello world four'
    """
    written = 0
    pending = " "  # the leading space; a piece is held back until the next shows where to stop
    for block in blocks:
        piece = normalize(block)
        if pending.endswith(" ") and piece.startswith(" "):
            piece = piece[1:]
        if not piece:
            continue
        if written + len(pending) + len(piece) <= limit:
            yield pending
            written += len(pending)
            pending = piece
            continue
        combined = pending + piece
        head = combined[: limit - written]
        if combined[limit - written] != " ":
            # Back off to the last space; ``pending`` always ends with one (blocks end at line
            # breaks, which become spaces), so the boundary lies inside ``head``.
            head = head[: head.rfind(" ")]
        yield head
        return
    yield pending


def wiki_blocks(parts: Iterable[Path]) -> Iterator[str]:
    """Blocks of whole lines of WikiExtractor files (.txt or .txt.gz), without ``<doc>`` lines."""
    for part in parts:
        opener = gzip.open if part.suffix == ".gz" else open
        with opener(part, "rt", encoding="utf-8") as f:
            while lines := f.readlines(BLOCK_CHARS):
                yield "".join(line for line in lines if not line.startswith(("<doc", "</doc>")))


def build(folder: Path, parts: Iterable[Path], progress: bool = True, limit: int = LIMIT) -> Path:
    """Build ``folder/wiki_text8.txt`` from the enwiki_extract files ``parts``; return its path.

    The file is written atomically and gets a sidecar ``wiki_text8.txt.json`` with its size,
    token count and sha256. :func:`seqlab.data.fetch.fetch` calls it when wiki_text8 is needed.
    """
    target = folder / TARGET
    digest = hashlib.sha256()
    size = spaces = 0
    last = ""
    with (
        atomic_write(target, "wb") as out,
        tqdm(
            total=limit, unit="char", unit_scale=True, desc="wiki_text8", disable=not progress
        ) as bar,
    ):
        for piece in text8_pieces(wiki_blocks(parts), limit):
            data = piece.encode("ascii")
            out.write(data)
            digest.update(data)
            size += len(data)
            spaces += data.count(b" ")
            last = piece[-1:] or last
            bar.update(len(data))
    # Words are separated by single spaces after one leading space: tokens = spaces, minus one
    # if the text happens to end with a space.
    tokens = spaces - (last == " ")
    _write_sidecar(target, {"bytes": size, "tokens": tokens, "sha256": digest.hexdigest()})
    return target


def verify(target: Path, expected_sha256: str) -> dict:
    """Check a wiki_text8 file cheaply; return its sidecar figures.

    With a sidecar, the size must match it. Without one (a copy made by another tool) the file's
    sha256 must equal ``expected_sha256``; the sidecar is then written so the check runs once.
    """
    sidecar = _sidecar(target)
    if sidecar.is_file():
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        if target.stat().st_size == meta["bytes"]:
            return meta
        raise ChecksumError(
            f"{target}: {target.stat().st_size:,} bytes, but it was built with {meta['bytes']:,}; "
            f"delete it and its .json sidecar, and `seqlab data fetch wiki_text8` rebuilds it."
        )
    digest = hashlib.sha256()
    spaces = 0
    last = b""
    with open(target, "rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
            spaces += chunk.count(b" ")
            last = chunk[-1:]
    if digest.hexdigest() != expected_sha256:
        raise ChecksumError(
            f"{target}: sha256 {digest.hexdigest()} is not that of the wiki_text8 recipe "
            f"({expected_sha256}); delete it and `seqlab data fetch wiki_text8` rebuilds it."
        )
    meta = {
        "bytes": target.stat().st_size,
        "tokens": spaces - (last == b" "),
        "sha256": expected_sha256,
    }
    _write_sidecar(target, meta)
    return meta


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + ".json")


def _write_sidecar(target: Path, meta: dict) -> None:
    with atomic_write(_sidecar(target), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
