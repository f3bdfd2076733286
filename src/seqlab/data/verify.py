"""Checking a dataset's local files before a loader reads them.

A mirror file cut short while copying (``ptb.train.txt`` at 100 KB instead of 5 MB) would
otherwise be read without a word, and every figure computed from it would be wrong. So each use
of a dataset first compares the size of every file with the registered size (one ``stat`` per
file), and each file version is hashed once against its registered digest: the result is
remembered in ``<cache>/verified.json`` under the file's path, size and modification time, so
a file is hashed again only when it changes.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from seqlab.data.errors import CorruptFileError
from seqlab.data.manifest import FILE_SIZES, MIRROR_CHECKSUMS
from seqlab.data.spec import Checksum, DatasetSpec
from seqlab.io import atomic_write

_RECORD = "verified.json"
_BLOCK = 1 << 20


def expected(name: str, spec: DatasetSpec, relative: str) -> tuple[int | None, str | None]:
    """The registered size and digest of file ``relative`` of dataset ``name`` (None: unknown)."""
    size = FILE_SIZES.get(name, {}).get(relative)
    checksum = MIRROR_CHECKSUMS.get(name, {}).get(relative)
    if checksum is None:
        remotes = [*spec.remote, *(r for extra in spec.extras.values() for r in extra)]
        for remote in remotes:
            for member in getattr(remote, "members", None) or (remote,):
                if member.target == relative:
                    checksum = member.checksum
    return size, checksum


def verify_files(
    name: str, spec: DatasetSpec, folder: Path, files: list[Path], fix: str, cache: Path
) -> None:
    """Check ``files`` (inside ``folder``) against the registry; :class:`CorruptFileError`
    names the first wrong file, what is wrong and ``fix``.

    ``cache`` is the folder of the record of files already hashed.
    """
    record_path = cache / _RECORD
    record = _read_record(record_path)
    changed = False
    for path in files:
        if not path.is_file():
            continue  # absence is the caller's business (it reports missing datasets)
        relative = path.relative_to(folder).as_posix()
        size, checksum = expected(name, spec, relative)
        stat = path.stat()
        if size is not None and stat.st_size != size:
            raise CorruptFileError(
                f"{path}: {stat.st_size:,} bytes, but {name}'s {relative} has {size:,} bytes: "
                f"the file was cut short or replaced. {fix}"
            )
        if checksum is None:
            continue
        key = str(path.resolve())
        seen = [stat.st_size, stat.st_mtime_ns, checksum]
        if record.get(key) == seen:
            continue
        wanted = Checksum.parse(checksum)
        digest = _hash(path, wanted)
        if digest != wanted.hexdigest:
            raise CorruptFileError(
                f"{path}: its {wanted.algorithm} is {digest}, but {name}'s {relative} has "
                f"{wanted.hexdigest}: the file is damaged or another version. {fix}"
            )
        record[key] = seen
        changed = True
    if changed:
        # An unwritable cache only costs a hash next time.
        with contextlib.suppress(OSError), atomic_write(record_path, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=0)


def wrong_sizes(name: str, folder: Path, files: list[Path]) -> list[str]:
    """The files (inside ``folder``) whose size differs from the registered one: a ``stat``
    each, cheap enough for ``seqlab data list`` to flag damaged datasets."""
    sizes = FILE_SIZES.get(name, {})
    wrong = []
    for path in files:
        size = sizes.get(path.relative_to(folder).as_posix())
        if size is not None and path.is_file() and path.stat().st_size != size:
            wrong.append(path.relative_to(folder).as_posix())
    return wrong


def _hash(path: Path, checksum: Checksum) -> str:
    digest = checksum.hasher()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _read_record(path: Path) -> dict:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no record yet, or a damaged one: hash again
    return record if isinstance(record, dict) else {}


def mirror_problem(root: Path | None) -> str | None:
    """Why ``$SEQLAB_DATA`` cannot be used (it does not exist, is a file), or None."""
    if root is None or root.is_dir():
        return None
    what = "is not a folder" if root.exists() else "does not exist"
    return (
        f"SEQLAB_DATA={os.fspath(root)} {what}: no dataset can be found there. Set it to the "
        "mirror's folder (laid out like ../shared/data), or unset it to use the cache and "
        "downloads only"
    )
