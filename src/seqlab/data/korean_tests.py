"""Korean word-vector test sets: kor2vec's analogies and WS-353, and Park et al. (2018)'s.

Both are read by :mod:`seqlab.embeddings.evaluate` (``seqlab embed eval VECTORS --lang ko``);
the loaders only find (or download and verify) the files. kor2vec's analogy files mark their
sections with ``# name`` lines, Park et al.'s with Google's ``: name``; their WS-353 files are
``word1,word2,score`` CSV (kor2vec's starts with a byte-order mark).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seqlab.data import registry
from seqlab.data.fetch import fetch, resolve


@dataclass(frozen=True)
class KoreanTests:
    """The analogy files and the similarity file of one Korean test set."""

    name: str
    analogies: dict[str, Path]
    pairs: Path

    def summary(self) -> dict:
        """Questions per analogy file and the number of rated pairs (``seqlab data info``)."""

        def count(path: Path, header: tuple[str, ...]) -> int:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
            return sum(1 for line in lines if line.strip() and not line.startswith(header))

        return {
            "questions": {k: count(p, (":", "#")) for k, p in self.analogies.items()},
            "pairs": count(self.pairs, ("#",)),
        }


def load_kor2vec_tests(progress: bool = True) -> KoreanTests:
    """kor2vec: 420 semantic and 840 syntactic analogies (eojeols such as 밥을), WS-353 Korean."""
    semantic, syntactic, ws353 = resolve(
        fetch("kor2vec_tests", progress), registry.get("kor2vec_tests")
    )
    return KoreanTests("kor2vec_tests", {"semantic": semantic, "syntactic": syntactic}, ws353)


def load_park2018(progress: bool = True) -> KoreanTests:
    """Park et al. 2018: 10,000 analogies (5 semantic + 5 syntactic sections) and WS-353.

    Not in the shared mirror: it is downloaded from the authors' repository and verified.
    """
    analogies, ws353 = resolve(
        fetch("kor_analogy_park2018", progress), registry.get("kor_analogy_park2018")
    )
    return KoreanTests("kor_analogy_park2018", {"all": analogies}, ws353)
