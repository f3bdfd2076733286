"""Word-vector file formats: word2vec text/binary, GloVe text, fastText ``.vec``, seqlab native.

===============  ==============================================================================
format           layout
===============  ==============================================================================
word2vec-txt     header ``"<n_words> <dim>\\n"``, then ``word v1 ... vdim\\n`` per word (UTF-8)
fasttext-vec     same bytes as word2vec-txt (fastText's ``.vec`` output)
word2vec-bin     header ``"<n_words> <dim>\\n"``, then ``word`` + ``b" "`` + dim little-endian
                 float32, optionally followed by ``\\n`` (the C tool writes it, gensim does not)
glove            ``word v1 ... vdim\\n`` per word, no header line
seqlab           safetensors file (``vectors`` (n, d) float32, optional ``counts`` (n,) int64)
                 + JSON sidecar ``<path>.json`` with the words; can be memory-mapped
===============  ==============================================================================

Every writer is atomic (:func:`seqlab.io.atomic_write`); every reader reports malformed input as
:class:`EmbeddingFormatError` naming the line (or word number and byte offset, for binary files)
and what was expected there.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from seqlab.io import atomic_write, load_arrays, meta_path, save_arrays

FORMATS = ("word2vec-bin", "word2vec-txt", "glove", "fasttext-vec", "seqlab")
_SUFFIX_FORMATS = {
    ".bin": "word2vec-bin",
    ".txt": "word2vec-txt",
    ".vec": "fasttext-vec",
    ".safetensors": "seqlab",
}
_NATIVE_TAG = "seqlab-keyedvectors"
_PROGRESS_BYTES = 256 << 20  # files above 256 MiB show a progress bar while loading
_TEXT_BLOCK = 16384  # text lines parsed per numpy call: bounded memory, live progress


class EmbeddingFormatError(ValueError):
    """A vector file does not follow its format; the message says where and what was expected."""


# ---------------------------------------------------------------------------------------- API
def read_vectors(
    path: str | os.PathLike,
    format: str | None = None,
    mmap: bool = False,
    limit: int | None = None,
    errors: str = "strict",
) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    """Read ``(words, vectors (n, d) float32, counts or None)`` from a vector file.

    Parameters
    ----------
    path : path of the file.
    format : one of :data:`FORMATS`, or ``None`` to sniff it (:func:`sniff_format`).
    mmap : map the ``seqlab`` format read-only instead of reading it into memory.
    limit : keep only the first ``limit`` words.
    errors : how to decode words that are not valid UTF-8 (``"strict"`` raises).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "v.txt"
    >>> _ = path.write_text("2 3\\n서울 1 0 0\\ntokyo 0 1 0\\n", encoding="utf-8")
    >>> words, vectors, _ = read_vectors(path)
    >>> words, vectors.shape
    (['서울', 'tokyo'], (2, 3))
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such vector file")
    format = format or sniff_format(path)
    if format == "seqlab":
        return _read_native(path, mmap, limit)
    if format == "word2vec-bin":
        return (*_read_word2vec_binary(path, limit, errors), None)
    if format in ("word2vec-txt", "fasttext-vec", "glove"):
        return (*_read_text(path, format != "glove", limit, errors), None)
    raise ValueError(f"unknown vector format {format!r}: use one of {', '.join(FORMATS)}")


def write_vectors(
    path: str | os.PathLike,
    words: Sequence[str],
    vectors: np.ndarray,
    counts: np.ndarray | None = None,
    format: str | None = None,
) -> None:
    """Write vectors atomically; ``format=None`` picks it from the suffix (default word2vec-bin).

    Counts are kept only by the ``seqlab`` format (the others have no place for them).
    """
    path = Path(path)
    format = format or _SUFFIX_FORMATS.get(path.suffix, "word2vec-bin")
    vectors = np.asarray(vectors, dtype=np.float32)
    if format == "seqlab":
        arrays = {"vectors": vectors}
        if counts is not None:
            arrays["counts"] = np.asarray(counts, dtype=np.int64)
        save_arrays(path, arrays, {"format": _NATIVE_TAG, "version": 1, "words": list(words)})
        return
    if format not in FORMATS:
        raise ValueError(f"unknown vector format {format!r}: use one of {', '.join(FORMATS)}")
    _check_words_writable(words)
    if format == "word2vec-bin":
        with atomic_write(path, "wb") as f:
            f.write(f"{len(words)} {vectors.shape[1]}\n".encode())
            little = vectors.astype("<f4", copy=False)
            for word, row in zip(words, little, strict=True):
                # The trailing newline follows the original C tool; gensim and C both accept it.
                f.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")
        return
    row_format = " ".join(["%.9g"] * vectors.shape[1])  # 9 digits: every float32 round-trips
    with atomic_write(path, "w", encoding="utf-8", newline="\n") as f:
        if format != "glove":
            f.write(f"{len(words)} {vectors.shape[1]}\n")
        for word, row in zip(words, vectors, strict=True):
            f.write(f"{word} {row_format % tuple(row.tolist())}\n")


def sniff_format(path: str | os.PathLike) -> str:
    """Guess the format of a vector file from its first bytes (and ``.vec`` suffix).

    A safetensors header means ``seqlab``; a ``"<int> <int>"`` first line means word2vec
    (text if the next line is a word and that many numbers, else binary); otherwise ``glove``.
    """
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(16)
        if not head.strip():
            raise EmbeddingFormatError(f"{path}: empty file, expected word vectors")
        if len(head) > 9 and head[8:9] == b"{" and meta_path(path).is_file():
            return "seqlab"
        f.seek(0)
        first = f.readline(1 << 20)
        second = f.readline(1 << 24)  # text lines hold dim numbers: can be long
    parts = first.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return "glove"
    tokens = second.decode("utf-8", "replace").rstrip().split(" ")
    try:
        [float(t) for t in tokens[1:]]
        is_text = len(tokens) == int(parts[1]) + 1
    except ValueError:  # float32 bytes of a binary file are not numbers in text
        is_text = False
    if not is_text:
        return "word2vec-bin"
    return "fasttext-vec" if path.suffix == ".vec" else "word2vec-txt"


# ------------------------------------------------------------------------------------- readers
def _parse_header(path: Path, line: bytes) -> tuple[int, int]:
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        shown = line[:60].decode("utf-8", "replace").rstrip()
        raise EmbeddingFormatError(
            f"{path}:1: expected the header '<n_words> <vector_size>', found {shown!r}. "
            "Files without a header line are GloVe format: pass format='glove'"
        )
    n, d = int(parts[0]), int(parts[1])
    if d == 0:
        raise EmbeddingFormatError(f"{path}:1: header says vector size 0; expected at least 1")
    return n, d


def _decode(path: Path, where: str, raw: bytes, errors: str) -> str:
    try:
        return raw.decode("utf-8", errors)
    except UnicodeDecodeError as e:
        raise EmbeddingFormatError(
            f"{path}:{where}: word is not valid UTF-8 "
            f"(byte {e.start}: {raw[e.start : e.start + 4]!r}). "
            "If the file uses another encoding, convert it; to keep going, pass errors='replace'"
        ) from None


def _read_text(
    path: Path, header: bool, limit: int | None, errors: str
) -> tuple[list[str], np.ndarray]:
    """word2vec/fastText text (``header=True``) or GloVe text (``header=False``)."""
    words: list[str] = []
    blocks: list[np.ndarray] = []  # parsed (k, dim) float32 blocks of _TEXT_BLOCK lines
    rests: list[str] = []  # number text of the lines not yet parsed
    line_nos: list[int] = []
    n_declared, dim = None, None
    with open(path, "rb") as f, _progress(path) as bar:
        if header:
            n_declared, dim = _parse_header(path, f.readline())
        for line_no, raw in enumerate(f, start=2 if header else 1):
            if limit is not None and len(words) >= limit:
                break
            line = _decode(path, str(line_no), raw, errors).rstrip()
            if not line:
                continue  # blank lines carry nothing (trailing newlines, CRLF files)
            word, _, rest = line.partition(" ")
            if n_declared is not None and len(words) == n_declared:
                raise EmbeddingFormatError(
                    f"{path}:{line_no}: the header promises {n_declared} words but more lines "
                    "follow; fix the header count (or pass limit=)"
                )
            if dim is None:
                dim = len(rest.split())
            words.append(word)
            rests.append(rest)
            line_nos.append(line_no)
            if len(rests) == _TEXT_BLOCK:
                blocks.append(_parse_numbers(path, words, rests, line_nos, dim))
                rests, line_nos = [], []
                bar.update(f.tell() - bar.n)
    if not words:
        raise EmbeddingFormatError(f"{path}: no word vectors found (expected 'word v1 v2 ...')")
    if n_declared is not None and len(words) < n_declared and limit is None:
        raise EmbeddingFormatError(
            f"{path}:{(line_nos or [0])[-1] + 1}: the header promises {n_declared} words, the "
            f"file ends after {len(words)} (truncated file?); re-export it or fix the header count"
        )
    if rests:
        blocks.append(_parse_numbers(path, words, rests, line_nos, dim))
    return words, np.concatenate(blocks) if len(blocks) > 1 else blocks[0]


def _parse_numbers(
    path: Path, words: list[str], rests: list[str], line_nos: list[int], dim: int
) -> np.ndarray:
    """The numbers of the last ``len(rests)`` lines as a (k, dim) float32 array.

    Fast path: one C-level parse of the whole block; the per-line checks only run on lines whose
    space count is off, or when the block does not parse, to name the offending line.
    """
    first_word = len(words) - len(rests)
    for i, rest in enumerate(rests):
        if rest.count(" ") + 1 != dim or not rest:
            _check_line(path, line_nos[i], words[first_word + i], rest, dim)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            flat = np.fromstring(" ".join(rests), dtype=np.float32, sep=" ")
    except (DeprecationWarning, ValueError):
        flat = np.empty(0, dtype=np.float32)
    if flat.size != len(rests) * dim:
        for i, rest in enumerate(rests):
            _check_line(path, line_nos[i], words[first_word + i], rest, dim)
    return flat.reshape(len(rests), dim)


def _check_line(path: Path, line_no: int, word: str, rest: str, dim: int) -> None:
    """Raise the precise error for one text line (number count or a non-number)."""
    values = rest.split()
    if len(values) != dim:
        raise EmbeddingFormatError(
            f"{path}:{line_no}: expected the word and {dim} numbers, found {len(values)} numbers "
            f"after {word!r}. Words may not contain spaces; all vectors need the same dimension"
        )
    for value in values:
        try:
            float(value)
        except ValueError:
            raise EmbeddingFormatError(
                f"{path}:{line_no}: expected a number in the vector of {word!r}, found {value!r}"
            ) from None


def _read_word2vec_binary(
    path: Path, limit: int | None, errors: str
) -> tuple[list[str], np.ndarray]:
    size = path.stat().st_size
    with open(path, "rb") as f:
        n, dim = _parse_header(path, f.readline())
        start = f.tell()
        if size == start:
            raise EmbeddingFormatError(f"{path}: header only, expected {n} word vectors after it")
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    bar = _progress(path)
    try:
        take = n if limit is None else min(n, limit)
        words: list[str] = []
        vectors = np.empty((take, dim), dtype=np.float32)  # (n, d)
        nbytes = 4 * dim
        pos = start
        for i in range(take):
            if i % 65536 == 0:
                bar.update(pos - bar.n)
            while pos < size and data[pos] in (10, 13):  # "\n" ending the previous vector
                pos += 1
            space = data.find(b" ", pos, pos + 4096)
            if space < 0:
                found = "the end of the file" if pos >= size else "no space within 4096 bytes"
                raise EmbeddingFormatError(
                    f"{path}: word #{i + 1} (byte {pos}): expected a word and a space, found "
                    f"{found}; the header promises {n} words (truncated or not word2vec binary?)"
                )
            word = _decode(path, f"word #{i + 1} (byte {pos})", data[pos:space], errors)
            if space + 1 + nbytes > size:
                raise EmbeddingFormatError(
                    f"{path}: word #{i + 1} {word!r} (byte {pos}): expected {dim} float32 "
                    f"({nbytes} bytes), only {size - space - 1} bytes left (truncated file?)"
                )
            vectors[i] = np.frombuffer(data, dtype="<f4", count=dim, offset=space + 1)
            words.append(word)
            pos = space + 1 + nbytes
    finally:
        bar.close()
        data.close()
    return words, vectors


def _progress(path: Path):
    """A bytes progress bar for files big enough to take seconds (silent for small ones)."""
    from tqdm.auto import tqdm

    size = path.stat().st_size
    return tqdm(
        total=size,
        unit="B",
        unit_scale=True,
        desc=f"reading {path.name}",
        disable=size < _PROGRESS_BYTES,
        leave=False,
    )


def _read_native(
    path: Path, use_mmap: bool, limit: int | None
) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    if not use_mmap:
        arrays, meta = load_arrays(path)
        vectors, counts = arrays["vectors"], arrays.get("counts")
    else:
        meta = json.loads(meta_path(path).read_text(encoding="utf-8"))
        vectors = _memmap_safetensors(path, "vectors")
        counts = _memmap_safetensors(path, "counts", required=False)
    if meta.get("format") != _NATIVE_TAG:
        raise EmbeddingFormatError(
            f"{meta_path(path)}: expected format {_NATIVE_TAG!r}, found {meta.get('format')!r}; "
            "this safetensors file does not hold KeyedVectors"
        )
    words = meta["words"]
    if len(words) != len(vectors):
        raise EmbeddingFormatError(
            f"{path}: {len(vectors)} vectors but {len(words)} words in the JSON sidecar"
        )
    if limit is not None:
        words, vectors = words[:limit], vectors[:limit]
        counts = None if counts is None else counts[:limit]
    return words, vectors, counts


def _memmap_safetensors(path: Path, name: str, required: bool = True) -> np.ndarray | None:
    """Map one tensor of a safetensors file read-only (layout: u64 header size, JSON, data)."""
    dtypes = {"F32": "<f4", "I64": "<i8"}
    with open(path, "rb") as f:
        (header_size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_size))
    if name not in header:
        if required:
            raise EmbeddingFormatError(f"{path}: no tensor {name!r} in this safetensors file")
        return None
    entry = header[name]
    begin, _ = entry["data_offsets"]
    return np.memmap(
        path,
        dtype=dtypes[entry["dtype"]],
        mode="r",
        offset=8 + header_size + begin,
        shape=tuple(entry["shape"]),
    )


def _check_words_writable(words: Sequence[str]) -> None:
    """Text and binary formats separate words by spaces and lines: such words cannot be saved."""
    for i, word in enumerate(words):
        if not word or any(ch in word for ch in " \n\r\t"):
            raise EmbeddingFormatError(
                f"word #{i + 1} {word!r} is empty or contains whitespace, which these formats use "
                "as separators; save with format='seqlab' or replace the whitespace"
            )
