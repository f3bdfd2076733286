"""Vocabulary counting: seqlab ``Vocab.from_file`` vs gensim 4.4 ``Word2Vec.build_vocab``.

Both sides count the ``wiki_text8`` corpus (16.9M tokens, one 100 MB line, text8 format) from
its file with ``min_count`` 5, each in a fresh subprocess (so imports, caches and peak memory do
not leak between them), interleaved: seqlab, gensim, gensim, seqlab, ... so that load on the
shared machine hits both alike.

Fairness: gensim gets the file the way a gensim user gives it, ``build_vocab(corpus_file=path)``
(gensim then reads it with ``LineSentence``, in 10,000-word sentences). ``build_vocab`` also
sorts by count and allocates the (vocab, 100) weight matrix (~0.05 s of its time); seqlab's side
counts, prunes and sorts (``Vocab.from_file``). Seconds are wall time of that call alone
(imports excluded on both sides, including seqlab's one-off numba import of ~0.5 s); peak
memory is the subprocess's peak RSS above its RSS before the call.
``ratio`` = gensim seconds / seqlab seconds (> 1: seqlab faster), from the per-side medians.

Usage::

    flock /tmp/seqlab-cpu.lock .venv/bin/python benchmarks/vocab.py [--repeats 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

MIN_COUNT = 5


def corpus_path() -> Path:
    from seqlab.data import path

    return Path(path("wiki_text8"))


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_side(side: str, path: Path) -> dict:
    """One measurement, inside a fresh subprocess."""
    if side == "seqlab":
        # Imports stay outside the timing on both sides: gensim's compiled modules load with
        # gensim.models, seqlab's numba kernels (~0.5 s once per process) with token_table.
        import seqlab.text.token_table  # noqa: F401
        from seqlab.text import Vocab

        before = rss_mb()
        t = time.perf_counter()
        vocab = Vocab.from_file(path, min_freq=MIN_COUNT)
        seconds = time.perf_counter() - t
        size, total = len(vocab), vocab.total
    else:
        from gensim.models import Word2Vec

        model = Word2Vec(min_count=MIN_COUNT, workers=1)
        before = rss_mb()
        t = time.perf_counter()
        model.build_vocab(corpus_file=str(path))
        seconds = time.perf_counter() - t
        size, total = len(model.wv), model.corpus_total_words
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    return {"seconds": seconds, "peak_mb": peak - before, "vocab": size, "tokens": total}


def measure(side: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--side", side, "--path", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="measurements per side")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--side", choices=("seqlab", "gensim"), help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:  # child process: one measurement, printed as JSON
        print(json.dumps(run_side(args.side, args.path)))
        return

    path = corpus_path()
    runs: dict[str, list[dict]] = {"seqlab": [], "gensim": []}
    for r in range(args.repeats):
        order = ("seqlab", "gensim") if r % 2 == 0 else ("gensim", "seqlab")
        for side in order:
            runs[side].append(measure(side, path))
            print(f"  run {r + 1} {side:6s} {runs[side][-1]['seconds']:.2f} s", file=sys.stderr)
    if runs["seqlab"][0]["vocab"] != runs["gensim"][0]["vocab"]:
        sys.exit(f"vocabulary sizes differ: {runs['seqlab'][0]} vs {runs['gensim'][0]}")

    rows = {}
    for side, results in runs.items():
        rows[side] = {
            "seconds": statistics.median(x["seconds"] for x in results),
            "seconds_all": [round(x["seconds"], 3) for x in results],
            "peak_mb": max(x["peak_mb"] for x in results),
            "vocab": results[0]["vocab"],
            "tokens": results[0]["tokens"],
        }
    ratio = rows["gensim"]["seconds"] / rows["seqlab"]["seconds"]
    print(f"corpus: {path} ({rows['seqlab']['tokens']:,} tokens), min_count={MIN_COUNT}")
    print(f"{'side':<30} {'seconds':>8} {'Mtok/s':>7} {'peak MB':>8} {'vocab':>7}")
    labels = {
        "seqlab": "seqlab Vocab.from_file",
        "gensim": "gensim build_vocab(corpus_file)",
    }
    for side, row in rows.items():
        speed = row["tokens"] / row["seconds"] / 1e6
        print(
            f"{labels[side]:<30} {row['seconds']:>8.2f} {speed:>7.2f} {row['peak_mb']:>8.0f} "
            f"{row['vocab']:>7,}"
        )
    print(f"ratio (gensim s / seqlab s, >1 = seqlab faster): {ratio:.2f}")
    if args.json:
        report = {"corpus": str(path), "min_count": MIN_COUNT, "repeats": args.repeats}
        args.json.write_text(json.dumps({**report, **rows, "ratio": ratio}, indent=1))


if __name__ == "__main__":
    main()
