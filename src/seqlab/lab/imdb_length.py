"""``imdb-length``: on real reviews, the vanilla RNN falls off as the text gets longer.

Three classifiers of equal size — tanh RNN, LSTM and GRU, one unidirectional layer of the same
width, reading the same embeddings — are trained on IMDB with `seqlab.tasks.classify.train` and
classify from their **last** hidden state, so everything a review said has to be carried to its
end through the recurrence. Test accuracy is then split by review length (in tokens). The
lecture's claim: the gated cells hold what they read across hundreds of steps, the tanh RNN's
gradient (and memory) fades, so its accuracy drops most on the longest reviews.

No pretrained vectors: the embeddings start random. Run it: ``seqlab lab imdb-length``
(about ten minutes on 2 cores; ``--quick``: a small sample, a smoke test, not a finding).
"""

from __future__ import annotations

import itertools
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from seqlab.lab.experiment import figure, marker, record, reproducible
from seqlab.tasks import classify_data
from seqlab.tasks.classify import ClassifierConfig, train
from seqlab.tasks.classify_data import ClassificationData, default_tokenizer

CELLS = ("rnn", "lstm", "gru")
#: upper edges of the length buckets, in tokens (the last bucket is everything longer)
EDGES = (150, 250, 400)


@dataclass(frozen=True)
class Setting:
    """How much data and model a run uses."""

    train: int | None  # reviews of train used (None: all 22,500)
    test: int | None  # reviews of test scored (None: all 25,000)
    config: ClassifierConfig


FULL = Setting(
    None,
    None,
    ClassifierConfig(
        embed_dim=64, hidden=64, bidirectional=False, pooling="last", max_tokens=800, epochs=2
    ),
)
QUICK = Setting(
    1200,
    800,
    ClassifierConfig(
        embed_dim=32,
        hidden=32,
        bidirectional=False,
        pooling="last",
        max_tokens=250,
        epochs=1,
        max_vocab=10_000,
    ),
)


def bucket_names(edges=EDGES) -> list[str]:
    """Readable names of the length buckets.

    Examples
    --------
    >>> bucket_names((10, 20))
    ['≤ 10', '11–20', '> 20']
    """
    middle = [f"{lo + 1}–{hi}" for lo, hi in itertools.pairwise(edges)]
    return [f"≤ {edges[0]}", *middle, f"> {edges[-1]}"]


def sample(examples, n: int | None, seed: int):
    """``n`` examples drawn without replacement (all when ``n`` is None or larger)."""
    if n is None or n >= len(examples):
        return list(examples)
    rng = np.random.default_rng(seed)
    return [examples[i] for i in sorted(rng.choice(len(examples), n, replace=False))]


def accuracy_by_length(clf, examples, edges=EDGES) -> tuple[list[float], list[int]]:
    """Accuracy in each length bucket (NaN where a bucket is empty) and the bucket sizes."""
    lengths = np.array([len(clf.tokenizer(t)) for t, _ in examples])
    gold = np.array([y for _, y in examples])
    pred = clf.probabilities([t for t, _ in examples], strict=False).argmax(1)
    bucket = np.searchsorted(np.asarray(edges), lengths, side="left")
    accs, sizes = [], []
    for b in range(len(edges) + 1):
        chosen = bucket == b
        sizes.append(int(chosen.sum()))
        accs.append(float((pred[chosen] == gold[chosen]).mean()) if chosen.any() else float("nan"))
    return accs, sizes


def run(
    out_dir: str | Path, quick: bool = False, seed: int = 0, data: ClassificationData | None = None
) -> dict[str, Any]:
    """Train tanh RNN, LSTM and GRU of equal size on IMDB; test accuracy by review length.

    ``data`` replaces IMDB (the tests pass a tiny set).
    """
    started = time.perf_counter()
    setting = QUICK if quick else FULL
    data = data or classify_data.load("imdb")
    train_rows = sample(data.train, setting.train, seed)
    valid_rows = sample(data.valid, None if setting.train is None else setting.train // 5, seed)
    test_rows = sample(data.test, setting.test, seed)
    subset = replace(data, train=train_rows, valid=valid_rows, test=test_rows)
    results: dict[str, dict[str, Any]] = {}
    with reproducible(seed), tempfile.TemporaryDirectory() as work:
        for cell in CELLS:
            config = replace(setting.config, cell=cell, seed=seed)
            clf, summary = train(
                subset, config, Path(work) / cell, default_tokenizer("imdb"), quiet=True
            )
            accs, sizes = accuracy_by_length(clf, test_rows)
            overall = float(np.nansum(np.array(accs) * sizes) / max(sum(sizes), 1))
            results[cell] = {
                "accuracy": overall,
                "by_length": accs,
                "sizes": sizes,
                "train_s": summary["train_time_s"],
            }
    names = bucket_names()
    fig, (ax,) = figure()
    for i, cell in enumerate(CELLS):
        ax.plot(names, results[cell]["by_length"], label=cell, **marker(i))
    ax.set(xlabel="review length (tokens)", ylabel="test accuracy", title="IMDB by length")
    ax.legend()
    headers = ["cell", "all", *names]
    rows = [[cell, results[cell]["accuracy"], *results[cell]["by_length"]] for cell in CELLS]
    rows.append(["reviews", sum(results["rnn"]["sizes"]), *results["rnn"]["sizes"]])
    longest = {cell: results[cell]["by_length"][-1] for cell in CELLS}
    drop = {cell: results[cell]["by_length"][0] - longest[cell] for cell in CELLS}
    checks = {
        "on the longest reviews the tanh RNN is below both LSTM and GRU": (
            longest["rnn"] < min(longest["lstm"], longest["gru"])
        ),
        "from the shortest to the longest reviews the tanh RNN loses more than LSTM and GRU": (
            drop["rnn"] > max(drop["lstm"], drop["gru"])
        ),
    }
    numbers = {
        "edges": list(EDGES),
        "train_reviews": len(train_rows),
        "test_reviews": len(test_rows),
        "config": {
            k: getattr(setting.config, k) for k in ("embed_dim", "hidden", "max_tokens", "epochs")
        },
        "results": results,
    }
    return record(
        out_dir,
        name="imdb-length",
        title="IMDB test accuracy by review length: tanh RNN vs LSTM vs GRU (last state)",
        claim="A vanilla (tanh) RNN forgets over long inputs: on long reviews it falls behind "
        "the gated LSTM and GRU of the same size.",
        quick=quick,
        seed=seed,
        started=started,
        headers=headers,
        rows=rows,
        numbers=numbers,
        checks=checks,
        fig=fig,
    )
