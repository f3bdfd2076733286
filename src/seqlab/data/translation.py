"""Sentence-pair sets for sequence-to-sequence models: multi30k (En-De) and tatoeba_eng_fra.

Every split is a ``list[tuple[str, str]]`` of ``(source, target)`` raw sentences (untokenized,
original case), English first.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from seqlab.data import registry
from seqlab.data.errors import CorruptArchiveError, DatasetError
from seqlab.data.fetch import fetch, fetch_extra, resolve
from seqlab.data.reading import read_lines

Pairs = list[tuple[str, str]]


@dataclass(frozen=True)
class Multi30k:
    """Multi30k task 1: English image descriptions and their German translations.

    ``train`` (29,000), ``val`` (1,014) and ``test_2016`` (1,000) are loaded at once. The later
    official test sets (``test_2017_flickr`` 1,000, ``test_2017_mscoco`` 461,
    ``test_2018_flickr`` 1,071) are read by :meth:`test`, which downloads them (verified) when
    neither the mirror nor the cache has them; the shared mirror withholds them on purpose.
    """

    name: str
    train: Pairs
    val: Pairs
    test_2016: Pairs
    progress: bool = True

    OFFICIAL_TESTS = (
        "test_2016_flickr",
        "test_2017_flickr",
        "test_2017_mscoco",
        "test_2018_flickr",
    )

    def test(self, which: str) -> Pairs:
        """The official test set ``which`` (one of :attr:`OFFICIAL_TESTS`)."""
        if which == "test_2016_flickr":
            return self.test_2016
        if which not in self.OFFICIAL_TESTS:
            raise DatasetError(
                f"multi30k has no test set {which!r}; choose from {self.OFFICIAL_TESTS}"
            )
        folder = fetch_extra("multi30k", which, self.progress)
        return _parallel(folder / f"task1/raw/{which}.en.gz", folder / f"task1/raw/{which}.de.gz")


@dataclass(frozen=True)
class SentencePairs:
    """All sentence pairs of a set without an official split (Tatoeba), in file order."""

    name: str
    source_lang: str
    target_lang: str
    pairs: Pairs


def load_multi30k(progress: bool = True) -> Multi30k:
    """Multi30k task 1 En-De from the published ``.gz`` files; line i of .en pairs with .de."""
    files = resolve(fetch("multi30k", progress), registry.get("multi30k"))
    train, val, test = (_parallel(files[i], files[i + 1]) for i in (0, 2, 4))
    return Multi30k("multi30k", train, val, test, progress)


def _parallel(english: Path, german: Path) -> Pairs:
    en, de = read_lines(english), read_lines(german)
    if len(en) != len(de):
        raise DatasetError(
            f"{english.name} has {len(en)} lines but {german.name} has {len(de)}; the pair is "
            "not aligned. Delete both and fetch them again (`seqlab data fetch multi30k`)."
        )
    return list(zip(en, de, strict=True))


def load_tatoeba_eng_fra(progress: bool = True) -> SentencePairs:
    """Tatoeba English-French pairs (manythings.org export of 2017-09-29), 142,787 of them."""
    (archive,) = resolve(fetch("tatoeba_eng_fra", progress), registry.get("tatoeba_eng_fra"))
    try:
        with zipfile.ZipFile(archive) as zf:
            text = io.TextIOWrapper(zf.open("fra.txt"), encoding="utf-8").read()
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise CorruptArchiveError(
            f"tatoeba_eng_fra: {archive} cannot be read ({exc}); delete it and run "
            "`seqlab data fetch tatoeba_eng_fra`"
        ) from None
    # Later exports add a third, attribution column: keep the first two fields only.
    pairs = [tuple(line.split("\t")[:2]) for line in text.split("\n") if line]
    return SentencePairs("tatoeba_eng_fra", "en", "fr", pairs)
