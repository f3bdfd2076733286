"""Word-embedding evaluation sets: similarity ratings of word pairs, and the Google analogies.

``path`` points at the file that :meth:`KeyedVectors.evaluate_pairs` /
``evaluate_analogies`` read (``combined.tab``, ``SimLex-999.txt``, ``questions-words.txt``...).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seqlab.data import registry
from seqlab.data.fetch import fetch, resolve
from seqlab.data.reading import read_lines

Rated = list[tuple[str, str, float]]
Questions = list[tuple[str, str, str, str]]


@dataclass(frozen=True)
class WordPairs:
    """Word pairs with a human similarity (or relatedness) score.

    Attributes
    ----------
    pairs : list of (str, str, float)
        ``(word1, word2, score)``, in file order.
    scale : (float, float)
        The rating scale (0-10, or 0-50 for MEN).
    dev, test : list of (str, str, float) or None
        MEN's official split (lemma-form files, POS suffixes ``-n/-v/-j`` removed).
    """

    name: str
    path: Path
    pairs: Rated
    scale: tuple[float, float]
    dev: Rated | None = None
    test: Rated | None = None


@dataclass(frozen=True)
class Analogies:
    """Analogy questions ``a b c d`` (a : b :: c : d) grouped by section, in file order."""

    name: str
    path: Path
    sections: dict[str, Questions]

    @property
    def questions(self) -> Questions:
        """All questions, sections concatenated."""
        return [q for qs in self.sections.values() for q in qs]


def load_google_analogy(progress: bool = True) -> Analogies:
    """19,544 questions in 14 sections (5 semantic, 9 syntactic), original case."""
    (path,) = resolve(fetch("google_analogy", progress), registry.get("google_analogy"))
    sections: dict[str, Questions] = {}
    current: Questions = []
    for line in read_lines(path):
        if line.startswith(":"):
            current = sections.setdefault(line[1:].strip(), [])
        elif line.strip():
            a, b, c, d = line.split()
            current.append((a, b, c, d))
    return Analogies("google_analogy", path, sections)


def load_wordsim353(progress: bool = True) -> WordPairs:
    """WordSim-353 ``combined.tab``: 353 pairs, mean human rating 0-10."""
    (path,) = resolve(fetch("wordsim353", progress), registry.get("wordsim353"))
    return WordPairs("wordsim353", path, _rated(path, "\t", skip=1), (0.0, 10.0))


def load_simlex999(progress: bool = True) -> WordPairs:
    """SimLex-999: 999 pairs, column ``SimLex999`` (0-10)."""
    (path,) = resolve(fetch("simlex999", progress), registry.get("simlex999"))
    rows = [line.split("\t") for line in read_lines(path)[1:]]
    return WordPairs("simlex999", path, [(r[0], r[1], float(r[3])) for r in rows], (0.0, 10.0))


def load_men(progress: bool = True) -> WordPairs:
    """MEN: 3,000 pairs (natural form) rated 0-50, plus the official 2,000 / 1,000 dev / test."""
    natural, dev, test = resolve(fetch("men", progress), registry.get("men"))
    return WordPairs(
        "men",
        natural,
        _rated(natural, " "),
        (0.0, 50.0),
        dev=[(a[:-2], b[:-2], s) for a, b, s in _rated(dev, " ")],
        test=[(a[:-2], b[:-2], s) for a, b, s in _rated(test, " ")],
    )


def load_rareword(progress: bool = True) -> WordPairs:
    """Stanford Rare Words: 2,034 pairs, mean of 10 ratings (0-10)."""
    (path,) = resolve(fetch("rareword", progress), registry.get("rareword"))
    return WordPairs("rareword", path, _rated(path, "\t"), (0.0, 10.0))


def _rated(path: Path, sep: str, skip: int = 0) -> Rated:
    rows = [line.split(sep) for line in read_lines(path)[skip:] if line.strip()]
    return [(r[0], r[1], float(r[2])) for r in rows]
