"""Where a dataset is found: the local mirror, then the user cache, then a verified download.

1. ``$SEQLAB_DATA/<name>/``: a read-only mirror laid out like ``../shared/data``.
2. ``$SEQLAB_CACHE/<name>/`` (default ``~/.cache/seqlab/<name>/``): downloads and derived files.
3. The official URLs of the registry, downloaded into the cache with a progress bar and checked
   against the registered checksums (:mod:`seqlab.data.download`).

Offline with nothing found, :class:`~seqlab.data.errors.DatasetNotFoundError` names the dataset,
the URL to fetch and the ``SEQLAB_DATA`` option. Local files are checked before use
(:mod:`seqlab.data.verify`): a file of the wrong size or checksum raises
:class:`~seqlab.data.errors.CorruptFileError` naming it and the fix.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

from seqlab.data import registry, text8
from seqlab.data.download import fetch_remote
from seqlab.data.errors import DatasetError, DatasetNotFoundError
from seqlab.data.spec import DatasetSpec
from seqlab.data.verify import mirror_problem, verify_files, wrong_sizes
from seqlab.io import check_writable


def mirror_root() -> Path | None:
    """``$SEQLAB_DATA`` as a Path, or None when unset."""
    root = os.environ.get("SEQLAB_DATA")
    return Path(root).expanduser() if root else None


def mirror_warning() -> str | None:
    """Why ``$SEQLAB_DATA`` is set but unusable (missing folder, a file), or None."""
    return mirror_problem(mirror_root())


def cache_root() -> Path:
    """``$SEQLAB_CACHE``, else ``~/.cache/seqlab``: where downloads and derived files go."""
    root = os.environ.get("SEQLAB_CACHE")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "seqlab"


def cache_dir(name: str) -> Path:
    """The cache folder of dataset ``name`` (it may not exist yet)."""
    return cache_root() / name


def is_present(folder: Path, spec: DatasetSpec) -> bool:
    """True when ``folder`` holds all of ``spec.files`` or all targets of ``spec.remote``."""
    if not folder.is_dir():
        return False
    if spec.files and all((folder / f).is_file() for f in spec.files):
        return True
    targets = [t for r in spec.remote for t in r.targets]
    return bool(targets) and all((folder / t).is_file() for t in targets)


def resolve(folder: Path, spec: DatasetSpec) -> list[Path]:
    """``spec.files`` inside ``folder``; a file absent under its mirror name is replaced by the
    downloaded file in the same position of ``spec.remote`` (e.g. ``.txt.gz`` -> ``.txt``)."""
    targets = [t for r in spec.remote for t in r.targets]
    paths = []
    for i, name in enumerate(spec.files):
        path = folder / name
        if not path.is_file() and i < len(targets):
            path = folder / targets[i]
        paths.append(path)
    return paths


def where(name: str) -> str:
    """``"mirror"``, ``"cache"`` or ``"missing"``: where :func:`locate` would find ``name``."""
    spec = registry.get(name)
    mirror = mirror_root()
    if mirror is not None and is_present(mirror / name, spec):
        return "mirror"
    if is_present(cache_dir(name), spec):
        return "cache"
    return "missing"


def locate(name: str) -> Path | None:
    """The folder holding dataset ``name`` locally, or None. Never downloads."""
    found = where(name)
    if found == "mirror":
        return mirror_root() / name
    if found == "cache":
        return cache_dir(name)
    return None


def fetch(name: str, progress: bool = True) -> Path:
    """The folder of dataset ``name``, downloading (or building) it into the cache if needed.

    Examples
    --------
    >>> fetch("ptb")  # doctest: +SKIP
    PosixPath('/work/shared/data/ptb')
    """
    spec = registry.get(name)
    problem = mirror_warning()
    if problem is not None:
        warnings.warn(problem, stacklevel=2)
    folder = locate(name)
    if folder is not None and _stale_build(name, spec, folder):
        folder = None  # built again below
    if folder is not None:
        verify(name, folder)
        return folder
    try:
        return _obtain(name, spec, progress)
    except DatasetNotFoundError as e:
        if problem is None:
            raise
        raise DatasetNotFoundError(f"{e} Note: {problem}.") from None


def verify(name: str, folder: Path) -> None:
    """Check the files of ``name`` in ``folder`` (mirror or cache) against the registry.

    Sizes every time, digests once per file version (:mod:`seqlab.data.verify`); a wrong file
    raises :class:`~seqlab.data.errors.CorruptFileError` with the fix for where it lies.
    """
    verify_files(
        name,
        registry.get(name),
        folder,
        _local_files(name, folder),
        _fix(name, folder),
        cache_root(),
    )


def damaged(name: str) -> list[str]:
    """Files of the local copy of ``name`` whose size is wrong (empty when fine or not local)."""
    folder = locate(name)
    return [] if folder is None else wrong_sizes(name, folder, _local_files(name, folder))


def _local_files(name: str, folder: Path) -> list[Path]:
    """The files of ``name`` that a loader may read in ``folder``: mirror names, download names."""
    spec = registry.get(name)
    files = resolve(folder, spec)
    return files + [folder / t for r in spec.remote for t in r.targets if folder / t not in files]


def _fix(name: str, folder: Path, command: str = "") -> str:
    """What to do about a wrong file in ``folder``: the mirror is restored, the cache refetched."""
    fetch_command = f"`seqlab data fetch {name}{command}`"
    mirror = mirror_root()
    if mirror is not None and folder == mirror / name:
        return (
            f"Fix: restore it in the mirror (SEQLAB_DATA={mirror}) from a good copy, or unset "
            f"SEQLAB_DATA to use a verified download ({fetch_command})"
        )
    return f"Fix: delete it and run {fetch_command} to download a verified copy"


def _obtain(name: str, spec: DatasetSpec, progress: bool) -> Path:
    """Build or download ``name`` into the cache (it is not local)."""
    try:
        check_writable(cache_dir(name), folder=True)
    except OSError as e:
        raise DatasetNotFoundError(
            f"dataset {name!r} is not local and cannot be stored in the cache: {e}. Set "
            "SEQLAB_CACHE to a folder you can write to, or SEQLAB_DATA to a mirror that holds "
            f"{name}/"
        ) from None
    if spec.derived_from is not None:
        return _build_derived(name, spec, progress)
    if not spec.remote:
        raise DatasetNotFoundError(
            f"dataset {name!r} has no download URL and is not in the mirror or the cache; "
            f"set SEQLAB_DATA to a mirror that holds {name}/."
        )
    folder = cache_dir(name)
    with _tidy(folder):
        for remote in spec.remote:
            if not all((folder / t).is_file() for t in remote.targets):
                fetch_remote(remote, folder, name, progress)
    return folder


def _build_derived(name: str, spec: DatasetSpec, progress: bool) -> Path:
    """Build the derived dataset ``name`` (wiki_text8) into the cache from its source dataset.

    This is the one place a derived dataset is made: loaders reach it through :func:`fetch`.
    """
    parts = resolve(fetch(spec.derived_from, progress), registry.get(spec.derived_from))
    return text8.build(cache_dir(name), parts, progress).parent


def _stale_build(name: str, spec: DatasetSpec, folder: Path) -> bool:
    """Whether ``folder`` is this cache's build of a derived dataset that no longer checks out.

    A stale or foreign copy in the cache is built again rather than reported; a copy in the
    mirror belongs to the user and is not replaced.
    """
    if spec.derived_from is None or folder != cache_dir(name):
        return False
    try:
        text8.verify(folder / text8.TARGET, registry.WIKI_TEXT8_SHA256)
    except DatasetError:
        return True
    return False


def fetch_extra(name: str, split: str, progress: bool = True) -> Path:
    """The folder holding the on-demand split ``split`` of ``name`` (e.g. multi30k 2017 tests)."""
    spec = registry.get(name)
    if split not in spec.extras:
        raise DatasetNotFoundError(f"{name} has no on-demand split {split!r}")
    remotes = spec.extras[split]
    candidates = [mirror_root() / name] if mirror_root() is not None else []
    candidates.append(cache_dir(name))
    for folder in candidates:
        targets = [folder / t for r in remotes for t in r.targets]
        if all(t.is_file() for t in targets):
            fix = _fix(name, folder, " --extras")
            verify_files(name, spec, folder, targets, fix, cache_root())
            return folder
    folder = cache_dir(name)
    with _tidy(folder):
        for remote in remotes:
            fetch_remote(remote, folder, name, progress)
    return folder


@contextlib.contextmanager
def _tidy(folder: Path) -> Iterator[None]:
    """On failure, remove ``folder`` again if this fetch created it and it stayed empty."""
    existed = folder.exists()
    try:
        yield
    except BaseException:
        if not existed:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only succeeds when empty: verified files are never removed
        raise
