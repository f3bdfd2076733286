"""Word-vector queries: seqlab (batched) vs gensim 4.4 (one query at a time), same run, same input.

1. ``most_similar``: 200,000 x 300 random unit vectors, 1,000 query words, topn 10.
   seqlab answers all of them with ``KeyedVectors.nearest`` (one matrix product per block and a
   partial sort); gensim calls ``most_similar`` once per word.
2. Analogy evaluation over the full Google set (questions-words.txt, 19,544 questions): random
   vectors over a vocabulary made of the question words plus filler words (30,000 in all),
   ``restrict_vocab=30000``; seqlab ``evaluate_analogies`` vs gensim ``evaluate_word_analogies``.
   The per-section numbers are checked to be identical.

Rounds alternate seqlab and gensim; the best time of each is reported. ``ratio`` = seqlab speed /
gensim speed (> 1: seqlab faster). Run it under the CPU lock::

    SEQLAB_DATA=/work/shared/data flock /tmp/seqlab-cpu.lock \\
        .venv/bin/python benchmarks/queries.py --json benchmarks/queries.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors as GensimKV

from seqlab.embeddings import KeyedVectors
from seqlab.embeddings.evaluate import read_analogies


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def random_pair(words: list[str], dim: int, seed: int) -> tuple[KeyedVectors, GensimKV]:
    vectors = np.random.default_rng(seed).normal(size=(len(words), dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    gensim_kv = GensimKV(dim)
    gensim_kv.add_vectors(words, vectors)
    return KeyedVectors(words, vectors), gensim_kv


def bench_most_similar(args) -> dict:
    words = [f"w{i}" for i in range(args.words)]
    kv, g = random_pair(words, args.dim, seed=0)
    rng = np.random.default_rng(1)
    queries = [words[i] for i in rng.choice(len(words), args.queries, replace=False)]
    kv.nearest(queries[:1], topn=args.topn)  # warm-up: unit norms cached on both sides
    g.most_similar(queries[0], topn=args.topn)
    ours_times, theirs_times = [], []
    for _ in range(args.rounds):
        t, ours = timed(lambda: kv.nearest(queries, topn=args.topn))
        ours_times.append(t)
        t, theirs = timed(lambda: [g.most_similar(q, topn=args.topn) for q in queries])
        theirs_times.append(t)
    same = sum([w for w, _ in a] == [w for w, _ in b] for a, b in zip(ours, theirs, strict=True))
    return {
        "task": f"most_similar x{args.queries} ({args.words:,}x{args.dim}, topn {args.topn})",
        "seqlab_s": min(ours_times),
        "gensim_s": min(theirs_times),
        "identical_answers": f"{same}/{len(queries)}",
    }


def bench_analogies(args) -> dict:
    path = Path(args.questions)
    question_words = sorted({w.lower() for _, qs in read_analogies(path) for q in qs for w in q})
    filler = [f"filler{i}" for i in range(max(0, args.analogy_vocab - len(question_words)))]
    words = question_words + filler
    order = np.random.default_rng(2).permutation(len(words))  # question words spread out
    kv, g = random_pair([words[i] for i in order], args.dim, seed=3)
    kv.unit_vectors  # noqa: B018 - warm-up, as gensim's norms below
    g.fill_norms()
    ours_times, theirs_times = [], []
    for _ in range(args.rounds):
        t, ours = timed(lambda: kv.evaluate_analogies(path, restrict_vocab=args.analogy_vocab))
        ours_times.append(t)
        t, (_, theirs) = timed(
            lambda: g.evaluate_word_analogies(str(path), restrict_vocab=args.analogy_vocab)
        )
        theirs_times.append(t)
    identical = [(s.name, s.correct, s.answered) for s in ours.sections] == [
        (s["section"], len(s["correct"]), len(s["correct"]) + len(s["incorrect"]))
        for s in theirs[:-1]
    ]
    return {
        "task": f"evaluate analogies ({ours.questions:,} questions, "
        f"{len(words):,}x{args.dim}, restrict_vocab {args.analogy_vocab:,})",
        "seqlab_s": min(ours_times),
        "gensim_s": min(theirs_times),
        "identical_answers": f"{ours.correct} correct / {ours.answered} answered, "
        f"sections {'identical' if identical else 'DIFFER'}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--topn", type=int, default=10)
    parser.add_argument("--analogy-vocab", type=int, default=30_000)
    parser.add_argument(
        "--questions",
        default=Path(os.environ.get("SEQLAB_DATA", "/work/shared/data"))
        / "google_analogy"
        / "questions-words.txt",
    )
    parser.add_argument("--rounds", type=int, default=2, help="Alternating rounds; best is kept.")
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args()
    logging.getLogger("gensim").setLevel(logging.WARNING)

    rows = [bench_most_similar(args), bench_analogies(args)]
    print(f"{'task':<72} {'seqlab s':>9} {'gensim s':>9} {'ratio':>6}  check")
    for row in rows:
        row["ratio"] = row["gensim_s"] / row["seqlab_s"]
        print(
            f"{row['task']:<72} {row['seqlab_s']:9.2f} {row['gensim_s']:9.2f} "
            f"{row['ratio']:6.1f}  {row['identical_answers']}"
        )
    if args.json:
        from seqlab.io import atomic_write

        with atomic_write(args.json, "w", encoding="utf-8") as f:
            json.dump(
                {"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows}, f, indent=1
            )


if __name__ == "__main__":
    main()
