"""Verified downloads: stream to a temporary file, hash on the way, keep it only if it matches.

Written on ``urllib`` + ``hashlib`` rather than pooch because the guarantees needed here are
narrow and testable: a file that is cut off (fewer bytes than ``Content-Length``), fails its
checksum, or is a corrupt archive never appears under its final name, and several URLs can be
concatenated into one verified file. ``pooch`` would still leave the concatenation and the
per-member verification of archives to us.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from seqlab.data.errors import (
    ChecksumError,
    CorruptArchiveError,
    DatasetNotFoundError,
    IncompleteDownloadError,
)
from seqlab.data.spec import Checksum, Member, RemoteArchive, RemoteFile
from seqlab.io import atomic_write

CHUNK = 1 << 20
TIMEOUT_S = 30
USER_AGENT = "seqlab-data/0.1 (+https://github.com/seqlab)"


def fetch_remote(remote: RemoteFile | RemoteArchive, folder: Path, dataset: str, progress: bool):
    """Download ``remote`` into ``folder`` (its targets appear there only once verified)."""
    if isinstance(remote, RemoteFile):
        download(remote.urls, folder / remote.target, remote.checksum, dataset, progress)
        return
    with _temporary(folder, Path(remote.url).name) as archive:
        download((remote.url,), archive, remote.checksum, dataset, progress)
        extract(archive, remote.members, folder, remote.url)


def download(
    urls: tuple[str, ...],
    target: Path,
    checksum: str | None,
    dataset: str,
    progress: bool = True,
) -> Path:
    """Fetch ``urls`` (concatenated) into ``target``, verifying length and ``checksum``.

    Raises
    ------
    DatasetNotFoundError
        A URL cannot be reached (offline, HTTP error).
    IncompleteDownloadError
        The connection closed before ``Content-Length`` bytes arrived.
    ChecksumError
        The bytes do not hash to ``checksum``.

    In every error case nothing is left at ``target`` nor beside it.
    """
    expected = Checksum.parse(checksum) if checksum else None
    digest = expected.hasher() if expected else None
    with atomic_write(target, "wb") as out:
        for url in _progress_over(urls, dataset, progress):
            _stream(url, out, digest, dataset, progress and len(urls) == 1)
        if expected and digest.hexdigest() != expected.hexdigest:
            raise ChecksumError(
                f"{dataset}: {urls[0]} downloaded, but its {expected.algorithm} is "
                f"{digest.hexdigest()}, expected {expected.hexdigest}; the file was discarded. "
                "The server may have changed the file or the transfer was corrupted: retry "
                f"`seqlab data fetch {dataset}`, or place a verified copy under "
                f"$SEQLAB_DATA/{dataset}/."
            )
    return target


def _progress_over(urls: tuple[str, ...], dataset: str, progress: bool):
    """A bar over the URLs of a concatenated file (one bar per URL would scroll 100 lines)."""
    if len(urls) == 1 or not progress:
        return urls
    return tqdm(urls, unit="file", desc=dataset, file=sys.stderr, leave=False)


def _stream(url, out, digest, dataset: str, progress: bool) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DatasetNotFoundError(
            f"dataset {dataset!r} is not available locally and {url} could not be fetched "
            f"({reason}). Fix: connect to the internet and run `seqlab data fetch {dataset}`, "
            f"or set SEQLAB_DATA to a local mirror that holds {dataset}/ "
            "(laid out like ../shared/data)."
        ) from None
    with response:
        announced = response.headers.get("Content-Length")
        total = int(announced) if announced is not None else None
        received = 0
        bar = tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=f"{dataset}: {Path(url).name}",
            disable=not progress,
            file=sys.stderr,
            leave=False,
        )
        with bar:
            while True:
                try:
                    chunk = response.read(CHUNK)
                except (OSError, ValueError) as exc:  # http.client.IncompleteRead is an OSError
                    raise IncompleteDownloadError(
                        f"{dataset}: the download of {url} broke off after {received:,} bytes "
                        f"({exc}); nothing was kept. Retry `seqlab data fetch {dataset}`."
                    ) from None
                if not chunk:
                    break
                out.write(chunk)
                if digest is not None:
                    digest.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    # urllib returns b"" at a premature end of stream instead of raising: compare lengths.
    if total is not None and received != total:
        raise IncompleteDownloadError(
            f"{dataset}: the download of {url} stopped at {received:,} of {total:,} bytes; "
            f"nothing was kept. Retry `seqlab data fetch {dataset}`."
        )


def extract(archive: Path, members: tuple[Member, ...], folder: Path, url: str) -> None:
    """Copy ``members`` of a zip or tar(.gz) into ``folder``, each verified against its checksum.

    Members are first written to a staging folder and moved into place only when all of them
    are verified, so a failure leaves ``folder`` as it was.
    """
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=folder))
    try:
        with _open_archive(archive, url) as entries:
            found = dict(entries)
            for member in members:
                source = _match(found, member.name)
                if source is None:
                    raise CorruptArchiveError(
                        f"{url}: the archive has no member {member.name!r} "
                        f"(members: {', '.join(sorted(found)[:10])} ...). The file may have "
                        "changed upstream; place a verified copy under $SEQLAB_DATA."
                    )
                _copy_verified(found[source], staging / member.target, member.checksum, url)
        for member in members:
            (folder / member.target).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / member.target, folder / member.target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _match(names: dict, wanted: str) -> str | None:
    """The member whose path is ``wanted`` or ends with ``/wanted`` (archives nest differently)."""
    for name in names:
        if "__MACOSX" in name:
            continue
        if name == wanted or name.endswith("/" + wanted):
            return name
    return None


def _copy_verified(opener, target: Path, checksum: str, url: str) -> None:
    expected = Checksum.parse(checksum)
    digest = expected.hasher()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with opener() as src, open(target, "wb") as out:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise CorruptArchiveError(
            f"{url}: member {target.name} cannot be read ({exc}); the archive is corrupt. "
            "Retry the download."
        ) from None
    if digest.hexdigest() != expected.hexdigest:
        raise ChecksumError(
            f"{url}: member {target.name} has {expected.algorithm} {digest.hexdigest()}, "
            f"expected {expected.hexdigest}; nothing was kept."
        )


@contextlib.contextmanager
def _open_archive(path: Path, url: str) -> Iterator[list[tuple[str, object]]]:
    """Yield ``(member name, opener)`` pairs of a zip or tar archive."""
    try:
        if url.endswith(".zip"):
            with zipfile.ZipFile(path) as zf:
                yield [(n, lambda n=n: zf.open(n)) for n in zf.namelist() if not n.endswith("/")]
            return
        mode = "r:gz" if url.endswith((".tar.gz", ".tgz")) else "r:*"
        with tarfile.open(path, mode) as tf:
            files = [m for m in tf.getmembers() if m.isfile()]
            yield [(m.name, lambda m=m: tf.extractfile(m)) for m in files]
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CorruptArchiveError(
            f"{url}: the downloaded archive cannot be read ({reason}); it is corrupt or not an "
            "archive. Retry the download, or place a verified copy under $SEQLAB_DATA."
        ) from None


@contextlib.contextmanager
def _temporary(folder: Path, name: str) -> Iterator[Path]:
    """A path for a scratch file in ``folder`` (same filesystem), removed afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    os.close(fd)
    try:
        yield Path(tmp)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
