"""What the registry knows about a dataset: where it comes from, what it must hash to, its terms.

A dataset lives in a folder named after it, laid out like the shared mirror
(``$SEQLAB_DATA/<name>/...``). ``DatasetSpec.files`` lists the files the loader needs in that
layout; ``DatasetSpec.remote`` says how to obtain them from the official (or pinned) URLs: a plain
file, the concatenation of several URLs, or members of an archive. Every remote file carries a
checksum, so a download is either verified byte-for-byte or rejected.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

HASH_ALGORITHMS = ("sha256", "sha1", "md5")


@dataclass(frozen=True)
class Checksum:
    """A digest written ``"<algorithm>:<hex>"`` (the pooch convention), e.g. ``"sha1:0dc3..."``.

    Examples
    --------
    >>> c = Checksum.parse("sha256:" + "0" * 64)
    >>> c.algorithm, len(c.hexdigest)
    ('sha256', 64)
    """

    algorithm: str
    hexdigest: str

    @classmethod
    def parse(cls, text: str) -> Checksum:
        algorithm, _, hexdigest = text.partition(":")
        if algorithm not in HASH_ALGORITHMS or not hexdigest:
            raise ValueError(f"checksum {text!r}: write it as '<sha256|sha1|md5>:<hex digest>'")
        return cls(algorithm, hexdigest.lower())

    def hasher(self):
        """A fresh ``hashlib`` object of this algorithm."""
        return hashlib.new(self.algorithm)

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hexdigest}"


@dataclass(frozen=True)
class RemoteFile:
    """A file stored as downloaded; several URLs are concatenated in order (WikiExtractor parts).

    ``target`` is the path inside the dataset folder; ``checksum`` covers the stored bytes.
    """

    urls: tuple[str, ...]
    target: str
    checksum: str

    @property
    def url(self) -> str:
        """The URL shown to users (the first one when the file is a concatenation)."""
        return self.urls[0] if len(self.urls) == 1 else f"{self.urls[0]} (+{len(self.urls) - 1})"

    @property
    def targets(self) -> tuple[str, ...]:
        return (self.target,)


@dataclass(frozen=True)
class Member:
    """One file taken out of an archive: ``name`` is matched against the end of member paths."""

    name: str
    target: str
    checksum: str


@dataclass(frozen=True)
class RemoteArchive:
    """A zip or tar(.gz) archive whose ``members`` are extracted and verified one by one.

    ``checksum`` of the archive itself is optional: many official archives have no published
    digest, while the members' digests are known (they equal the mirror's files).
    """

    url: str
    members: tuple[Member, ...]
    checksum: str | None = None

    @property
    def urls(self) -> tuple[str, ...]:
        return (self.url,)

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(m.target for m in self.members)


Remote = RemoteFile | RemoteArchive


@dataclass(frozen=True)
class DatasetSpec:
    """A registry entry.

    Parameters
    ----------
    name, task, description
        Identity and a one-line summary (``seqlab data list``).
    size
        Official size in words the user knows it by ("67,349 / 872 sentences").
    license, source
        Terms as stated by the authors, and the page of the official release.
    files
        Paths (inside the dataset folder) that make the dataset usable when all exist.
    remote
        How to obtain the dataset online; its targets also count as "present" in the cache.
        Targets are listed in the order of ``files``: where a download is stored under another
        name (``.txt`` for the mirror's ``.txt.gz``), the loader takes the target in the same
        position.
    extras
        Split name -> remote files fetched only when that split is asked for (multi30k's 2017 and
        2018 test sets, which the mirror withholds).
    derived_from
        For datasets built locally from another one (wiki_text8 from enwiki_extract).
    """

    name: str
    task: str
    description: str
    size: str
    license: str
    source: str
    files: tuple[str, ...] = ()
    remote: tuple[Remote, ...] = ()
    extras: dict[str, tuple[Remote, ...]] = field(default_factory=dict)
    derived_from: str | None = None

    @property
    def urls(self) -> tuple[str, ...]:
        """Every official URL of the required files, for error messages and ``data info``."""
        return tuple(r.url for r in self.remote)
