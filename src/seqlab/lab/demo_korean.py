"""The demo's Korean section: the lecture's two Korean analogies, with their top five.

``+한국/Noun +도쿄/Noun −서울/Noun → ?`` and ``+여자/Noun +왕/Noun −여왕/Noun → ?``, and the
nearest words of 공부 (study) and 기술 (skill), from Korean Wikipedia morphemes. The vectors
come from, in order of preference:

1. the cached model of the documented recipe, ``<seqlab cache>/kowiki_extract/vectors/
   ko-skipgram.bin`` (written by ``seqlab embed train kowiki_extract --lang ko --out`` that path);
2. a small skip-gram trained now on the start of the cached morpheme corpus of kowiki_extract;
3. a small skip-gram trained now on a few thousand paragraphs analysed now.

The section says which, and how big; with 2 and 3 the answers are those of a model trained
in well under a minute, which often misses the slide's answers: the report says so.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from seqlab import data
from seqlab.data import DatasetNotFoundError
from seqlab.embeddings.keyedvectors import KeyedVectors, UnknownWordError
from seqlab.embeddings.korean import (
    SLIDE_ANALOGIES,
    SLIDE_NEAREST,
    cached_vectors_path,
    lookup,
    slide_analogy,
    tagged,
)
from seqlab.embeddings.word2vec import Word2Vec
from seqlab.text.korean import KoreanTokenizer
from seqlab.text.korean_corpus import cached_korean_corpus, read_paragraphs

#: Tokens of the quick model: about 40 s of skip-gram training on two cores.
QUICK_TOKENS = 4_000_000
#: Characters analysed now when no morpheme corpus is cached (about 20 s at ~50k chars/s).
FRESH_CHARACTERS = 1_000_000
TOP = 5


def section(report, settings, echo, tokens: int | None = None) -> dict[str, Any]:
    """Answer the slide's analogies; add the section to ``report``; return its figures.

    ``tokens`` bounds the quick model's corpus (the tests pass a few thousand).
    """
    path = cached_vectors_path()
    if path.is_file() and tokens is None:
        kv = KeyedVectors.load(path)
        source = f"the cached model of the documented recipe ({path}; {len(kv):,} words)"
    else:
        try:
            kv, source = _quick_model(settings, tokens or QUICK_TOKENS, echo)
        except DatasetNotFoundError as err:
            echo(f"  skipped: {err}")
            return {"skipped": str(err)}
    echo(f"  vectors: {source}")
    rows, figures = [], {"vectors": source, "analogies": [], "nearest": {}}
    for a, b, c, expected in SLIDE_ANALOGIES:
        try:
            answers = kv.analogy(lookup(kv, a), lookup(kv, b), lookup(kv, c), topn=TOP)
        except UnknownWordError as err:
            answers, line = [], f"{a} − {b} + {c}: {err}"
        else:
            line = slide_analogy(a, b, c, answers)
        echo(f"  {line}")
        top = ", ".join(f"{tagged(w)} {s:.2f}" for w, s in answers)
        first = bool(answers) and answers[0][0] == expected
        rows.append([line, top, "yes" if first else "no"])
        figures["analogies"].append(
            {"query": [a, b, c], "expected": expected, "first": first, "top": answers}
        )
    nearest_rows = []
    for word in SLIDE_NEAREST:
        try:
            near = kv.nearest([lookup(kv, word)], topn=TOP)[0]
        except UnknownWordError:
            near = []
        nearest_rows.append([tagged(word), ", ".join(f"{tagged(w)} {s:.2f}" for w, s in near)])
        figures["nearest"][word] = near
    part = report.section(
        "Korean: the lecture's analogies on Korean Wikipedia morphemes",
        "Skip-gram vectors of Kiwi morphemes (seqlab.text.korean); each word is printed with "
        f"its class as on the slide. Vectors: {source}.",
    )
    part.table(["analogy", f"top {TOP} (cosine)", "expected first?"], rows)
    part.table(["word", f"nearest {TOP}"], nearest_rows)
    return figures


def _quick_model(settings, tokens: int, echo) -> tuple[KeyedVectors, str]:
    """A small skip-gram on the first ``tokens`` morphemes of kowiki_extract."""
    started = time.perf_counter()
    corpus = cached_korean_corpus("kowiki_extract")
    if corpus is not None:
        sentences = _first_tokens(_lines(corpus), tokens)
        origin = "the cached morpheme corpus"
    else:
        part = data.load("kowiki_extract", progress=False).files[0]
        texts, chars = [], 0
        for line in read_paragraphs(Path(part)):
            texts.append(line)
            chars += len(line)
            if chars >= FRESH_CHARACTERS * tokens / QUICK_TOKENS:
                break
        analysed = KoreanTokenizer(workers=settings.workers).tokenize_many(texts)
        sentences = _first_tokens(analysed, tokens)
        origin = f"{chars:,} characters analysed now"
    n_tokens = sum(map(len, sentences))
    model = Word2Vec(
        "skipgram",
        vector_size=64,
        min_count=3,
        epochs=3,
        workers=settings.workers,
        seed=settings.seed,
    )
    kv = model.train(sentences, progress=False)
    seconds = time.perf_counter() - started
    source = (
        f"a quick skip-gram trained now on {n_tokens:,} morphemes ({origin}), 64 dimensions, "
        f"3 epochs, {seconds:.0f} s; far smaller than the documented recipe, so its answers "
        "may miss the slide's"
    )
    return kv, source


def _lines(path: Path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield line.split()


def _first_tokens(sentences, tokens: int) -> list[list[str]]:
    """Sentences from the start of ``sentences`` until ``tokens`` tokens are taken."""
    taken, out = 0, []
    for sentence in sentences:
        if taken >= tokens:
            break
        out.append(sentence)
        taken += len(sentence)
    return out
