"""Embedding trainers side by side: seqlab vs gensim 4.4 (word2vec) and the fasttext package.

Every trainer reads the same corpus file (``wiki_text8``, or ``text8`` when available) with the
same hyperparameters: 100 dimensions, window 5, 5 negatives, sample 1e-3, min_count 5, 5 epochs,
2 workers. The headline time is **end to end** for every implementation: from the corpus file
to the word vectors in memory, counting the vocabulary, encoding or reading the text and
training:

- seqlab: ``prepare_corpus(file)`` (vocabulary + encoding) then ``train`` (then the vectors);
- gensim: ``build_vocab`` on the file (``LineSentence``, 10,000-word sentences as seqlab cuts
  them) then ``train`` on it (gensim reads and splits the file again every epoch);
- fasttext package: its one ``train_unsupervised`` call on the file, then the word vectors.

Beside it, the training-only time: seqlab's epochs (``train_seconds``), gensim's ``train``
call; the fasttext package does not report its reading time apart, so it has none. Rows run
interleaved (seqlab, its peer, seqlab, its peer... with ``--repeats``), and the median of each
is shown, so that load on the shared machine hits both alike. words/s = corpus tokens x epochs
/ seconds; ``ratio`` = seqlab words/s / peer words/s (> 1: seqlab faster), end to end and
training only. numba loads seqlab's compiled kernels from its cache before the clock starts
(a one-time cost per process, about a second). Quality: Google analogy accuracy
(restrict_vocab 30000 of one shared word order, 3CosAdd; questions answered printed),
WordSim-353 and SimLex-999 Spearman rho. GloVe (no peer installed; compare its analogy accuracy
with the skip-gram row) runs 20 epochs (``--glove-epochs``), window 10, alpha 0.75, one row for
x_max 100 (the paper's) and one for x_max 10 (GloVe's text8 demo); its end-to-end time includes
counting the co-occurrence matrix, its training-only time is the epochs.

Usage::

    flock /tmp/seqlab-cpu.lock python benchmarks/embeddings.py            # full run
    python benchmarks/embeddings.py --max-tokens 2000000 --epochs 1 --only cbow --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqlab.embeddings import KeyedVectors

ALGOS = ("skipgram", "cbow", "fasttext", "glove")
SETTINGS = {"dim": 100, "window": 5, "negative": 5, "sample": 1e-3, "min_count": 5}
GLOVE_EPOCHS = 20  # GloVe needs ~15-25 passes on a text8-size corpus
GLOVE_WINDOW = 10  # the GloVe paper's; window 5 loses semantic analogies
GLOVE_X_MAX = (100.0, 10.0)  # the paper's, and GloVe's own text8 demo (better on small corpora)


def dataset_path(name: str) -> Path | None:
    """A dataset's path from seqlab.data, else the mirror / cache layout, else None."""
    try:
        from seqlab.data import path as data_path

        return Path(data_path(name))
    except Exception:  # seqlab.data missing or the dataset absent: fall back to known places
        pass
    cache = Path(os.environ.get("SEQLAB_CACHE", Path.home() / ".cache" / "seqlab"))
    for candidate in (
        cache / name / f"{name}.txt",
        Path(os.environ.get("SEQLAB_DATA", "/work/shared/data")) / name,
    ):
        if candidate.exists():
            return candidate
    return None


def corpus_file(max_tokens: int | None, workdir: Path) -> tuple[Path, str]:
    """The benchmark corpus (text8 if present, else wiki_text8), cut to ``max_tokens``."""
    for name in ("text8", "wiki_text8"):
        path = dataset_path(name)
        if path is not None and path.is_file():
            break
    else:
        sys.exit("no corpus: need seqlab.data.path('wiki_text8') or ~/.cache/seqlab/wiki_text8")
    if not max_tokens:
        return path, name
    cut = workdir / f"{name}.{max_tokens}.txt"
    words = path.read_bytes().split(maxsplit=max_tokens)[:max_tokens]
    cut.write_bytes(b" ".join(words) + b"\n")
    return cut, f"{name}[:{max_tokens}]"


def in_order(kv: KeyedVectors, itos: list[str]) -> KeyedVectors:
    """``kv`` with its words in the order ``itos`` (words missing from ``itos`` last).

    Every implementation is evaluated in one word order (frequency, ties by first occurrence)
    so that ``restrict_vocab=30000`` selects the same words, hence the same questions, for all:
    gensim orders tied counts differently, which changed ~50 answered questions.
    """
    rank = {w: i for i, w in enumerate(itos)}
    order = sorted(range(len(kv)), key=lambda i: rank.get(kv.index_to_key[i], len(itos) + i))
    return KeyedVectors([kv.index_to_key[i] for i in order], kv.vectors[order])


def evaluate(kv: KeyedVectors) -> dict:
    """Google analogy accuracy (restrict_vocab 30,000, 3CosAdd), WordSim-353 and SimLex-999 rho."""
    out: dict = {}
    analogy = dataset_path("google_analogy")
    if analogy is not None:
        r = kv.evaluate_analogies(analogy / "questions-words.txt", restrict_vocab=30000)
        out.update(analogy=r.accuracy, answered=r.answered, questions=r.questions)
    for key, sub in (
        ("wordsim", "wordsim353/combined.tab"),
        ("simlex", "simlex999/SimLex-999/SimLex-999.txt"),
    ):
        name, rel = sub.split("/", 1)
        folder = dataset_path(name)
        if folder is not None:
            out[key] = kv.evaluate_pairs(folder / rel).spearman
    return out


@dataclass
class Timed:
    """One run: the vectors, the end-to-end seconds and the training-only seconds (or None)."""

    kv: KeyedVectors
    seconds: float
    train_seconds: float | None


def run_seqlab(
    algo: str,
    path: Path,
    epochs: int,
    workers: int,
    x_max: float = 100.0,
    shared_negatives: bool = False,
) -> Timed:
    from seqlab.embeddings.fasttext import FastText
    from seqlab.embeddings.glove import GloVe
    from seqlab.embeddings.training import prepare_corpus
    from seqlab.embeddings.word2vec import Word2Vec

    common = dict(
        vector_size=SETTINGS["dim"],
        window=SETTINGS["window"],
        negative=SETTINGS["negative"],
        sample=SETTINGS["sample"],
        min_count=SETTINGS["min_count"],
        epochs=epochs,
        workers=workers,
    )
    if algo == "fasttext":
        model = FastText(**common)
    elif algo == "glove":
        # alpha 0.75, AdaGrad 0.05 (GloVe's defaults), the paper's window 10; training covers
        # counting the co-occurrence matrix plus the epochs over its nonzero entries.
        model = GloVe(
            vector_size=SETTINGS["dim"],
            window=GLOVE_WINDOW,
            x_max=x_max,
            min_count=SETTINGS["min_count"],
            epochs=epochs,
            workers=workers,
        )
    else:
        # gensim's alpha for both algorithms
        model = Word2Vec(algo, alpha=0.025, shared_negatives=shared_negatives, **common)
    if algo != "glove":
        # numba loads the compiled kernels from its cache (or compiles them) once per process
        warm = type(model)(model.algo, vector_size=8, min_count=1, epochs=1, workers=1)
        warm.train([["warm", "up", "the", "kernel"]] * 10, progress=False)
    started = time.perf_counter()
    corpus = prepare_corpus(path, SETTINGS["min_count"])
    kv = model.train(corpus, progress=False)
    return Timed(kv, time.perf_counter() - started, model.train_seconds)


def run_gensim(algo: str, path: Path, epochs: int, workers: int) -> Timed:
    from gensim.models import Word2Vec as GensimWord2Vec
    from gensim.models.word2vec import LineSentence

    started = time.perf_counter()
    model = GensimWord2Vec(
        vector_size=SETTINGS["dim"],
        window=SETTINGS["window"],
        negative=SETTINGS["negative"],
        sample=SETTINGS["sample"],
        min_count=SETTINGS["min_count"],
        workers=workers,
        sg=int(algo == "skipgram"),
        epochs=epochs,
    )
    sentences = LineSentence(str(path))  # 10,000-word sentences, as seqlab cuts them
    model.build_vocab(sentences)
    train_started = time.perf_counter()
    model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
    train_seconds = time.perf_counter() - train_started
    wv = model.wv
    kv = KeyedVectors(list(wv.index_to_key), wv.vectors)
    return Timed(kv, time.perf_counter() - started, train_seconds)


def run_fasttext_package(path: Path, epochs: int, workers: int) -> Timed:
    import fasttext

    started = time.perf_counter()
    model = fasttext.train_unsupervised(
        str(path),
        model="skipgram",
        dim=SETTINGS["dim"],
        ws=SETTINGS["window"],
        neg=SETTINGS["negative"],
        t=SETTINGS["sample"],
        minCount=SETTINGS["min_count"],
        epoch=epochs,
        thread=workers,
        minn=3,
        maxn=6,
        bucket=2_000_000,
        verbose=0,
    )
    words = [w for w in model.words if w != "</s>"]
    kv = KeyedVectors(words, np.stack([model.get_word_vector(w) for w in words]))
    return Timed(kv, time.perf_counter() - started, None)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument(
        "--glove-epochs",
        type=int,
        default=GLOVE_EPOCHS,
        help="passes over the co-occurrence matrix (GloVe needs more than word2vec)",
    )
    p.add_argument(
        "--glove-x-max", type=float, nargs="+", default=GLOVE_X_MAX, help="one GloVe row each"
    )
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--only", nargs="+", choices=ALGOS, default=list(ALGOS))
    p.add_argument("--max-tokens", type=int, default=None, help="cut the corpus (quick runs)")
    p.add_argument(
        "--repeats", type=int, default=1, help="interleaved runs of each row; medians shown"
    )
    p.add_argument(
        "--no-shared", action="store_true", help="skip the skip-gram shared-negatives row"
    )
    p.add_argument("--no-peer", action="store_true", help="skip gensim / fasttext")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        path, name = corpus_file(args.max_tokens, Path(tmp))
        tokens = sum(len(line.split()) for line in path.open("rb"))
        print(
            f"corpus {name}: {tokens:,} tokens, {args.epochs} epochs, {args.workers} workers, "
            f"{args.repeats} repeats, settings {SETTINGS}",
            flush=True,
        )
        from seqlab.embeddings.training import prepare_corpus

        itos = prepare_corpus(path, SETTINGS["min_count"]).vocab.itos
        rows = []
        for algo in args.only:
            runs = _runs(algo, path, args)
            timings: dict[str, list[Timed]] = {impl: [] for impl, _ in runs}
            for repeat in range(args.repeats):  # seqlab, peer, seqlab, peer...
                for impl, run in runs:
                    timed = run()
                    timings[impl].append(timed)
                    print(
                        f"  {algo} {impl} run {repeat + 1}: {timed.seconds:.1f} s end to end, "
                        f"{_seconds(timed.train_seconds)} training",
                        flush=True,
                    )
            epochs = args.glove_epochs if algo == "glove" else args.epochs
            for impl, done in timings.items():
                row = _row(algo, impl, done, tokens * epochs)
                row.update(evaluate(in_order(done[-1].kv, itos)))
                rows.append(row)
                print(_format(row), flush=True)
        _ratios(rows)
    print()
    print(
        f"$ python benchmarks/embeddings.py {' '.join(argv if argv is not None else sys.argv[1:])}"
    )
    print(table(rows, name, tokens, args))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "corpus": name,
                    "tokens": tokens,
                    "epochs": args.epochs,
                    "glove_epochs": args.glove_epochs,
                    "workers": args.workers,
                    "repeats": args.repeats,
                    "settings": SETTINGS,
                    "rows": rows,
                },
                indent=1,
            )
        )


def _runs(algo: str, path: Path, args) -> list[tuple[str, object]]:
    """The rows of one algorithm, seqlab's first: ``(impl, run)`` pairs."""
    epochs = args.glove_epochs if algo == "glove" else args.epochs
    if algo == "glove":
        return [
            (f"seqlab x_max={x:g}", lambda x=x: run_seqlab("glove", path, epochs, args.workers, x))
            for x in args.glove_x_max
        ]
    runs = [("seqlab", lambda: run_seqlab(algo, path, epochs, args.workers))]
    if algo == "skipgram" and not args.no_shared:  # the fast mode: negatives shared per window
        runs.append(
            (
                "seqlab shared negatives",
                lambda: run_seqlab("skipgram", path, epochs, args.workers, 100.0, True),
            )
        )
    if not args.no_peer and algo in ("skipgram", "cbow"):
        runs.append(("gensim 4.4", lambda: run_gensim(algo, path, epochs, args.workers)))
    if not args.no_peer and algo == "fasttext":
        runs.append(("fasttext pkg", lambda: run_fasttext_package(path, epochs, args.workers)))
    return runs


def _row(algo: str, impl: str, done: list[Timed], words: int) -> dict:
    """Medians of the runs of one implementation; words = corpus tokens x epochs."""
    seconds = statistics.median(t.seconds for t in done)
    row = {
        "algo": algo,
        "impl": impl,
        "seconds": seconds,
        "words_per_s": words / seconds,
        "runs_seconds": [t.seconds for t in done],
        "train_seconds": None,
        "train_words_per_s": None,
        "vocab": len(done[-1].kv),
    }
    if all(t.train_seconds is not None for t in done):
        row["train_seconds"] = statistics.median(t.train_seconds for t in done)
        row["train_words_per_s"] = words / row["train_seconds"]
    return row


def _ratios(rows: list[dict]) -> None:
    """``ratio`` (end to end) and ``train_ratio`` of every seqlab row against its peer."""
    for algo in {r["algo"] for r in rows}:
        peers = [r for r in rows if r["algo"] == algo and not r["impl"].startswith("seqlab")]
        if not peers:
            continue
        peer = peers[0]
        for row in rows:
            if row["algo"] == algo and row["impl"].startswith("seqlab"):
                row["ratio"] = row["words_per_s"] / peer["words_per_s"]
                if row["train_words_per_s"] and peer["train_words_per_s"]:
                    row["train_ratio"] = row["train_words_per_s"] / peer["train_words_per_s"]


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _format(row: dict) -> str:
    return ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in row.items()
        if k != "runs_seconds"
    )


def table(rows: list[dict], name: str, tokens: int, args) -> str:
    head = (
        "| algo | impl | end-to-end s | words/s | ratio | training s | training words/s | "
        "ratio | vocab | analogy (answered) | WS-353 ρ | SimLex ρ |"
    )
    lines = [
        f"corpus {name} ({tokens:,} tokens), {args.epochs} epochs, {args.workers} workers, "
        f"median of {args.repeats} interleaved run(s)",
        head,
        "|---|---|" + "---:|" * 7 + "---|---:|---:|",
    ]

    def number(value, spec):
        return "" if value is None else format(value, spec)

    for r in rows:
        analogy = f"{100 * r['analogy']:.1f}% ({r['answered']:,})" if "analogy" in r else "-"
        lines.append(
            f"| {r['algo']} | {r['impl']} | {r['seconds']:.1f} | {r['words_per_s']:,.0f} | "
            f"{number(r.get('ratio'), '.2f')} | {number(r['train_seconds'], '.1f') or '-'} | "
            f"{number(r['train_words_per_s'], ',.0f') or '-'} | "
            f"{number(r.get('train_ratio'), '.2f')} | {r['vocab']:,} | {analogy} | "
            f"{r.get('wordsim', float('nan')):.3f} | {r.get('simlex', float('nan')):.3f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
