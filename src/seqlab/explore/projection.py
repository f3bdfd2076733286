"""Coordinates of the most frequent words in 2-D or 3-D: PCA, t-SNE, UMAP, or two word axes.

A projection is computed once per vectors file and setting, then kept in the seqlab cache
(``$SEQLAB_CACHE/explore``, default ``~/.cache/seqlab/explore``) as a safetensors file with a JSON
sidecar, written atomically. The cache key holds the file's resolved path, size, modification time
and a hash of its first and last MiB, so an edited or replaced vectors file gets a new projection;
the vectors file itself is only ever read.

All projections start from the unit vectors, so distances in the picture follow cosines, as the
queries do. t-SNE and UMAP first reduce to 50 dimensions by PCA (the usual recipe: it removes
noise and makes their neighbour search fast).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqlab.embeddings import KeyedVectors, UnknownWordError
from seqlab.io import ModelFileError, load_arrays, save_arrays

METHODS = ("pca", "tsne", "umap")
_CACHE_VERSION = 1
_PRE_PCA = 50  # t-SNE / UMAP start from this many principal components
_HASHED_BYTES = 1 << 20  # bytes hashed at each end of the vectors file for the cache key


class ProjectionUnavailable(RuntimeError):
    """The projection method needs a package that is not installed."""


@dataclass
class Projection:
    """Where the plotted words sit: ``rows`` index the vocabulary, ``coords`` is (k, dims)."""

    method: str
    dims: int
    rows: np.ndarray
    coords: np.ndarray
    seconds: float  # time the computation took (also when read back from the cache)
    cached: bool  # read from the cache rather than computed now
    explained: list[float] | None = None  # PCA: variance share of each axis


def plotted_rows(kv: KeyedVectors, top: int) -> np.ndarray:
    """Vocabulary rows of the ``top`` most frequent words (by counts when known, else file order).

    Examples
    --------
    >>> kv = KeyedVectors(["a", "b", "c"], np.eye(3, dtype=np.float32), counts=[1, 5, 3])
    >>> plotted_rows(kv, 2).tolist()
    [1, 2]
    """
    top = min(top, len(kv))
    if kv.counts is None:
        return np.arange(top, dtype=np.int64)
    return np.argsort(-kv.counts, kind="stable")[:top].astype(np.int64)


def pca(x: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Principal-component coordinates of the rows of ``x`` (k, d).

    Returns ``(coords (k, dims), components (dims, d), explained variance share (dims,))``;
    missing components (fewer rows or columns than ``dims``) are zero. Signs are fixed so that
    the largest loading of each component is positive, which keeps pictures stable across runs.

    Examples
    --------
    >>> coords, comps, share = pca(np.array([[0, 0], [2, 0], [4, 1]]), 2)
    >>> coords.shape, round(float(share[0]), 3)
    ((3, 2), 0.982)
    """
    x = np.asarray(x, dtype=np.float64)
    centred = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    signs = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])
    vt = vt * np.where(signs == 0, 1, signs)[:, None]
    total = float((s**2).sum()) or 1.0
    comps = np.zeros((dims, x.shape[1]))
    share = np.zeros(dims)
    kept = min(dims, len(vt))
    comps[:kept] = vt[:kept]
    share[:kept] = s[:kept] ** 2 / total
    return centred @ comps.T, comps, share


def compute(
    kv: KeyedVectors,
    rows: np.ndarray,
    method: str,
    dims: int,
    seed: int = 0,
    progress: Callable[[str], None] = lambda message: None,
) -> Projection:
    """Project the unit vectors of ``rows`` by ``method`` into ``dims`` dimensions (no cache).

    ``progress`` receives a short message at each stage (the page shows it while it waits).
    """
    _check_settings(method, dims, len(rows))
    start = time.perf_counter()
    x = kv.unit_vectors[rows]
    explained = None
    if method == "pca":
        progress(f"PCA of {len(rows):,} words")
        coords, _, share = pca(x, dims)
        explained = share.tolist()
    else:
        progress(f"PCA to {_PRE_PCA} dimensions before {_NAMES[method]}")
        reduced, _, _ = pca(x, min(_PRE_PCA, x.shape[1], len(x)))
        progress(f"{_NAMES[method]} of {len(rows):,} words (this takes a while; cached after)")
        coords = _tsne(reduced, dims, seed) if method == "tsne" else _umap(reduced, dims, seed)
    return Projection(
        method,
        dims,
        np.asarray(rows, dtype=np.int64),
        np.asarray(coords, dtype=np.float32),
        time.perf_counter() - start,
        cached=False,
        explained=explained,
    )


def umap_available() -> bool:
    """Whether ``umap-learn`` is installed (the optional ``seqlab[umap]`` extra).

    Only looked up, not imported: importing it compiles numba code for many seconds.
    """
    return importlib.util.find_spec("umap") is not None


def word_axes(
    kv: KeyedVectors, rows: np.ndarray, x_pair: tuple[str, str], y_pair: tuple[str, str] | None
) -> tuple[np.ndarray, str]:
    """Coordinates (k, 2) on the axis ``x_pair[0] → x_pair[1]`` and on ``y_pair`` (or not).

    Each word's x is the dot product of its unit vector with the unit direction
    ``u(x1) - u(x0)`` (the Embedding Projector's custom projection). With ``y_pair`` the y axis
    is built the same way, after removing its part along x so that the axes are orthogonal;
    without it, y is the main direction of what x leaves unexplained (first principal component
    of the plotted words after their x part is removed). Returns the coordinates and a label for
    the y axis.

    Examples
    --------
    >>> kv = KeyedVectors(["man", "woman", "king", "queen"],
    ...     np.array([[1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1]], np.float32))
    >>> xy, _ = word_axes(kv, np.arange(4), ("man", "woman"), ("man", "king"))
    >>> bool(xy[1, 0] > xy[0, 0]), bool(xy[2, 1] > xy[0, 1])
    (True, True)
    """
    unit = kv.unit_vectors[rows].astype(np.float64)
    x_dir = _direction(kv, *x_pair)
    if y_pair is not None:
        y_dir = _direction(kv, *y_pair)
        y_dir = y_dir - (y_dir @ x_dir) * x_dir
        norm = np.linalg.norm(y_dir)
        if norm < 1e-6:
            raise ValueError(
                f"the axes {x_pair[0]} → {x_pair[1]} and {y_pair[0]} → {y_pair[1]} point the "
                "same way: choose a y pair that differs from the x pair"
            )
        y_label = f"{y_pair[0]} → {y_pair[1]}"
        y_dir = y_dir / norm
    else:
        residual = unit - np.outer(unit @ x_dir, x_dir)
        _, comps, _ = pca(residual, 1)
        y_dir = comps[0]
        y_label = "main direction left (PCA)"
    return np.stack([unit @ x_dir, unit @ y_dir], axis=1).astype(np.float32), y_label


class ProjectionCache:
    """Projections of one vectors file, kept in ``folder`` (created on first write).

    Parameters
    ----------
    vectors_path : the vectors file the projections belong to (read, never written).
    folder : where projections are stored; default ``$SEQLAB_CACHE/explore``.
    """

    def __init__(self, vectors_path: str | os.PathLike, folder: str | os.PathLike | None = None):
        self.vectors_path = Path(vectors_path).resolve()
        self.folder = Path(folder) if folder is not None else default_cache_folder()
        self._identity = _file_identity(self.vectors_path)

    def path(self, method: str, dims: int, rows: np.ndarray, seed: int) -> Path:
        """The cache file of one setting (the plotted rows are part of the key)."""
        key = hashlib.sha256(
            repr(
                (_CACHE_VERSION, self._identity, method, dims, seed, _digest(rows.tobytes()))
            ).encode()
        ).hexdigest()[:20]
        return self.folder / f"{self.vectors_path.name}.{method}{dims}d.{key}.safetensors"

    def get(self, method: str, dims: int, rows: np.ndarray, seed: int = 0) -> Projection | None:
        """The stored projection, or ``None`` when there is none (or it is unreadable)."""
        path = self.path(method, dims, rows, seed)
        if not path.is_file():
            return None
        try:
            arrays, meta = load_arrays(path, what="cached projection")
        except (OSError, ModelFileError):
            return None  # a damaged cache entry is recomputed and replaced
        coords, stored_rows = arrays.get("coords"), arrays.get("rows")
        if (
            coords is None
            or stored_rows is None
            or coords.shape != (len(rows), dims)
            or not np.array_equal(stored_rows, rows)
            or not np.isfinite(coords).all()
        ):
            return None
        return Projection(
            method,
            dims,
            stored_rows,
            coords,
            float(meta.get("seconds", 0.0)),
            cached=True,
            explained=meta.get("explained"),
        )

    def put(self, projection: Projection, seed: int = 0) -> Path:
        """Store ``projection`` atomically; returns the cache file."""
        path = self.path(projection.method, projection.dims, projection.rows, seed)
        meta = {
            "vectors": str(self.vectors_path),
            "method": projection.method,
            "dims": projection.dims,
            "seed": seed,
            "seconds": projection.seconds,
            "explained": projection.explained,
        }
        save_arrays(path, {"coords": projection.coords, "rows": projection.rows}, meta)
        return path


def default_cache_folder() -> Path:
    """``$SEQLAB_CACHE/explore``, else ``~/.cache/seqlab/explore``."""
    root = os.environ.get("SEQLAB_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "seqlab") / "explore"


_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}


def _check_settings(method: str, dims: int, n: int) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown projection {method!r}: use one of {', '.join(METHODS)}")
    if dims not in (2, 3):
        raise ValueError(f"dims must be 2 or 3, got {dims}")
    if method != "pca" and n < 5:
        raise ValueError(f"{_NAMES[method]} needs at least 5 words, got {n}; use PCA")
    if method == "umap" and not umap_available():
        raise ProjectionUnavailable(
            "UMAP needs the umap-learn package, which is not installed: "
            "pip install 'seqlab[umap]' (or use PCA or t-SNE)"
        )


def _tsne(x: np.ndarray, dims: int, seed: int) -> np.ndarray:
    from sklearn.manifold import TSNE  # scikit-learn is slow to import: only when t-SNE is asked

    perplexity = min(30.0, (len(x) - 1) / 3)
    tsne = TSNE(n_components=dims, perplexity=perplexity, init="pca", random_state=seed)
    return tsne.fit_transform(x)


def _umap(x: np.ndarray, dims: int, seed: int) -> np.ndarray:
    import umap  # optional dependency (seqlab[umap]); checked by _check_settings

    neighbours = min(15, len(x) - 1)
    # n_jobs=1: a seeded UMAP is single-threaded anyway (it warns when told otherwise)
    reducer = umap.UMAP(n_components=dims, n_neighbors=neighbours, random_state=seed, n_jobs=1)
    return reducer.fit_transform(x)


def _direction(kv: KeyedVectors, start: str, end: str) -> np.ndarray:
    """Unit vector from ``start`` to ``end`` (unit vectors of both words)."""
    if start == end:
        raise ValueError(f"an axis needs two different words, got {start!r} twice")
    vectors, missing = [], []
    for word in (start, end):
        try:  # fastText vectors also answer for words outside the vocabulary
            vectors.append(kv.get_vector(word, norm=True).astype(np.float64))
        except UnknownWordError:
            missing.append(word)
    if missing:
        raise UnknownWordError(missing, len(kv))
    direction = vectors[1] - vectors[0]
    norm = np.linalg.norm(direction)
    if norm < 1e-6:
        raise ValueError(f"{start!r} and {end!r} have the same direction: no axis between them")
    return direction / norm


def _file_identity(path: Path) -> tuple:
    """What identifies the content of ``path`` cheaply: size, mtime and a hash of both ends."""
    stat = path.stat()
    with open(path, "rb") as f:
        head = f.read(_HASHED_BYTES)
        f.seek(max(0, stat.st_size - _HASHED_BYTES))
        tail = f.read(_HASHED_BYTES)
    return (str(path), stat.st_size, stat.st_mtime_ns, _digest(head + tail))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
