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
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from seqlab.io import atomic_write, load_arrays, meta_path, read_meta, save_arrays

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
    check_finite: bool = True,
) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    """Read ``(words, vectors (n, d) float32, counts or None)`` from a vector file.

    Parameters
    ----------
    path : path of the file.
    format : one of :data:`FORMATS`, or ``None`` to sniff it (:func:`sniff_format`).
    mmap : map the ``seqlab`` format read-only instead of reading it into memory.
    limit : keep only the first ``limit`` words.
    errors : how to decode words that are not valid UTF-8 (``"strict"`` raises).
    check_finite : refuse a file holding NaN or ±inf values, naming the first such word (such a
        word would silently drop out of every query); ``False`` loads it as it is.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "v.txt"
    >>> _ = path.write_text("2 3\\n서울 1 0 0\\ntokyo 0 1 0\\n", encoding="utf-8")
    >>> words, vectors, _ = read_vectors(path)
    >>> words, vectors.shape
    (['서울', 'tokyo'], (2, 3))
    """
    path = _existing_file(path)
    if format is not None and format not in FORMATS:
        raise ValueError(f"unknown vector format {format!r}: use one of {', '.join(FORMATS)}")
    if format is None:
        format = sniff_format(path)
    else:
        _check_declared_format(path, format)
    if format == "seqlab":
        words, vectors, counts = _read_native(path, mmap, limit)
    elif format == "word2vec-bin":
        words, vectors, counts = (*_read_word2vec_binary(path, limit, errors), None)
    else:
        words, vectors, counts = (*_read_text(path, format != "glove", limit, errors), None)
    if check_finite:
        check_vectors_finite(words, vectors, f"{path}: ")
    return words, vectors, counts


def check_vectors_finite(
    words: Sequence[str] | Callable[[int], str], vectors: np.ndarray, where: str = ""
) -> None:
    """Raise :class:`EmbeddingFormatError` naming the first word whose vector holds NaN or inf.

    A NaN vector has NaN cosine with everything, so the word would vanish from every answer
    without a word of warning. Memory stays O(n): rows are summed in float64 (finite float32
    values cannot overflow it), and a NaN or inf anywhere in a row makes its sum non-finite.
    ``words`` may also be a function naming row ``i`` (fastText's n-gram buckets); ``where``
    prefixes the message (the file name).

    Examples
    --------
    >>> bad = np.array([[1, 0], [np.nan, 1]], np.float32)
    >>> check_vectors_finite(["a", "b"], bad)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    seqlab.embeddings.formats.EmbeddingFormatError: the vector of 'b' (row 2) holds NaN or inf ...
    """
    bad = np.flatnonzero(~np.isfinite(vectors.sum(axis=1, dtype=np.float64)))
    if len(bad) == 0:
        return
    row = int(bad[0])
    others = f"; {len(bad) - 1:,} more rows too" if len(bad) > 1 else ""
    raise EmbeddingFormatError(
        f"{where}the vector of {name(row) if callable(name := words) else repr(name[row])} "
        f"(row {row + 1}) holds NaN or inf "
        f"({_show_bad(vectors[row])}){others}. Such a word would silently drop out of "
        "every query. The vectors come from a run that diverged or a broken export: retrain "
        "with a lower learning rate, or re-export them. From Python, check_finite=False loads "
        "them as they are"
    )


def _show_bad(row: np.ndarray) -> str:
    bad = np.flatnonzero(~np.isfinite(row))
    shown = ", ".join(f"{row[i]} at index {i}" for i in bad[:3])
    return shown + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")


def _existing_file(path: str | os.PathLike) -> Path:
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a directory, not a vector file; pass the file itself")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such vector file")
    return path


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
    """Tell the format of a vector file from its content (and a ``.vec`` suffix).

    - a safetensors header (8-byte length, then ``{``): ``seqlab``;
    - a ``"<int> <int>"`` first line: word2vec, binary if the next 4 KiB hold NUL bytes or the
      next line holds bytes that are not UTF-8 (float32 data), else text (whatever the count
      of numbers, or a typo in one: the text reader then names the line and what is wrong);
    - a first line of a word and numbers: ``glove``;
    - anything else is not a vector file, and :class:`EmbeddingFormatError` says so, showing
      what the first line holds (a corpus, a binary file, a malformed header).
    """
    path = _existing_file(path)
    with open(path, "rb") as f:
        head = f.read(16)
        if not head.strip():
            raise EmbeddingFormatError(f"{path}: empty file, expected word vectors")
        if _is_safetensors(head, path.stat().st_size):
            return "seqlab"
        f.seek(0)
        first = f.readline(1 << 20)
        second = f.readline(1 << 24)  # text lines hold dim numbers: can be long
        f.seek(len(first))
        # a binary vector may begin with the byte of a newline (1 file in 256): then the
        # "second line" is the first word alone, and only the bytes after it show the floats
        after_header = f.read(4096)
    parts = first.split()
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        if b"\x00" in after_header or (not _is_text_row(second) and _is_binary(second)):
            return "word2vec-bin"
        return "fasttext-vec" if path.suffix == ".vec" else "word2vec-txt"
    if _is_text_row(first):
        if len(parts) == 2 and second.strip() and len(second.split()) != 2:
            raise _bad_header(path, first)
        return "glove"
    if len(parts) == 2 and _is_text_row(second):  # "300 x", "dims 300": a broken header
        raise _bad_header(path, first)
    raise EmbeddingFormatError(
        f"{path}: this is not a word2vec/GloVe/fastText vectors file: {_describe_line(first)}. "
        "Vector files are word2vec binary, or text with 'word v1 v2 ... vd' lines (GloVe), "
        "optionally after a '<n_words> <vector_size>' header line (word2vec/fastText text), or "
        "seqlab's .safetensors + .json"
    )


def _check_declared_format(path: Path, format: str) -> None:
    """Refuse a declared format that the content contradicts beyond doubt.

    Reading word2vec text as binary (or the reverse) would not fail cleanly: it yields garbage
    words and numbers. Only clear contradictions are refused; a file whose format cannot be
    told is left to the declared reader, which reports what it finds.
    """
    try:
        found = sniff_format(path)
    except EmbeddingFormatError:
        return
    text = ("word2vec-txt", "fasttext-vec")
    contradicts = (
        (format == "word2vec-bin" and found != "word2vec-bin")
        or (format != "word2vec-bin" and found == "word2vec-bin")
        or (format == "seqlab") != (found == "seqlab")
        or (format == "glove" and found in text)
    )
    if contradicts:
        raise EmbeddingFormatError(
            f"{path}: declared as {format}, but the content is {found}; pass format={found!r} "
            f"(--format {found}) or leave the format out to have it detected"
        )


def _is_safetensors(head: bytes, size: int) -> bool:
    """safetensors: little-endian u64 header length, then the JSON header's ``{``."""
    if len(head) < 9 or head[8:9] != b"{":
        return False
    (header_size,) = struct.unpack("<Q", head[:8])
    return 8 + header_size <= size


def _is_text_row(line: bytes) -> bool:
    """A word and at least one number, separated by spaces (undecodable bytes in the word are
    allowed: the reader reports them with its hint)."""
    tokens = line.decode("utf-8", "replace").rstrip("\r\n").split(" ")
    if len(tokens) < 2 or not tokens[0]:
        return False
    try:
        [float(t) for t in tokens[1:] if t]
    except ValueError:
        return False
    return True


def _is_binary(line: bytes) -> bool:
    """float32 bytes hold NUL bytes (any 0.0) or bytes that are not UTF-8 (almost surely, over
    a whole vector); a text line with a typo in a number has neither."""
    if b"\x00" in line:
        return True
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _bad_header(path: Path, first: bytes) -> EmbeddingFormatError:
    shown = first[:60].decode("utf-8", "replace").rstrip()
    return EmbeddingFormatError(
        f"{path}:1: the first line {shown!r} looks like a word2vec header but is not "
        "'<n_words> <vector_size>' (two whole numbers); fix it, or delete it to read the rest "
        "as GloVe text"
    )


def _describe_line(first: bytes) -> str:
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError:
        return "it is not text (its first bytes are not UTF-8) and has no word2vec header"
    shown = text[:60].rstrip()
    return f"line 1 reads {shown!r}, where a word and numbers were expected"


# ------------------------------------------------------------------------------------- readers
def _parse_header(path: Path, line: bytes) -> tuple[int, int]:
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        shown = line[:60].decode("utf-8", "replace").rstrip()
        raise EmbeddingFormatError(
            f"{path}:1: expected the header '<n_words> <vector_size>', found {shown!r}. "
            "Files without a header line are GloVe format: pass format='glove' (--format glove)"
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
            f"(byte {e.start}: {raw[e.start : e.start + 4]!r}). If the file uses another "
            "encoding, convert it to UTF-8 (e.g. iconv -f latin1 -t utf-8); from Python, "
            "errors='replace' keeps going with the bad bytes replaced"
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
                    f"{path}:{line_no}: the header says {n_declared} words but more lines "
                    "follow; fix the header count (or read only the first words: limit=N, "
                    "--limit N in `seqlab embed convert`)"
                )
            if dim is None:
                dim = len(rest.split())
            words.append(word)
            rests.append(rest)
            line_nos.append(line_no)
            if len(rests) == _TEXT_BLOCK:
                blocks.append(_parse_numbers(path, words, rests, line_nos, dim, n_declared))
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
        blocks.append(_parse_numbers(path, words, rests, line_nos, dim, n_declared))
    return words, np.concatenate(blocks) if len(blocks) > 1 else blocks[0]


def _parse_numbers(
    path: Path,
    words: list[str],
    rests: list[str],
    line_nos: list[int],
    dim: int,
    n_declared: int | None,
) -> np.ndarray:
    """The numbers of the last ``len(rests)`` lines as a (k, dim) float32 array.

    Fast path: one C-level parse of the whole block; the per-line checks only run on lines whose
    space count is off, or when the block does not parse, to name the offending line.
    """
    first_word = len(words) - len(rests)
    for i, rest in enumerate(rests):
        if rest.count(" ") + 1 != dim or not rest:
            _check_line(path, line_nos[i], first_word + i, words, rest, dim, n_declared)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            flat = np.fromstring(" ".join(rests), dtype=np.float32, sep=" ")
    except (DeprecationWarning, ValueError):
        flat = np.empty(0, dtype=np.float32)
    if flat.size != len(rests) * dim:
        for i, rest in enumerate(rests):
            _check_line(path, line_nos[i], first_word + i, words, rest, dim, n_declared)
    return flat.reshape(len(rests), dim)


def _check_line(
    path: Path,
    line_no: int,
    row: int,
    words: list[str],
    rest: str,
    dim: int,
    n_declared: int | None,
) -> None:
    """Raise the precise error for one text line (number count or a non-number)."""
    word = words[row]
    values = rest.split()
    if len(values) != dim:
        if n_declared is not None:
            said = f"the header says {n_declared} words x {dim} dims"
        else:
            said = f"row 1 ({words[0]!r}) has {dim} values"
        raise EmbeddingFormatError(
            f"{path}:{line_no}: {said}, but row {row + 1} ({word!r}) has {len(values)} values. "
            "Words may not contain spaces, and all vectors need the same dimension: fix the "
            "header or re-export the file"
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
        arrays, meta = load_arrays(path, "vectors file")
        if "vectors" not in arrays:
            raise EmbeddingFormatError(f"{path}: no tensor 'vectors' in this safetensors file")
        vectors, counts = arrays["vectors"], arrays.get("counts")
    else:
        meta = read_meta(path, "vectors file")
        vectors = _memmap_safetensors(path, "vectors")
        counts = _memmap_safetensors(path, "counts", required=False)
    if meta.get("format") != _NATIVE_TAG:
        raise EmbeddingFormatError(
            f"{meta_path(path)}: expected format {_NATIVE_TAG!r}, found {meta.get('format')!r}; "
            "this safetensors file does not hold KeyedVectors"
        )
    words = meta.get("words")
    if not isinstance(words, list):
        raise EmbeddingFormatError(f"{meta_path(path)}: no 'words' list in the JSON sidecar")
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
