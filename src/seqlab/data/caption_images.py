"""Flickr8k's pictures: found, verified and read from the official archive or a folder.

The captions are a registered dataset (`seqlab.data.captions`); the 8,091 pictures are not
redistributable here and are fetched by the user. The data layer knows the archive:

- ``Flickr8k_Dataset.zip`` (about 1 GB), from the authors' request form `REQUEST_PAGE` or the
  widely used copy `ARCHIVE_URL`; its pictures sit in ``Flicker8k_Dataset/`` (sic) as
  ``<image id>`` files such as ``1000268201_693b08cb0e.jpg``. No checksum of the archive is
  published, so it is verified by content instead: every picture a split needs must be in it
  (`Flickr8kImages.check`), and each member's CRC-32 is checked by ``zipfile`` as it is read.
- It is looked for, in order: the path the user gives (``--images``: the zip, or a folder
  holding the ``.jpg`` files, unpacked or not), ``$SEQLAB_DATA/flickr8k/``, then
  ``$SEQLAB_CACHE/flickr8k/`` (default ``~/.cache/seqlab/flickr8k/``). Without it,
  `ImagesNotFoundError` says what to fetch and where to put it.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from seqlab.data.captions import Captions
from seqlab.data.errors import DatasetNotFoundError
from seqlab.data.fetch import cache_dir, mirror_root
from seqlab.data.images import read_image

ARCHIVE = "Flickr8k_Dataset.zip"
ARCHIVE_URL = (
    "https://github.com/jbrownlee/Datasets/releases/download/Flickr8k/Flickr8k_Dataset.zip"
)
REQUEST_PAGE = "https://hockenmaier.cs.illinois.edu/8k-pictures.html"
#: the folder inside the archive, with the archive's own spelling, and the corrected one
FOLDERS = ("Flicker8k_Dataset", "Flickr8k_Dataset")


class ImagesNotFoundError(DatasetNotFoundError):
    """Flickr8k's pictures are not where seqlab looks; the message says what to fetch."""


def candidates() -> list[Path]:
    """Where the archive or its unpacked folder is looked for when no path is given."""
    roots = [cache_dir("flickr8k")]
    mirror = mirror_root()
    if mirror is not None:
        roots.insert(0, mirror / "flickr8k")
    return [root / name for root in roots for name in (ARCHIVE, *FOLDERS)]


def not_found_message(tried: list[Path]) -> str:
    return (
        "Flickr8k's pictures are not here (looked at "
        + ", ".join(str(p) for p in tried)
        + f"). Fetch {ARCHIVE} (about 1 GB) from {ARCHIVE_URL} (or request it from the authors: "
        f"{REQUEST_PAGE}) and put it in {cache_dir('flickr8k')}/, or give its path, or a "
        "folder of the .jpg files, with --images"
    )


class Flickr8kImages:
    """The pictures in a ``Flickr8k_Dataset.zip`` or a folder, by image id.

    Examples
    --------
    >>> import tempfile, zipfile
    >>> from PIL import Image
    >>> folder = Path(tempfile.mkdtemp())
    >>> Image.new("RGB", (50, 40), (200, 10, 10)).save(folder / "x.jpg")
    >>> with zipfile.ZipFile(folder / ARCHIVE, "w") as z:
    ...     z.write(folder / "x.jpg", "Flicker8k_Dataset/1_a.jpg")
    >>> images = Flickr8kImages(folder / ARCHIVE)
    >>> images.missing(["1_a.jpg", "2_b.jpg"]), images.read("1_a.jpg", side=4).shape
    (['2_b.jpg'], (4, 4, 3))
    """

    def __init__(self, source: str | os.PathLike):
        self.source = Path(source)
        self._zip: zipfile.ZipFile | None = None
        if self.source.is_file():
            try:
                self._zip = zipfile.ZipFile(self.source)
            except (zipfile.BadZipFile, OSError) as e:
                raise ImagesNotFoundError(
                    f"{self.source} is not a readable zip archive ({e}): the download was cut "
                    f"off or is another file; fetch {ARCHIVE} again from {ARCHIVE_URL}"
                ) from None
            self._members = {}
            for member in self._zip.namelist():
                if not member.endswith("/") and "__MACOSX" not in member:
                    self._members.setdefault(member.rsplit("/", 1)[-1], member)
        elif self.source.is_dir():
            folder = next((self.source / f for f in FOLDERS if (self.source / f).is_dir()), None)
            self._folder = folder or self.source
            self._members = {p.name: p for p in self._folder.iterdir() if p.is_file()}
        else:
            raise ImagesNotFoundError(not_found_message([self.source]))

    @classmethod
    def locate(cls, path: str | os.PathLike | None = None) -> Flickr8kImages:
        """The pictures at ``path``, or at the first of `candidates` that exists."""
        if path is not None:
            return cls(path)
        tried = candidates()
        for place in tried:
            if place.exists():
                return cls(place)
        raise ImagesNotFoundError(not_found_message(tried))

    def missing(self, ids) -> list[str]:
        """The image ids of ``ids`` that are not in the archive or folder."""
        return [i for i in ids if i not in self._members]

    def check(self, ids) -> None:
        """`ImagesNotFoundError` unless every picture of ``ids`` is there."""
        absent = self.missing(ids)
        if absent:
            raise ImagesNotFoundError(
                f"{self.source} lacks {len(absent):,} of the {len(ids):,} pictures needed (e.g. "
                f"{', '.join(absent[:3])}): it is not the complete {ARCHIVE}; fetch it again "
                f"from {ARCHIVE_URL}"
            )

    def read(self, image_id: str, side: int) -> np.ndarray:
        """One picture as ``(side, side, 3)`` uint8 (`seqlab.data.images.read_image`)."""
        if image_id not in self._members:
            self.check([image_id])
        if self._zip is not None:
            try:
                blob = self._zip.read(self._members[image_id])
            except (zipfile.BadZipFile, OSError) as e:  # a CRC mismatch is a BadZipFile
                raise ImagesNotFoundError(
                    f"{self.source}: {image_id} is damaged ({e}); fetch {ARCHIVE} again"
                ) from None
            return read_image(blob, side, name=f"{self.source}:{image_id}")
        return read_image(self._members[image_id], side)


def load_split(
    captions: Captions, split: str, side: int, images: Flickr8kImages, limit: int | None = None
) -> tuple[np.ndarray, list[list[str]], list[str]]:
    """``(pictures (N, side, side, 3), captions per picture, image ids)`` of a split.

    ``limit`` keeps the first N image ids of the split (a quick run). Every picture is
    checked to be there before any is decoded.
    """
    ids = {"train": captions.train, "dev": captions.dev, "valid": captions.dev}.get(split)
    ids = captions.test if split == "test" else ids
    if ids is None:
        raise ValueError(f"unknown split {split!r}: train, dev (valid) or test")
    ids = [i for i in ids if captions.captions.get(i)][:limit]
    images.check(ids)
    pictures = (
        np.stack([images.read(i, side) for i in ids])
        if ids
        else np.zeros((0, side, side, 3), np.uint8)
    )
    return pictures, [captions.captions[i] for i in ids], ids
