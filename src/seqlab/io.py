"""Atomic file writes and the project's model-file format (safetensors + JSON).

Every file seqlab writes that a later run reads (cached datasets, vectors, checkpoints, reports)
goes through :func:`atomic_write`: the bytes land in a temporary file beside the target and are
renamed over it only once complete, so an interrupted run never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
from safetensors.numpy import load_file, save_file


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", **open_kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success rename it to ``path``, else delete it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_write(target, "w", encoding="utf-8") as f:
    ...     _ = f.write("hello")
    >>> target.read_text()
    'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temporary_beside(path)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def save_arrays(path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write ``arrays`` to ``path`` (safetensors) and ``meta`` to ``path`` + ``.json``, atomically.

    The JSON sidecar holds everything that is not an array (hyperparameters, vocabulary, epoch
    counters), readable by any tool; no pickle is involved anywhere.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temporary_beside(path)
    os.close(fd)
    try:
        save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, tmp)
        # safetensors writes a file of its own (owner-only) in place of the temporary one
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with atomic_write(meta_path(path), "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, indent=1)


class ModelFileError(ValueError):
    """A safetensors file or its JSON sidecar is missing, truncated or not what it should be."""


def load_arrays(
    path: str | os.PathLike, what: str = "safetensors file"
) -> tuple[dict[str, np.ndarray], dict]:
    """Read what :func:`save_arrays` wrote: ``(arrays, meta)``.

    ``what`` names the file in messages ("training checkpoint", "fastText model").

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist (or is a directory).
    ModelFileError
        The JSON sidecar is missing or not a JSON object, or either file is truncated or corrupt;
        the message names the file, what is wrong and how to recover.
    """
    path = Path(path)
    if path.is_dir():
        raise FileNotFoundError(f"{path}: is a directory, expected a {what} (a .safetensors file)")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such {what}")
    meta = read_meta(path, what)
    try:
        arrays = load_file(str(path))
    except Exception as e:  # safetensors raises its own SafetensorError, or OSError
        raise ModelFileError(
            f"{path}: this {what} is truncated or not a safetensors file ({e}). It was not "
            "written by seqlab or was cut off while copying: recreate it (delete it to start over)"
        ) from None
    return arrays, meta


def read_meta(path: str | os.PathLike, what: str = "safetensors file") -> dict:
    """The JSON sidecar of ``path`` as a dict; :class:`ModelFileError` naming it if unusable."""
    path = Path(path)
    meta_file = meta_path(path)
    if not meta_file.is_file():
        raise ModelFileError(
            f"{path}: this {what} has no JSON sidecar {meta_file.name} beside it (the words and "
            "settings live there). Copy the two files together, or recreate the file"
        )
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFileError(
            f"{meta_file}: the JSON sidecar of this {what} is not valid JSON ({e}); it is "
            f"truncated or was edited by hand: restore it, or recreate {path.name} and its sidecar"
        ) from None
    if not isinstance(meta, dict):
        raise ModelFileError(
            f"{meta_file}: the JSON sidecar of this {what} holds a {type(meta).__name__}, "
            "expected an object; restore it, or recreate the file and its sidecar"
        )
    return meta


def check_writable(path: str | os.PathLike, folder: bool = False) -> Path:
    """Fail now, not after an hour of training, if ``path`` cannot be written.

    ``path`` is a file to be written atomically (its folder may not exist yet: it will be
    created), or with ``folder=True`` a folder to create or write into. The nearest existing
    ancestor must be a folder in which a file can be created; a temporary file is created and
    removed there to be sure (permissions, read-only mounts, quotas all show up). Nothing is
    left behind.

    Raises
    ------
    OSError
        With a message naming ``path``, what is in the way and the fix.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> check_writable(pathlib.Path(tempfile.mkdtemp()) / "new" / "vectors.bin").name
    'vectors.bin'
    """
    path = Path(path)
    if not folder and path.is_dir():
        raise IsADirectoryError(f"{path}: is a directory; pass a file name to write")
    if folder and path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{path}: is a file; pass a folder to write into")
    existing = path if folder and path.is_dir() else path.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(
            f"cannot write {path}: {existing} is a file, not a folder; choose another path"
        )
    try:
        with tempfile.TemporaryFile(dir=existing, prefix=".seqlab-write-check."):
            pass
    except OSError as e:
        raise PermissionError(
            f"cannot write {path}: no file can be created in {existing} ({e.strerror}); "
            "choose a folder you can write to"
        ) from None
    return path


def _temporary_beside(path: Path) -> tuple[int, str]:
    """A new temporary file in ``path``'s folder (same file system, so the rename is atomic).

    ``mkstemp`` creates it readable by the owner only; the finished file should carry the usual
    permissions (0666 less the umask), as if it had been opened directly.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.fchmod(fd, _default_mode())
    return fd, tmp


def _default_mode() -> int:
    """0666 less the process's umask: the mode ``open`` would give a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def meta_path(path: str | os.PathLike) -> Path:
    """The JSON sidecar that goes with a safetensors file."""
    return Path(str(path) + ".json")
