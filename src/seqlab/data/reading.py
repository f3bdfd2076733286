"""Reading the small text files of a dataset: whole lines, plain or gzip, a given encoding."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import IO


def open_text(path: Path, encoding: str = "utf-8") -> IO[str]:
    """Open ``path`` for reading text, through gzip when it ends in ``.gz``."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding=encoding)
    return open(path, encoding=encoding)


def read_lines(path: Path, encoding: str = "utf-8") -> list[str]:
    """The lines of a small file, without line breaks (``\\r\\n`` or ``\\n``).

    Splits on ``\\n`` only: ``str.splitlines`` would also split inside a line at U+2028 or
    U+0085, which occur in real text and would shift parallel or labeled lines.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = f.write_bytes("one\\r\\ntwo\\u2028half\\n".encode())
    >>> read_lines(f)
    ['one', 'two\\u2028half']
    """
    with open_text(path, encoding) as f:
        lines = f.read().split("\n")
    if lines and not lines[-1]:
        lines.pop()
    return [line.rstrip("\r") for line in lines]
