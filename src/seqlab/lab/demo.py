"""``seqlab demo``: the datasets, the embeddings and every lab experiment in one report.

Steps, each announced as it starts:

1. the figures of every locally available dataset (``seqlab.data.summarize``);
2. skip-gram vectors trained on the best corpus (text8, else wiki_text8), the nearest words of
   "study" and "skill", the lecture's analogies, and the standard benchmarks when present;
3. every lab experiment in quick mode, with the vectors of step 2 for ``onehot-vs-embedding``;
4. a small trained model of each task (`seqlab.lab.demo_sections`);
5. ``<out>/report.html`` (self-contained) and ``<out>/report.json``.

The report reads results first: what each experiment showed, the embeddings, each experiment
in detail; the dataset figures, which are reference material, come after them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqlab import data, lab
from seqlab.lab import vectors as vec
from seqlab.lab.demo_sections import SECTIONS
from seqlab.lab.report import Report, Section, format_cell, format_table
from seqlab.lab.vectors import NoCorpusError, best_corpus

#: corpus tokens and epochs of the skip-gram training; None tokens = the whole corpus
TRAINING = {False: {"tokens": None, "epochs": 3}, True: {"tokens": 2_000_000, "epochs": 3}}
#: figures that sum across a dataset's splits into its overview row
_COUNTED = {"tokens": ("tokens", "characters"), "items": ("examples", "pairs", "questions")}


@dataclass
class DemoSettings:
    """What the demo runs: output folder, quick mode, and the embedding training."""

    out: Path = Path("runs/demo")
    quick: bool = False
    tokens: int | None = None  # None: the TRAINING default of the mode
    epochs: int | None = None
    workers: int = 2
    seed: int = 0

    def training(self) -> tuple[int | None, int]:
        default = TRAINING[self.quick]
        tokens = self.tokens if self.tokens is not None else default["tokens"]
        return tokens, self.epochs or default["epochs"]


def flatten(figures: dict, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested figures as ("splits.train.tokens", 929589) pairs, in order.

    Examples
    --------
    >>> flatten({"bytes": 5, "splits": {"train": {"tokens": 9}}})
    [('bytes', 5), ('splits.train.tokens', 9)]
    """
    out: list[tuple[str, Any]] = []
    for key, value in figures.items():
        if isinstance(value, dict):
            out.extend(flatten(value, f"{prefix}{key}."))
        else:
            out.append((f"{prefix}{key}", value))
    return out


def overview_row(name: str, figures: dict) -> list[Any]:
    """dataset, task, MB, tokens, vocabulary, examples/pairs (whole-dataset figures, else the
    sum over its splits).

    Examples
    --------
    >>> overview_row("toy", {"task": "lm", "bytes": 2_000_000,
    ...     "splits": {"train": {"tokens": 90, "vocab": 9}, "test": {"tokens": 10, "vocab": 4}}})
    ['toy', 'lm', 2.0, 100, 9, None]
    """
    splits = figures.get("splits", {})

    def total(names: tuple[str, ...]) -> int | None:
        for key in names:
            if isinstance(figures.get(key), int):
                return figures[key]
        values = [
            split[key]
            for split in splits.values()
            for key in names
            if isinstance(split.get(key), int)
        ]
        return sum(values) if values else None

    vocab = figures.get("vocab")
    if vocab is None:  # split datasets: the training split's vocabulary
        vocab = splits.get("train", {}).get("vocab")
    size = figures.get("bytes")
    return [
        name,
        figures.get("task", ""),
        round(size / 1e6, 2) if size else None,
        total(_COUNTED["tokens"]),
        vocab,
        total(_COUNTED["items"]),
    ]


def datasets_section(report: Report, echo) -> tuple[dict[str, Any], Section]:
    """Step 1: summarize every available dataset; a failing one is reported, not fatal.

    Returns the figures and the report section that shows them (reference material: the demo
    moves it after the results).
    """
    names = data.available()
    try:
        corpus = best_corpus()
    except NoCorpusError:
        corpus = None  # step 2 reports it
    if corpus is not None and corpus not in names:
        names.append(corpus)  # wiki_text8 not built yet: it is, now, for step 2 anyway
    summaries: dict[str, Any] = {}
    if not names:
        echo("  no dataset found locally: set SEQLAB_DATA to the dataset mirror")
    for i, name in enumerate(names, 1):
        echo(f"  [{i}/{len(names)}] {name} ...")
        try:
            figures = data.summarize(name)
        except (data.DatasetError, OSError, ValueError) as err:
            summaries[name] = {"error": str(err)}
            echo(f"      could not summarize {name}: {err}")
            continue
        summaries[name] = figures
        echo(
            "      "
            + "; ".join(
                f"{k} {format_cell(v)}"
                for k, v in flatten(figures)
                if k not in ("name", "license", "source")
            )
        )
    section = report.section(
        "Datasets",
        "The figures of seqlab.data.summarize(name) for every dataset found locally: an "
        "overview, then each dataset's own figures (click a name to open them).",
    )
    headers = ["dataset", "task", "MB", "tokens", "vocabulary", "examples / pairs"]
    rows = [overview_row(n, f) for n, f in summaries.items() if "error" not in f]
    section.table(
        headers,
        rows,
        "Overview: tokens and examples summed over splits; vocabulary of the whole corpus or "
        "of its training split",
    )
    echo(format_table(headers, rows))
    for name, figures in summaries.items():
        if "error" in figures:
            section.text(f"{name}: could not be summarized: {figures['error']}")
        else:
            section.folded_table(name, ["figure", "value"], [list(kv) for kv in flatten(figures)])
    return summaries, section


def embeddings_section(report: Report, settings: DemoSettings, echo):
    """Step 2: train skip-gram vectors, query them, score them on the benchmarks present."""
    tokens, epochs = settings.training()
    corpus = vec.best_corpus()
    amount = "the whole corpus" if tokens is None else f"its first {tokens:,} tokens"
    echo(f"  skip-gram on {corpus} ({amount}, {epochs} epoch(s), {settings.workers} workers)")
    trained = vec.train_vectors(
        corpus, tokens=tokens, epochs=epochs, workers=settings.workers, seed=settings.seed + 1
    )
    kv = trained.kv
    echo(f"  {len(kv):,} words × {kv.vector_size} dimensions in {trained.seconds:.1f} s")
    nearest = vec.nearest_words(kv)
    answers = vec.analogies(kv)
    section = report.section(
        "Word embeddings",
        f"Skip-gram (negative sampling) trained on {corpus}, {amount}, {epochs} epoch(s): "
        f"{len(kv):,} words × {kv.vector_size} dimensions in {trained.seconds:.1f} s.",
    )
    near_rows = []
    for word, found in nearest.items():
        text = (
            ", ".join(f"{w} {c:.2f}" for w, c in found["nearest"])
            if "nearest" in found
            else found["note"]
        )
        near_rows.append([word, text])
    section.table(
        ["word", "nearest words (cosine)"], near_rows, "The 10 nearest words of each query word"
    )
    echo(format_table(["word", "nearest words (cosine)"], near_rows))
    analogy_rows = [
        [
            a["query"],
            ", ".join(f"{w} {s:.2f}" for w, s in a["answers"]) if "answers" in a else a["note"],
        ]
        for a in answers
    ]
    section.table(
        ["analogy", "answers (cosine)"],
        analogy_rows,
        "Analogies: the words closest to b − a + c (3CosAdd), the query words excluded",
    )
    echo(format_table(["analogy", "answers (cosine)"], analogy_rows))
    scores = benchmark_scores(kv, set(data.available()), echo)
    if scores:
        section.table(
            ["benchmark", "score", "answered / pairs"],
            [[k, v["score"], v["count"]] for k, v in scores.items()],
            "Standard benchmarks: analogy accuracy (3CosAdd, 30,000 most frequent words); "
            "similarity: Spearman correlation with human ratings",
        )
    numbers = {
        "corpus": corpus,
        "tokens": tokens,
        "epochs": epochs,
        "vocab": len(kv),
        "vector_size": kv.vector_size,
        "train_seconds": trained.seconds,
        "loss_history": trained.settings.get("loss_history", []),
        "nearest": nearest,
        "analogies": answers,
        "benchmarks": scores,
    }
    return trained, numbers


def benchmark_scores(kv, local: set[str], echo) -> dict[str, dict[str, Any]]:
    """Google analogy accuracy and WordSim-353 Spearman, for those found locally."""
    scores: dict[str, dict[str, Any]] = {}
    if "google_analogy" in local:
        result = kv.evaluate_analogies("google_analogy")
        scores["google analogy"] = {"score": result.accuracy, "count": result.answered}
    if "wordsim353" in local:
        result = kv.evaluate_pairs("wordsim353")
        scores["wordsim353"] = {"score": result.spearman, "count": result.pairs}
    for name, s in scores.items():
        echo(f"  {name}: {s['score']:.4f} over {s['count']}")
    return scores


def experiment_section(report: Report, result: dict[str, Any]) -> None:
    """One lab experiment: the lecture's claim, what this run showed, its tables, checks and
    plot."""
    section = report.section(f"Experiment {result['name']}", f"Claim: {result['claim']}")
    section.finding("This run:", result["finding"])
    section.table(result["headers"], result["rows"], result["title"])
    for table in result.get("extra_tables", []):
        section.table(table["headers"], table["rows"], table["caption"])
    section.checks(result["checks"])
    section.image(
        Path(result["png"]), f"{result['name']} ({result['seconds']:.1f} s, seed {result['seed']})"
    )


def analogy_line(answers: list[dict[str, Any]]) -> str:
    """The lecture's analogies and each top answer (or why there is none), in one line.

    Examples
    --------
    >>> analogy_line([{"query": "a − b + c", "answers": [["d", 0.7]]},
    ...               {"query": "x − y + z", "note": "the corpus lacks 'x'"}])
    "a − b + c → d; x − y + z: the corpus lacks 'x'."
    """
    parts = [
        f"{a['query']} → {a['answers'][0][0]}" if "answers" in a else f"{a['query']}: {a['note']}"
        for a in answers
    ]
    return "; ".join(parts) + "."


def glance_rows(results: dict[str, Any]) -> list[list[Any]]:
    """One row per experiment for the top of the report: checks held, and what the run showed.

    Examples
    --------
    >>> glance_rows({"x": {"checks": {"a": True, "b": False}, "finding": "1 of 2 hold."}})
    [['x', '1 / 2', '1 of 2 hold.']]
    """
    return [
        [name, f"{sum(r['checks'].values())} / {len(r['checks'])}", r["finding"]]
        for name, r in results.items()
    ]


def run_demo(settings: DemoSettings, echo=print) -> dict[str, Any]:
    """Run the whole demo and write the report; returns the content of ``report.json``.

    Examples
    --------
    >>> out = run_demo(DemoSettings(out=Path("runs/demo"), quick=True))  # doctest: +SKIP
    >>> sorted(out["experiments"])  # doctest: +SKIP
    ['feedforward-vs-rnn', 'gradient-flow', 'long-range', 'onehot-vs-embedding', 'relu-explosion']
    """
    started = time.perf_counter()
    report = Report("seqlab demo: word embeddings, the lab, and the datasets")
    glance = report.section(
        "Results at a glance",
        "Each experiment tests a claim of the lecture; the checks are computed from its numbers.",
    )
    timings: dict[str, float] = {}
    steps = 2 + len(lab.EXPERIMENTS) + len(SECTIONS)

    def step(i: int, what: str) -> float:
        echo(f"\n[{i}/{steps}] {what}")
        return time.perf_counter()

    t = step(1, "datasets")
    report.data["datasets"], datasets = datasets_section(report, echo)
    timings["datasets"] = time.perf_counter() - t

    t = step(2, "word embeddings")
    trained, report.data["embeddings"] = embeddings_section(report, settings, echo)
    timings["embeddings"] = time.perf_counter() - t

    results: dict[str, Any] = {}
    for i, name in enumerate(lab.EXPERIMENTS, 3):
        t = step(i, f"experiment {name} (quick)")
        extra = {"vectors": trained} if name == "onehot-vs-embedding" else {}
        results[name] = lab.run(name, settings.out / "lab", quick=True, seed=settings.seed, **extra)
        experiment_section(report, results[name])
        timings[name] = time.perf_counter() - t
    report.data["experiments"] = results

    report.data["tasks"] = {}
    for i, (key, title, run) in enumerate(SECTIONS, 3 + len(lab.EXPERIMENTS)):
        t = step(i, title)
        report.data["tasks"][key] = run(report, settings, echo)
        timings[key] = time.perf_counter() - t
    glance.table(["experiment", "checks held", "this run"], glance_rows(results))
    glance.text("Word embeddings: " + analogy_line(report.data["embeddings"]["analogies"]))
    report.move_to_end(datasets)

    timings["total"] = time.perf_counter() - started
    report.data["settings"] = {
        "quick": settings.quick,
        "tokens": settings.training()[0],
        "epochs": settings.training()[1],
        "workers": settings.workers,
        "seed": settings.seed,
    }
    report.data["seconds"] = {k: round(v, 2) for k, v in timings.items()}
    section = report.section("Timings", "Wall-clock seconds of each step of this run.")
    section.table(["step", "seconds"], [[k, v] for k, v in report.data["seconds"].items()])
    html_path, json_path = report.write(settings.out)
    echo(f"\nreport: {html_path}\n        {json_path}\ntotal {timings['total']:.1f} s")
    return {"title": report.title, **report.data}
