"""SST-2 settings compared on other carves of validation sentences; the test split is not read.

SST-2's validation split (`seqlab.tasks.classify_data.carve_sentences`) is 689 whole sentences
of GLUE train: a point of accuracy is seven of them, and the seeds of one setting spread over
two points. To tell settings apart, this script carves other shares of the same size (carve
``k`` keys the stratified split with seed ``1000 + k``; carve 0 would be the official one) and,
on each, trains every setting's models (seeds ``0 … n − 1``, `seqlab.tasks.classify.train` with
SST-2's defaults under the setting, one model at a time), averages their probabilities, lets
the bag-of-n-grams model vote with the share of least log-loss on that carve, as ``--ngram-weight
auto`` does, and prints per carve and over all carves: the members' mean accuracy, their
average's, the vote's and its log-loss. GLUE dev, the test split, is never loaded.

    python benchmarks/classify_carves.py --carves 1 2 3 --seeds 3 --vectors enwiki-fasttext \\
        --setting default '{"sentence_repeat": 1}' --setting sentences3 '{"sentence_repeat": 3}'
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import torch

from seqlab import data as datasets
from seqlab.io import atomic_write
from seqlab.tasks import classify_ngrams
from seqlab.tasks.classify import DATASET_DEFAULTS, ClassifierConfig, train
from seqlab.tasks.classify_data import (
    CARVED_VALID,
    ClassificationData,
    carve_sentences,
    default_tokenizer,
)


def log_loss(p_positive: np.ndarray, gold: np.ndarray) -> float:
    p = np.where(gold == 1, p_positive, 1 - p_positive)
    return float(-np.log(np.maximum(p, 1e-12)).mean())


def carve(phrases, labels, k: int) -> ClassificationData:
    train_rows, valid_rows = carve_sentences(phrases, CARVED_VALID["sst2"], seed=1000 + k)
    return ClassificationData("sst2", labels, train_rows, valid_rows, None, source={"carve": k})


def run_setting(data, options: dict, seeds: int, workdir: Path) -> list[np.ndarray]:
    """Each seed's model's P(positive) on the carve's validation sentences."""
    texts = [t for t, _ in data.valid]
    probabilities = []
    for seed in range(seeds):
        config = ClassifierConfig(**{**options, "seed": seed, "ensemble": 1, "ngram_weight": 0})
        clf, summary = train(data, config, workdir / f"s{seed}", quiet=True)
        probabilities.append(clf.probabilities(texts, strict=False)[:, 1])
        print(f"  seed {seed}: valid {summary['valid_accuracy']:.4f}", flush=True)
    return probabilities


def figures(members: list[np.ndarray], ngrams: np.ndarray, gold: np.ndarray) -> dict:
    mean = np.mean(members, 0)
    share = classify_ngrams.vote_share(
        np.stack([1 - mean, mean], 1), np.stack([1 - ngrams, ngrams], 1), gold
    )
    vote = (1 - share) * mean + share * ngrams
    return {
        "members": float(np.mean([np.mean((p > 0.5) == gold) for p in members])),
        "average": float(np.mean((mean > 0.5) == gold)),
        "vote": float(np.mean((vote > 0.5) == gold)),
        "vote_log_loss": log_loss(vote, gold),
        "share": share,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--carves", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--seeds", type=int, default=3, help="models per setting and carve")
    parser.add_argument(
        "--setting",
        nargs=2,
        action="append",
        metavar=("NAME", "JSON"),
        required=True,
        help="a name and ClassifierConfig settings over SST-2's defaults; repeatable",
    )
    parser.add_argument("--vectors", default=None, help="enwiki-fasttext or a vectors file")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    settings = {name: json.loads(text) for name, text in args.setting}
    sst2 = datasets.load("sst2")
    tokenizer = default_tokenizer("sst2")
    report = {"seeds": args.seeds, "vectors": args.vectors, "settings": settings, "carves": {}}
    for k in args.carves:
        data = carve(sst2.train, sst2.labels, k)
        gold = np.array([y for _, y in data.valid])
        # one n-gram model per carve, with the defaults' penalty, votes for every setting
        tokens = [tokenizer(t) for t, _ in data.train]
        c = DATASET_DEFAULTS["sst2"]["ngram_c"]
        ngram_model = classify_ngrams.fit(tokens, [y for _, y in data.train], c)
        ngrams = ngram_model.probabilities([tokenizer(t) for t, _ in data.valid])[:, 1]
        report["carves"][k] = {}
        for name, setting in settings.items():
            print(f"carve {k}, {name}", flush=True)
            options = {**DATASET_DEFAULTS["sst2"], "vectors": args.vectors, **setting}
            with tempfile.TemporaryDirectory(prefix="classify_carves_") as workdir:
                members = run_setting(data, options, args.seeds, Path(workdir))
            report["carves"][k][name] = figures(members, ngrams, gold)
        if args.json:
            with atomic_write(args.json, "w", encoding="utf-8") as f:
                json.dump(report, f, indent=1)
    print(
        f"\n{'carve':>5} {'setting':14} {'members':>8} {'average':>8} {'vote':>7} {'log-loss':>9}"
    )
    for k, rows in report["carves"].items():
        for name, f in rows.items():
            print(
                f"{k:>5} {name:14} {f['members']:8.4f} {f['average']:8.4f} {f['vote']:7.4f} "
                f"{f['vote_log_loss']:9.4f}  (share {f['share']:g})"
            )
    for name in settings:
        rows = [report["carves"][k][name] for k in report["carves"]]
        mean = {key: np.mean([r[key] for r in rows]) for key in rows[0] if key != "share"}
        print(
            f"{'all':>5} {name:14} {mean['members']:8.4f} {mean['average']:8.4f} "
            f"{mean['vote']:7.4f} {mean['vote_log_loss']:9.4f}"
        )


if __name__ == "__main__":
    main()
