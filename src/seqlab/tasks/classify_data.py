"""Labeled texts for classification: the four public sets with their splits, or TSV files.

Every source ends as a `ClassificationData`: class names and ``(text, label)`` train / valid /
test splits, where valid is what defaults and early stopping are chosen on and test is read
once. Splits that the releases lack are carved deterministically (SHA-256 keyed, as
`seqlab.data.classification.stratified_split`):

- ``rt_polarity`` (MR): the loader's seeded 80 / 10 / 10 split;
- ``sst2``: GLUE dev (872 whole sentences) is the test set, as the GLUE test labels are hidden.
  GLUE train is not a list of sentences but every labelled phrase of SST's parse trees, so a
  random share of it would be validated on fragments of sentences whose other fragments are
  trained on. `carve_sentences` instead sets aside whole sentences (the phrases no other phrase
  contains) and drops the phrases found only inside them from training, as dev is built;
- ``imdb``: the official 25k test; 10 % of the 25k train is carved out as valid;
- ``names``: 2,059 lines repeat and 469 names belong to more than one language; the exact
  repeats are dropped and a name's lines all go to one split, so that no test name occurs in
  training (a name listed under two languages stays in test twice: it cannot be right twice).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from seqlab import data
from seqlab.data.classification import SPLIT_SEED, stratified_split
from seqlab.text import CharTokenizer, WordTokenizer

DATASETS = ("rt_polarity", "sst2", "imdb", "names")
ALIASES = {"mr": "rt_polarity", "sst-2": "sst2"}
#: Share of the training set carved out as validation where the release has no validation set.
CARVED_VALID = {"sst2": 0.10, "imdb": 0.10}

Examples = list[tuple[str, int]]


class DataFileError(ValueError):
    """A TSV file of labeled texts cannot be used; the message names the line and the fix."""


@dataclass(frozen=True)
class ClassificationData:
    """Class names and ``(text, label)`` splits; ``level`` says words or characters."""

    name: str
    labels: tuple[str, ...]
    train: Examples
    valid: Examples
    test: Examples | None
    level: str = "word"
    source: dict | None = None


class Tokenizer:
    """Text -> tokens for a classifier: words or characters, markup removed, maybe lowercased.

    Parameters
    ----------
    level : {"word", "char"}
    lowercase : bool
    strip_markup : bool
        Replace HTML tags (IMDB's ``<br />``) by a space first.

    Examples
    --------
    >>> Tokenizer("word", lowercase=True)("Great film.<br /><br />Loved it")
    ['great', 'film', '.', 'loved', 'it']
    >>> Tokenizer("char", lowercase=False)("Abe")
    ['A', 'b', 'e']
    """

    _TAG = re.compile(r"<[^>]{0,40}>")

    def __init__(self, level: str = "word", lowercase: bool = True, strip_markup: bool = True):
        if level not in ("word", "char"):
            raise ValueError(f'level must be "word" or "char", got {level!r}')
        self.level, self.lowercase, self.strip_markup = level, lowercase, strip_markup
        self._split = (WordTokenizer if level == "word" else CharTokenizer)(lowercase=lowercase)

    def __call__(self, text: str) -> list[str]:
        if self.strip_markup:
            text = self._TAG.sub(" ", text)
        if self.level == "char":
            text = text.strip()
        return self._split(text)

    def to_dict(self) -> dict:
        return {"level": self.level, "lowercase": self.lowercase, "strip_markup": self.strip_markup}


def default_tokenizer(name: str) -> Tokenizer:
    """Words, lowercased, markup stripped for sentiment sets; characters as written for names."""
    if name == "names":
        return Tokenizer("char", lowercase=False, strip_markup=False)
    return Tokenizer("word", lowercase=True, strip_markup=True)


def load(name: str, progress: bool = False) -> ClassificationData:
    """One of `DATASETS` (or the alias ``mr``) with the splits described in the module doc."""
    name = ALIASES.get(name.lower(), name.lower())
    source = {"dataset": name}
    if name == "rt_polarity":
        ds = data.load("rt_polarity", progress=progress)
        return ClassificationData(name, ds.labels, ds.train, ds.valid, ds.test, source=source)
    if name == "sst2":
        ds = data.load("sst2", progress=progress)
        train, valid = carve_sentences(ds.train, CARVED_VALID[name])
        return ClassificationData(name, ds.labels, train, valid, ds.dev, source=source)
    if name == "imdb":
        ds = data.load("imdb", progress=progress)
        train, valid = carve(ds.train, CARVED_VALID[name])
        return ClassificationData(name, ds.labels, train, valid, ds.test, source=source)
    if name == "names":
        ds = data.load("names", progress=progress)
        train, valid, test = split_by_text(ds.train + ds.valid + ds.test)
        return ClassificationData(name, ds.labels, train, valid, test, "char", source)
    raise ValueError(
        f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)} (or mr), or give "
        "--train-file/--valid-file TSV files"
    )


def carve(examples: Examples, fraction: float) -> tuple[Examples, Examples]:
    """``(rest, valid)``: a stratified, seeded ``fraction`` of ``examples`` set aside."""
    rest, valid, _ = stratified_split(examples, fractions=(1 - fraction, fraction, 0.0))
    return rest, valid


def _spans(words: list[str]):
    """Every contiguous run of ``words``, joined by single spaces."""
    for start in range(len(words)):
        for end in range(start + 1, len(words) + 1):
            yield " ".join(words[start:end])


def whole_sentences(phrases: Examples) -> list[int]:
    """Indices, in order, of the phrases that no other phrase contains as a run of whole tokens:
    the sentences of a list of parse-tree phrases (SST); a repeated sentence counts once.

    Examples
    --------
    >>> whole_sentences([("a good film", 1), ("good film", 1), ("bad", 0),
    ...                  ("a dull , bad film", 0)])
    [0, 3]
    """
    texts = [" ".join(text.split()) for text, _ in phrases]
    # longest first: a phrase inside an earlier sentence is not one; a phrase inside a
    # non-sentence is inside the sentence containing that one, whose runs are all recorded
    inside: set[str] = set()
    sentences = []
    for i in sorted(range(len(texts)), key=lambda i: -len(texts[i].split())):
        if texts[i] not in inside:
            sentences.append(i)
            inside.update(_spans(texts[i].split()))
    return sorted(sentences)


def carve_sentences(
    phrases: Examples, fraction: float, seed: int = SPLIT_SEED
) -> tuple[Examples, Examples]:
    """``(train, valid)`` from phrases of parse trees (SST): valid holds whole sentences only.

    A phrase that no other phrase contains (as a run of whole tokens) is a sentence; a stratified,
    SHA-256 keyed ``fraction`` of the sentences becomes ``valid`` (another ``seed``: another
    share, for comparing settings on more sentences than one carve holds). Train keeps every
    phrase that also occurs inside a sentence left for training, and drops those found only
    inside validation sentences: their labels would tell the model the parts of a validation
    sentence.
    A phrase such as "good" that occurs in both keeps its place in training, as it does for a
    test sentence, whose words are labelled wherever training sentences contain them.

    Examples
    --------
    >>> rows = [("a good film", 1), ("good film", 1), ("a bad plot", 0), ("bad plot", 0),
    ...         ("bad", 0), ("a dull , bad film", 0), ("dull", 0)]
    >>> train, valid = carve_sentences(rows, fraction=0.5)
    >>> valid
    [('a bad plot', 0)]
    >>> train  # "bad plot" occurs only in the validation sentence; "bad" also in a training one
    [('a good film', 1), ('good film', 1), ('bad', 0), ('a dull , bad film', 0), ('dull', 0)]
    """
    texts = [" ".join(text.split()) for text, _ in phrases]
    sentences = whole_sentences(phrases)
    rest, valid, _ = stratified_split(
        [(texts[i], phrases[i][1]) for i in sentences],
        seed=seed,
        fractions=(1 - fraction, fraction, 0.0),
    )
    valid_texts = {text for text, _ in valid}
    seen_in_training = set()
    for text, _ in rest:
        seen_in_training.update(_spans(text.split()))
    train = [
        (phrase, label)
        for (phrase, label), text in zip(phrases, texts, strict=True)
        if text in seen_in_training and text not in valid_texts
    ]
    return train, [phrases[i] for i in sentences if texts[i] in valid_texts]


def split_by_text(examples: Examples, fractions=(0.8, 0.1, 0.1)) -> tuple[Examples, ...]:
    """Drop repeated ``(text, label)`` pairs, then split so each text lives in one split only.

    Texts are stratified by their first label; every label of a text follows it.

    Examples
    --------
    >>> rows = [("Abe", 0), ("Abe", 0), ("Abe", 1)] + [(f"n{i}", i % 2) for i in range(20)]
    >>> train, valid, test = split_by_text(rows)
    >>> sum(t == "Abe" for t, _ in train + valid + test), len(train + valid + test)
    (2, 22)
    """
    labels_of: dict[str, list[int]] = {}
    for text, label in examples:
        if label not in labels_of.setdefault(text, []):
            labels_of[text].append(label)
    unique = [(text, labels[0]) for text, labels in labels_of.items()]
    splits = stratified_split(unique, fractions=fractions)
    return tuple([(t, y) for t, _ in split for y in labels_of[t]] for split in splits)


def read_utf8(path: Path, fixed_name: str) -> str:
    """The text of a UTF-8 file (a BOM is dropped), or `DataFileError` naming the file and line."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataFileError(f"{path}: cannot be read ({e.strerror})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DataFileError(
            f"{path}: line {line} (byte {e.start}) is not UTF-8; convert the file to UTF-8, "
            f"e.g. `iconv -f cp1252 -t utf-8 {path.name} > {fixed_name}`"
        ) from None


def read_tsv(path: str | os.PathLike, labels: list[str] | None = None) -> tuple[Examples, list]:
    """``text<TAB>label`` lines of a UTF-8 file as examples; new label names are appended.

    Raises `DataFileError` naming the file and line for undecodable bytes, a line without a
    tab, an empty text, or a file without examples.
    """
    path = Path(path)
    labels = list(labels or [])
    text = read_utf8(path, fixed_name="fixed.tsv")
    examples = []
    for number, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        if "\t" not in line:
            raise DataFileError(f"{path}: line {number} has no tab; write text<TAB>label lines")
        sentence, label = line.rsplit("\t", 1)
        if not sentence.strip() or not label.strip():
            raise DataFileError(f"{path}: line {number} has an empty text or label")
        label = label.strip()
        if label not in labels:
            labels.append(label)
        examples.append((sentence, labels.index(label)))
    if not examples:
        raise DataFileError(f"{path}: holds no text<TAB>label lines")
    return examples, labels


def from_files(train: str, valid: str | None, test: str | None, level: str) -> ClassificationData:
    """Classification data from TSV files; without ``valid``, 10 % of train is carved out."""
    train_rows, labels = read_tsv(train)
    if valid is not None:
        valid_rows, labels = read_tsv(valid, labels)
    else:
        train_rows, valid_rows = carve(train_rows, 0.10)
    test_rows = None
    if test is not None:
        test_rows, labels = read_tsv(test, labels)
    if len(labels) < 2:
        raise DataFileError(f"{train}: only one label ({labels[0]!r}); a classifier needs two")
    source = {
        split: str(Path(path).resolve())
        for split, path in (("train", train), ("valid", valid), ("test", test))
        if path is not None
    }
    source["sha256"] = hashlib.sha256(Path(train).read_bytes()).hexdigest()
    name = f"tsv:{Path(train).name}"
    return ClassificationData(name, tuple(labels), train_rows, valid_rows, test_rows, level, source)


def read_lines(path: str | os.PathLike) -> list[str]:
    """The non-empty lines of a UTF-8 text file (texts to classify), or `DataFileError`."""
    path = Path(path)
    text = read_utf8(path, fixed_name="fixed.txt")
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if not lines:
        raise DataFileError(f"{path}: holds no text (only empty lines)")
    return lines
