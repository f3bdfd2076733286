"""Text classification sets: rt_polarity, sst2, imdb (sentiment) and names (language of a name).

Every split is a ``list[tuple[str, int]]`` of ``(text, label)``; ``labels[label]`` names the class.
Splits keep the official names (SST-2's GLUE ``dev``). Sets without an official split
(``rt_polarity``, ``names``) get :func:`stratified_split`: deterministic, seeded, identical on
every machine and Python version because it orders examples by a SHA-256 key, not by a PRNG.
"""

from __future__ import annotations

import hashlib
import tarfile
from dataclasses import dataclass
from pathlib import Path

from seqlab.data import registry
from seqlab.data.errors import CorruptArchiveError
from seqlab.data.fetch import fetch, resolve
from seqlab.data.reading import read_lines

SPLIT_SEED = 0
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)

Examples = list[tuple[str, int]]


@dataclass(frozen=True)
class LabeledTexts:
    """``(text, label)`` examples in train / valid / test splits.

    Attributes
    ----------
    name : str
    labels : tuple of str
        Class names; label ``i`` is ``labels[i]``.
    train, test : list of (str, int)
    valid : list of (str, int) or None
        None when the official release has no validation split (IMDB: carve one from train).
    """

    name: str
    labels: tuple[str, ...]
    train: Examples
    valid: Examples | None
    test: Examples


@dataclass(frozen=True)
class SST2:
    """GLUE SST-2: labeled ``train`` (67,349) and ``dev`` (872); ``test`` (1,821) is unlabeled."""

    name: str
    labels: tuple[str, ...]
    train: Examples
    dev: Examples
    test: list[str]


def stratified_split(
    examples: Examples,
    seed: int = SPLIT_SEED,
    fractions: tuple[float, float, float] = SPLIT_FRACTIONS,
) -> tuple[Examples, Examples, Examples]:
    """Split into train / valid / test with the same class balance in each, deterministically.

    Within each class the examples are ordered by ``sha256(f"{seed}:{index}:{text}")``; the
    first ``round(fractions[2] * n)`` go to test, the next ``round(fractions[1] * n)`` to valid,
    the rest to train. Each split keeps the original order of its examples.

    Examples
    --------
    >>> data = [(f"text {i}", i % 2) for i in range(20)]
    >>> train, valid, test = stratified_split(data)
    >>> len(train), len(valid), len(test)
    (16, 2, 2)
    >>> stratified_split(data) == (train, valid, test)
    True
    """
    by_class: dict[int, list[int]] = {}
    for i, (_, label) in enumerate(examples):
        by_class.setdefault(label, []).append(i)
    chosen = [set(), set()]  # indices of valid, test
    for indices in by_class.values():
        keyed = sorted(
            indices,
            key=lambda i: hashlib.sha256(f"{seed}:{i}:{examples[i][0]}".encode()).digest(),
        )
        n_test = round(fractions[2] * len(indices))
        n_valid = round(fractions[1] * len(indices))
        chosen[1].update(keyed[:n_test])
        chosen[0].update(keyed[n_test : n_test + n_valid])
    train = [ex for i, ex in enumerate(examples) if i not in chosen[0] and i not in chosen[1]]
    valid = [ex for i, ex in enumerate(examples) if i in chosen[0]]
    test = [ex for i, ex in enumerate(examples) if i in chosen[1]]
    return train, valid, test


def load_rt_polarity(progress: bool = True) -> LabeledTexts:
    """Pang & Lee sentence polarity: 5,331 negative (0) + 5,331 positive (1) snippets.

    The files are Windows-1252, decoded as such. Split 80 / 10 / 10 by :func:`stratified_split`.
    """
    pos, neg = resolve(fetch("rt_polarity", progress), registry.get("rt_polarity"))
    examples = [(line, 0) for line in read_lines(neg, "cp1252")]
    examples += [(line, 1) for line in read_lines(pos, "cp1252")]
    return LabeledTexts("rt_polarity", ("negative", "positive"), *stratified_split(examples))


def load_sst2(progress: bool = True) -> SST2:
    """GLUE SST-2 (lower-cased, tokenized phrases); label 0 negative, 1 positive."""
    train, dev, test = resolve(fetch("sst2", progress), registry.get("sst2"))
    return SST2(
        "sst2",
        ("negative", "positive"),
        _sst2_labeled(train),
        _sst2_labeled(dev),
        [line.split("\t", 1)[1].strip() for line in read_lines(test)[1:]],
    )


def _sst2_labeled(path: Path) -> Examples:
    rows = (line.rsplit("\t", 1) for line in read_lines(path)[1:])  # first line is the header
    return [(text.strip(), int(label)) for text, label in rows]


def load_imdb(progress: bool = True) -> LabeledTexts:
    """IMDB reviews, read from the tar.gz without unpacking; label 0 negative, 1 positive.

    Reviews keep their raw text (including ``<br />`` tags). Within a split, examples are
    ordered by label, then by review id, whichever archive (mirror or official) is read.
    """
    (archive,) = resolve(fetch("imdb", progress), registry.get("imdb"))
    splits: dict[str, list[tuple[int, int, str]]] = {"train": [], "test": []}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                parts = member.name.split("/")  # aclImdb/<split>/<pos|neg>/<id>_<rating>.txt
                if len(parts) != 4 or parts[1] not in splits or parts[2] not in ("pos", "neg"):
                    continue
                text = tar.extractfile(member).read().decode("utf-8")
                label = int(parts[2] == "pos")
                splits[parts[1]].append((label, int(parts[3].split("_")[0]), text))
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise CorruptArchiveError(
            f"imdb: {archive} cannot be read ({exc}); delete it and run `seqlab data fetch imdb`"
        ) from None
    train, test = ([(text, label) for label, _, text in sorted(rows)] for rows in splits.values())
    return LabeledTexts("imdb", ("negative", "positive"), train, None, test)


def load_names(progress: bool = True) -> LabeledTexts:
    """Surnames labeled with one of 18 languages (alphabetical), split 80 / 10 / 10 stratified.

    Duplicates are kept, as in the tutorial (``Arabic.txt`` repeats 108 names to 2,000 lines),
    so a name can occur in both train and test.
    """
    files = resolve(fetch("names", progress), registry.get("names"))
    languages = tuple(path.stem for path in files)
    examples = [(name, i) for i, path in enumerate(files) for name in read_lines(path) if name]
    return LabeledTexts("names", languages, *stratified_split(examples))
