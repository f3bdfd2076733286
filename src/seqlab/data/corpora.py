"""Text corpora, read lazily: Wikipedia extracts, text8 / wiki_text8, PTB, Tiny Shakespeare.

A :class:`Corpus` never reads its files whole into a list: iterating it yields one token list
per line (whitespace-split), re-opening the files on every pass, so a trainer can run several
epochs over it. Lines longer than ``max_sentence`` tokens (text8 is one 17M-token line) are read
in bounded pieces and yielded in chunks of that many tokens, as gensim's ``Text8Corpus`` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from seqlab.data import registry
from seqlab.data.errors import DatasetError
from seqlab.data.fetch import fetch, resolve
from seqlab.data.reading import open_text

READ_CHARS = 1 << 20
EOS = "<eos>"


@dataclass(frozen=True)
class Corpus:
    """A corpus streamed from one or more text files (plain or ``.gz``), in order.

    Attributes
    ----------
    name : str
        Dataset (and split) name, e.g. ``"ptb/train"``.
    files : tuple of Path
        The files, read in this order.
    eos : str or None
        Token appended at the end of every line (PTB's ``"<eos>"`` convention), or None.
    skip_markup : bool
        Drop WikiExtractor's ``<doc ...>`` / ``</doc>`` lines.
    max_sentence : int
        Longest token list yielded; longer lines are cut into chunks of this size.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "c.txt"
    >>> _ = f.write_text("the cat sat\\non the mat\\n")
    >>> corpus = Corpus("toy", (f,), eos="<eos>")
    >>> list(corpus)
    [['the', 'cat', 'sat', '<eos>'], ['on', 'the', 'mat', '<eos>']]
    >>> sum(1 for _ in corpus.tokens())
    8
    """

    name: str
    files: tuple[Path, ...]
    eos: str | None = None
    skip_markup: bool = False
    max_sentence: int = 10_000
    encoding: str = "utf-8"

    @property
    def path(self) -> Path:
        """The corpus as one plain text file on disk (for trainers that read files)."""
        if len(self.files) == 1 and self.files[0].suffix != ".gz":
            return self.files[0]
        raise DatasetError(
            f"{self.name} is stored as {len(self.files)} compressed part(s), not one plain text "
            "file; iterate the corpus (token lists) or use .lines() instead of .path"
        )

    def __iter__(self) -> Iterator[list[str]]:
        return self.sentences()

    def sentences(self) -> Iterator[list[str]]:
        """One token list per line (``eos`` appended), long lines in ``max_sentence`` chunks."""
        for file in self.files:
            with open_text(file, self.encoding) as f:
                yield from _sentences(f, self.eos, self.max_sentence, self.skip_markup)

    def tokens(self) -> Iterator[str]:
        """Every token, in order."""
        for sentence in self.sentences():
            yield from sentence

    def lines(self) -> Iterator[str]:
        """Each line without its line break (markup lines dropped). Avoid on one-line corpora."""
        for file in self.files:
            with open_text(file, self.encoding) as f:
                for line in f:
                    if self.skip_markup and line.startswith(("<doc", "</doc>")):
                        continue
                    yield line.rstrip("\n")


@dataclass(frozen=True)
class SplitCorpus:
    """A corpus with official train / valid / test files (PTB). ``path`` is the train file."""

    name: str
    train: Corpus
    valid: Corpus
    test: Corpus

    @property
    def path(self) -> Path:
        return self.train.path


@dataclass(frozen=True)
class CharCorpus:
    """A small character-level corpus held as a string, with a contiguous train / valid split.

    Tiny Shakespeare has no official split; as in nanoGPT the first 90% of the characters are
    ``train`` and the rest ``valid``, so no context leaks across the boundary and the split is
    identical on every machine (no randomness involved).
    """

    name: str
    path: Path
    text: str
    train: str
    valid: str


def _sentences(f: IO[str], eos: str | None, max_len: int, skip_markup: bool):
    sentence: list[str] = []
    carry = ""  # a word cut in two by the read limit
    at_line_start = True
    while piece := f.readline(READ_CHARS):
        if at_line_start and skip_markup and piece.startswith(("<doc", "</doc>")):
            continue
        at_line_start = piece.endswith("\n")
        text = carry + piece
        words = text.split()
        carry = words.pop() if words and not at_line_start and not text[-1].isspace() else ""
        sentence.extend(words)
        if len(sentence) >= max_len:
            full = len(sentence) - len(sentence) % max_len
            for start in range(0, full, max_len):
                yield sentence[start : start + max_len]
            sentence = sentence[full:]
        if at_line_start:
            if eos is not None:
                sentence.append(eos)
            if sentence:
                yield sentence
            sentence = []
    if not at_line_start:  # the last line had no line break
        if carry:
            sentence.append(carry)
        if eos is not None:
            sentence.append(eos)
        for start in range(0, len(sentence), max_len):
            yield sentence[start : start + max_len]


def wiki_parts(folder: Path, name: str = "enwiki_extract") -> list[Path]:
    """The WikiExtractor parts of ``name`` in ``folder`` (mirror .txt.gz or downloaded .txt)."""
    return resolve(folder, registry.get(name))


def load_wiki(name: str, progress: bool = True) -> Corpus:
    """``enwiki_extract`` / ``kowiki_extract``: whitespace tokens, ``<doc>`` lines skipped."""
    return Corpus(name, tuple(wiki_parts(fetch(name, progress), name)), skip_markup=True)


def load_text8_like(name: str, progress: bool = True) -> Corpus:
    """``wiki_text8`` or ``text8``: one line of lowercase words, yielded in 10,000-word chunks.

    :func:`~seqlab.data.fetch.fetch` builds wiki_text8 from enwiki_extract on first use.
    """
    folder = fetch(name, progress)
    return Corpus(name, tuple(resolve(folder, registry.get(name))))


def load_ptb(progress: bool = True) -> SplitCorpus:
    """Penn Treebank (Mikolov): each line's words plus ``"<eos>"``, as in every PTB LM paper.

    With that convention the splits have 929,589 / 73,760 / 82,430 tokens.
    """
    train, valid, test = resolve(fetch("ptb", progress), registry.get("ptb"))
    return SplitCorpus(
        "ptb",
        Corpus("ptb/train", (train,), eos=EOS),
        Corpus("ptb/valid", (valid,), eos=EOS),
        Corpus("ptb/test", (test,), eos=EOS),
    )


def load_tinyshakespeare(progress: bool = True) -> CharCorpus:
    """Tiny Shakespeare as text (1,115,394 characters) with the 90 / 10 contiguous split."""
    (path,) = resolve(fetch("tinyshakespeare", progress), registry.get("tinyshakespeare"))
    text = path.read_text(encoding="utf-8")
    cut = int(0.9 * len(text))
    return CharCorpus("tinyshakespeare", path, text, text[:cut], text[cut:])
