"""Standard word-vector benchmarks: analogy accuracy and similarity correlation.

Analogies (Google ``questions-words.txt``): each question ``a b c d`` asks for the word closest to
``b - a + c`` (3CosAdd) or best by 3CosMul; it is correct when that word is ``d``. Similarity sets
(WordSim-353, SimLex-999, MEN, Rare Words) pair words with human ratings; the score is the
Spearman (and Pearson) correlation of cosine similarity with those ratings.

The numbers equal gensim 4.4's ``evaluate_word_analogies`` / ``evaluate_word_pairs`` on the same
vectors and settings, including its rules: only the first ``restrict_vocab`` words count (a
question with any other word is skipped as out-of-vocabulary); with ``case_insensitive`` words
are upper-cased and each upper-cased form takes the vector of its first (most frequent) variant;
the three question words are never accepted as the answer. Unlike gensim, all questions of a
section are answered together with one matrix product, which is where the speed comes from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seqlab import data
from seqlab.embeddings.keyedvectors import top_k

if TYPE_CHECKING:
    from seqlab.embeddings.keyedvectors import KeyedVectors

# The benchmark datasets that can be named instead of a path; seqlab.data knows their files.
EVALUATION_SETS = ("google_analogy", "wordsim353", "simlex999", "men", "rareword")
# Korean sets: name -> (dataset, analogy section or "pairs"); see seqlab.data.korean_tests.
KOREAN_SETS = {
    "kor2vec_semantic": ("kor2vec_tests", "semantic"),
    "kor2vec_syntactic": ("kor2vec_tests", "syntactic"),
    "kor2vec_ws353": ("kor2vec_tests", "pairs"),
    "park2018_analogy": ("kor_analogy_park2018", "all"),
    "park2018_ws353": ("kor_analogy_park2018", "pairs"),
}
# Candidates inspected per question, as in gensim (most_similar(..., topn=5)).
_ANALOGY_TOPN = 5
_BLOCK = 16 * 1024 * 1024  # float32 scores per matrix-product slice (64 MiB)


class EvaluationFileError(ValueError):
    """An evaluation file is malformed; the message names the line and what was expected."""


# ----------------------------------------------------------------------------------- readers
def evaluation_file(name_or_path: str | os.PathLike) -> Path:
    """The file to read for a benchmark name (``"wordsim353"``, ...), or the path given.

    A name is found by :func:`seqlab.data.load` (mirror, cache or verified download); when the
    dataset is nowhere, :class:`~seqlab.data.DatasetNotFoundError` names it, its URL and
    ``SEQLAB_DATA``. Korean sets are named as in :data:`KOREAN_SETS` (``"kor2vec_semantic"``).
    """
    if str(name_or_path) in KOREAN_SETS:
        dataset, part = KOREAN_SETS[str(name_or_path)]
        tests = data.load(dataset, progress=False)
        return tests.pairs if part == "pairs" else tests.analogies[part]
    if str(name_or_path) not in EVALUATION_SETS:
        return Path(name_or_path)
    return data.load(str(name_or_path), progress=False).path


def _lines(path: Path):
    """(line number, text) of a UTF-8 file, with a clear error for other encodings.

    A byte-order mark at the start (kor2vec's WS-353 has one) is dropped.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such evaluation file")
    with open(path, "rb") as f:
        for line_no, raw in enumerate(f, start=1):
            try:
                yield line_no, raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
            except UnicodeDecodeError as e:
                raise EvaluationFileError(
                    f"{path}:{line_no}: not valid UTF-8 (byte {e.start}); convert the file to UTF-8"
                ) from None


def read_analogies(path: str | os.PathLike) -> list[tuple[str, list[tuple[str, str, str, str]]]]:
    """Sections of an analogy file: ``[(section name, [(a, b, c, d), ...]), ...]``.

    Format: ``: section name`` header lines (Google's; kor2vec's Korean sets write
    ``# section name``), then one question ``a b c d`` per line ("a is to b as c is to d").
    Blank lines are ignored.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "q.txt"
    >>> _ = p.write_text(": capitals\\nseoul korea tokyo japan\\n", encoding="utf-8")
    >>> read_analogies(p)
    [('capitals', [('seoul', 'korea', 'tokyo', 'japan')])]
    """
    path = Path(path)
    sections: list[tuple[str, list[tuple[str, str, str, str]]]] = []
    for line_no, line in _lines(path):
        if line.startswith((":", "#")):
            sections.append((line.lstrip(":# ").strip(), []))
            continue
        words = line.split()
        if not words:
            continue
        if not sections:
            raise EvaluationFileError(
                f"{path}:{line_no}: expected a section header ': name' before the first question"
            )
        if len(words) != 4:
            raise EvaluationFileError(
                f"{path}:{line_no}: expected 4 words 'a b c d', "
                f"found {len(words)}: {line.strip()!r}"
            )
        sections[-1][1].append((words[0], words[1], words[2], words[3]))
    if not any(questions for _, questions in sections):
        raise EvaluationFileError(f"{path}: no analogy questions found (expected 'a b c d' lines)")
    return sections


def read_pairs(path: str | os.PathLike) -> list[tuple[str, str, float]]:
    """Word pairs with human ratings: ``[(word1, word2, score), ...]``.

    Reads every similarity set of the mirror: tab-separated (WordSim-353 ``.tab``, SimLex-999,
    Rare Words), comma-separated (``.csv``) and space-separated (MEN) files. ``#`` lines are
    comments; a first line without a number in the score column is a header. The score is the
    third column, or the column named ``SimLex999`` when the header has one.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "pairs.tsv"
    >>> _ = p.write_text("Word 1\\tWord 2\\tHuman\\ntiger\\tcat\\t7.35\\n", encoding="utf-8")
    >>> read_pairs(p)
    [('tiger', 'cat', 7.35)]
    """
    path = Path(path)
    pairs: list[tuple[str, str, float]] = []
    delimiter, column, seen_data = None, 2, False
    for line_no, line in _lines(path):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if delimiter is None:
            delimiter = "\t" if "\t" in text else "," if path.suffix == ".csv" else None
        fields = [f.strip() for f in text.split(delimiter)]
        if len(fields) <= column:
            raise EvaluationFileError(
                f"{path}:{line_no}: expected 'word1 word2 score', found {len(fields)} field(s)"
            )
        try:
            score = float(fields[column])
        except ValueError:
            if seen_data:
                raise EvaluationFileError(
                    f"{path}:{line_no}: expected a number in column {column + 1}, "
                    f"found {fields[column]!r}"
                ) from None
            if "SimLex999" in fields:  # header line of SimLex-999.txt
                column = fields.index("SimLex999")
            seen_data = True  # only the first line may be a header
            continue
        seen_data = True
        pairs.append((fields[0], fields[1], score))
    if not pairs:
        raise EvaluationFileError(f"{path}: no word pairs found (expected 'word1 word2 score')")
    return pairs


# ----------------------------------------------------------------------------------- results
@dataclass
class SectionScore:
    """Questions answered and answered correctly in one section."""

    name: str
    correct: int
    answered: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


@dataclass
class AnalogyResult:
    """Per-section and total analogy accuracy, with the settings that produced it."""

    sections: list[SectionScore]
    questions: int
    skipped_oov: int
    settings: dict = field(default_factory=dict)

    @property
    def correct(self) -> int:
        return sum(s.correct for s in self.sections)

    @property
    def answered(self) -> int:
        return sum(s.answered for s in self.sections)

    @property
    def accuracy(self) -> float:
        """Total accuracy over answered questions (gensim's "Total accuracy")."""
        return self.correct / self.answered if self.answered else 0.0

    def __str__(self) -> str:
        settings = ", ".join(f"{k}={v}" for k, v in self.settings.items())
        width = max([len(s.name) for s in self.sections] + [14])
        lines = [f"analogies ({settings})", f"{'section':<{width}}  accuracy  correct/answered"]
        for s in [*self.sections, SectionScore("Total accuracy", self.correct, self.answered)]:
            lines.append(f"{s.name:<{width}}  {100 * s.accuracy:7.2f}%  {s.correct}/{s.answered}")
        lines.append(
            f"questions {self.questions}, answered {self.answered}, "
            f"skipped (out of vocabulary) {self.skipped_oov}"
        )
        return "\n".join(lines)


@dataclass
class PairsResult:
    """Correlation of cosine similarity with human ratings, with the settings used."""

    spearman: float
    pearson: float
    spearman_pvalue: float
    pearson_pvalue: float
    pairs: int
    skipped_oov: int
    settings: dict = field(default_factory=dict)

    @property
    def oov_ratio(self) -> float:
        """Percentage of pairs skipped as out-of-vocabulary (as gensim reports it)."""
        return 100.0 * self.skipped_oov / (self.pairs + self.skipped_oov)

    def __str__(self) -> str:
        settings = ", ".join(f"{k}={v}" for k, v in self.settings.items())
        return (
            f"pairs ({settings})\n"
            f"spearman {self.spearman:.4f}  pearson {self.pearson:.4f}  "
            f"pairs {self.pairs}  out-of-vocabulary {self.skipped_oov} ({self.oov_ratio:.1f}%)"
        )


# ----------------------------------------------------------------------------------- scoring
def _restricted_vocab(
    kv: KeyedVectors, restrict_vocab: int | None, case_insensitive: bool
) -> tuple[dict[str, int], np.ndarray]:
    """Lookup table of the first ``restrict_vocab`` words and each row's canonical row.

    With ``case_insensitive`` the table is keyed by upper-cased words and every variant maps to
    its first row (gensim builds it the same way); ``canonical[i]`` is that row for row ``i``.
    """
    keys = kv.index_to_key[:restrict_vocab]
    if not case_insensitive:
        return {k: i for i, k in enumerate(keys)}, np.arange(len(keys))
    lookup: dict[str, int] = {}
    for i, k in enumerate(keys):
        lookup.setdefault(k.upper(), i)
    return lookup, np.array([lookup[k.upper()] for k in keys], dtype=np.int64)


def evaluate_analogies(
    kv: KeyedVectors,
    path: str | os.PathLike,
    restrict_vocab: int = 30000,
    case_insensitive: bool = True,
    method: str = "3cosadd",
) -> AnalogyResult:
    """Analogy accuracy of ``kv`` on ``path``, per section (gensim-identical numbers).

    For each answerable question the five best candidates (query words' rows excluded) are
    inspected in order and the first whose (upper-cased) form is not a query word is the answer.

    Parameters
    ----------
    kv : the vectors.
    path : analogy file or the dataset name ``"google_analogy"``.
    restrict_vocab : only the first N words are used, as question words and as answers.
    case_insensitive : compare upper-cased words (gensim's default).
    method : ``"3cosadd"`` or ``"3cosmul"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from seqlab.embeddings import KeyedVectors
    >>> kv = KeyedVectors(["korea", "seoul", "japan", "tokyo", "pizza"],
    ...     np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [-1, -1, -1]], np.float32))
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "q.txt"
    >>> _ = p.write_text(": capitals\\nseoul korea tokyo japan\\nseoul korea paris france\\n")
    >>> r = evaluate_analogies(kv, p)
    >>> r.accuracy, r.answered, r.skipped_oov
    (1.0, 1, 1)
    """
    if method not in ("3cosadd", "3cosmul"):
        raise ValueError(f"unknown analogy method {method!r}: use '3cosadd' or '3cosmul'")
    path = evaluation_file(path)
    lookup, canonical = _restricted_vocab(kv, restrict_vocab, case_insensitive)
    unit = kv.unit_vectors[: len(canonical)]  # (R, d)
    sections, questions, oov = [], 0, 0
    for name, quads in read_analogies(path):
        ids = []
        for quad in quads:
            keys = [w.upper() for w in quad] if case_insensitive else quad
            row = [lookup.get(k, -1) for k in keys]
            if min(row) < 0:
                oov += 1
            else:
                ids.append(row)
        questions += len(quads)
        correct = 0
        if ids:
            abcd = np.array(ids, dtype=np.int64)  # (m, 4)
            step = max(1, _BLOCK // max(1, len(unit)))
            for start in range(0, len(abcd), step):
                correct += _count_correct(unit, canonical, abcd[start : start + step], method)
        sections.append(SectionScore(name, correct, len(ids)))
    settings = {
        "file": path.name,
        "method": method,
        "restrict_vocab": restrict_vocab,
        "case_insensitive": case_insensitive,
    }
    return AnalogyResult(sections, questions, oov, settings)


def _count_correct(unit: np.ndarray, canonical: np.ndarray, abcd: np.ndarray, method: str) -> int:
    """Correct answers among the questions ``abcd`` (m, 4) of canonical rows."""
    a, b, c, d = abcd.T  # each (m,)
    if method == "3cosadd":
        target = unit[b] + unit[c] - unit[a]  # (m, d)
        norms = np.linalg.norm(target, axis=1, keepdims=True)
        target /= np.where(norms == 0, 1, norms)  # a - b + c = 0 scores every word 0, as gensim
        scores = target @ unit.T  # (m, R)
    else:
        # 3CosMul with cosines shifted to [0, 1]: s(b) s(c) / (s(a) + 1e-6)
        scores = (1 + unit[b] @ unit.T) / 2
        scores *= (1 + unit[c] @ unit.T) / 2
        scores /= (1 + unit[a] @ unit.T) / 2 + 1e-6
    rows = np.arange(len(abcd))
    for query in (a, b, c):
        scores[rows, query] = -np.inf
    top, top_scores = top_k(scores, _ANALOGY_TOPN)  # (m, 5) best first
    valid = top_scores > -np.inf
    group = canonical[top]  # upper-cased identity of each candidate
    good = valid & (group != a[:, None]) & (group != b[:, None]) & (group != c[:, None])
    # First acceptable candidate; if none, gensim keeps the last candidate it looked at.
    n_valid = valid.sum(axis=1)
    fallback = np.where(n_valid > 0, group[rows, np.maximum(n_valid - 1, 0)], -1)
    answer = np.where(good.any(axis=1), group[rows, good.argmax(axis=1)], fallback)
    return int((answer == d).sum())


def evaluate_pairs(
    kv: KeyedVectors,
    path: str | os.PathLike,
    restrict_vocab: int = 300000,
    case_insensitive: bool = True,
) -> PairsResult:
    """Spearman and Pearson correlation of cosine similarity with human ratings.

    Pairs with a word outside the first ``restrict_vocab`` words are skipped and counted
    (``oov_ratio``, in percent). ``path`` may be a dataset name (``"wordsim353"``,
    ``"simlex999"``, ``"men"``, ``"rareword"``) or any file :func:`read_pairs` reads.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from seqlab.embeddings import KeyedVectors
    >>> kv = KeyedVectors(["a", "b", "c"], np.array([[1, 0], [1, 1], [0, 1]], np.float32))
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "pairs.tsv"
    >>> _ = p.write_text("a\\tb\\t9\\na\\tc\\t1\\nb\\tc\\t9\\na\\tzz\\t3\\n")
    >>> r = evaluate_pairs(kv, p)
    >>> round(r.spearman, 3), r.pairs, r.skipped_oov
    (1.0, 3, 1)
    """
    from scipy import stats  # seconds to import: loaded only for pair scores

    path = evaluation_file(path)
    lookup, _ = _restricted_vocab(kv, restrict_vocab, case_insensitive)
    gold, left, right, oov = [], [], [], 0
    for w1, w2, score in read_pairs(path):
        if case_insensitive:
            w1, w2 = w1.upper(), w2.upper()
        if w1 in lookup and w2 in lookup:
            gold.append(score)
            left.append(lookup[w1])
            right.append(lookup[w2])
        else:
            oov += 1
    if len(gold) < 2:  # a correlation needs two points
        raise EvaluationFileError(
            f"{path}: {oov} of {oov + len(gold)} pairs have words outside the first "
            f"{restrict_vocab:,} words of the vectors, too few left to correlate; train on a "
            "larger corpus or raise restrict_vocab (--pairs-restrict-vocab)"
        )
    unit = kv.unit_vectors
    model = np.einsum("ij,ij->i", unit[left], unit[right])  # (pairs,) cosines
    spearman = stats.spearmanr(gold, model)
    pearson = stats.pearsonr(gold, model)
    settings = {
        "file": path.name,
        "restrict_vocab": restrict_vocab,
        "case_insensitive": case_insensitive,
    }
    return PairsResult(
        float(spearman.statistic),
        float(pearson.statistic),
        float(spearman.pvalue),
        float(pearson.pvalue),
        len(gold),
        oov,
        settings,
    )
