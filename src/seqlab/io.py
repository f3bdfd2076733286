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
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with atomic_write(meta_path(path), "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, indent=1)


def load_arrays(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """Read what :func:`save_arrays` wrote: ``(arrays, meta)``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected a safetensors file)")
    meta_file = meta_path(path)
    if not meta_file.is_file():
        raise FileNotFoundError(f"{meta_file}: missing JSON sidecar of {path}")
    return load_file(str(path)), json.loads(meta_file.read_text(encoding="utf-8"))


def _temporary_beside(path: Path) -> tuple[int, str]:
    """A new temporary file in ``path``'s folder (same file system, so the rename is atomic).

    ``mkstemp`` creates it readable by the owner only; the finished file should carry the usual
    permissions (0666 less the umask), as if it had been opened directly.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)
    return fd, tmp


def meta_path(path: str | os.PathLike) -> Path:
    """The JSON sidecar that goes with a safetensors file."""
    return Path(str(path) + ".json")
