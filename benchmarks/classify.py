"""Sentiment: seqlab's recurrent classifier vs fastText vs the same model on torch.nn.

For each dataset, on the splits of ``seqlab.tasks.classify_data`` (the ones ``seqlab classify
train`` uses), in one run:

- **seqlab**: `seqlab.tasks.classify.train` with its defaults (`ClassifierConfig`, dataset
  defaults included), layers from ``seqlab.nn``;
- **torch.nn**: the same model, same initial weights seed, same batches, built on
  ``torch.nn.LSTM``/``GRU``/``RNN`` with packed sequences (``backend="torch"``). The two are
  trained interleaved, one epoch of each in turn (the first of the pair alternating), so that
  load on the machine hits both alike. ``ratio`` = seqlab's examples/s ÷ torch.nn's, end to end
  (training steps + validation). Where the defaults train an ensemble (``ensemble`` > 1), both
  backends train every member this way (seeds ``seed``, ``seed + 1``, …) and average their
  members' probabilities, as ``seqlab classify train`` does;
- with ``ngram_weight`` > 0 (the dataset defaults' n-gram vote), one bag-of-n-grams model
  (`seqlab.tasks.classify_ngrams`) is fitted on the training split and votes in both, with
  the share each backend's models choose on validation when the share is ``"auto"``; its
  fitting time is reported apart, and the accuracy of the recurrent models alone beside;
- **fastText** supervised (the ``fasttext`` wheel, one thread) on the same tokens, lines
  shuffled: default settings and ``wordNgrams=2``, the better on validation is scored on test
  (a setting whose training diverges to NaN is reported and skipped).

Every model picks its epoch / setting on validation; test is scored once at the end. With
``--vectors enwiki-fasttext`` both recurrent models start their embeddings from seqlab's
fastText vectors of enwiki_extract (`seqlab.embeddings.recipes`, built by ``seqlab classify
vectors``): the only outside knowledge any model gets. Example::

    python benchmarks/classify.py --datasets rt_polarity sst2 --vectors enwiki-fasttext \
        --json runs/classify_bench.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import fasttext
import torch

from seqlab.io import atomic_write
from seqlab.tasks import classify_data
from seqlab.tasks.classify import (
    DATASET_DEFAULTS,
    ClassifierConfig,
    combine,
    evaluate,
    train,
)
from seqlab.tasks.classify_ensemble import member_dir
from seqlab.tasks.classify_ngrams import fit_ngrams, vote_with_ngrams


def fasttext_run(data, tokenizer, workdir: Path, seed: int) -> dict:
    """Default and wordNgrams=2 fastText; the better on validation is scored on test."""

    def write(name, rows):
        # fastText's SGD reads the file in order: a file sorted by label (MR's) would leave it
        # at chance, so the lines are shuffled (seeded)
        rows = list(rows)
        random.Random(seed).shuffle(rows)
        path = workdir / f"{name}.txt"
        with open(path, "w", encoding="utf-8") as f:
            for text, label in rows:
                f.write(f"__label__{label} {' '.join(tokenizer(text))}\n")
        return path

    def accuracy(model, rows):
        texts = [" ".join(tokenizer(t)) for t, _ in rows]
        labels, _ = model.predict(texts)
        return sum(
            int(p[0].removeprefix("__label__")) == y for p, (_, y) in zip(labels, rows, strict=True)
        ) / len(rows)

    train_file = write("train", data.train)
    results = []
    for settings in ({}, {"wordNgrams": 2}):
        started = time.perf_counter()
        try:
            model = fasttext.train_supervised(
                str(train_file), seed=seed, thread=1, verbose=0, **settings
            )
        except RuntimeError as err:  # "Encountered NaN": its default lr 0.1 can diverge
            print(f"fastText {settings or 'default'}: {err}", flush=True)
            continue
        seconds = time.perf_counter() - started
        results.append((accuracy(model, data.valid), settings, seconds, model))
    valid, settings, seconds, model = max(results, key=lambda r: r[0])
    return {
        "settings": settings or "default",
        "valid_accuracy": valid,
        "test_accuracy": accuracy(model, data.test),
        "train_time_s": seconds,
        "examples_per_s": len(data.train) * 5 / seconds,  # fastText's default: 5 epochs
    }


def recurrent_pair(data, config: ClassifierConfig, workdir: Path) -> dict:
    """seqlab and torch.nn models trained interleaved, epoch by epoch; test scored at the end."""
    members = {"seqlab": [], "torch": []}
    for i in range(config.ensemble):
        member = dataclasses.replace(config, ensemble=1, seed=config.seed + i, ngram_weight=0.0)
        for epoch in range(1, config.epochs + 1):
            order = ("seqlab", "torch") if (epoch + i) % 2 else ("torch", "seqlab")
            for backend in order:
                cfg = dataclasses.replace(member, epochs=epoch, backend=backend)
                clf, summary = train(data, cfg, member_dir(workdir / backend, i), quiet=True)
                if epoch == config.epochs:  # the finished member, with its best epoch's weights
                    members[backend].append((clf, summary))
    result, ngrams = {}, None
    for backend, trained in members.items():
        records = []
        for i in range(len(trained)):
            history = member_dir(workdir / backend, i) / "training" / "history.json"
            records += json.loads(history.read_text())["epochs"]
        clf = combine([c for c, _ in trained]) if len(trained) > 1 else trained[0][0]
        alone = {}
        if config.ngram_weight:  # one n-gram model, fitted once, votes in both
            for split in ("valid", "test"):  # the recurrent models alone, for the record
                alone[f"recurrent_{split}_accuracy"] = evaluate(clf, getattr(data, split))[
                    "accuracy"
                ]
            if ngrams is None:
                started = time.perf_counter()
                ngrams = fit_ngrams(clf, data)
                result["ngram_fit_s"] = time.perf_counter() - started
            # each backend's share is chosen on its own models' validation probabilities
            vote_with_ngrams(clf, data, config.ngram_weight, ngrams)
            alone["ngram_weight"] = clf.config.ngram_weight
        train_s = sum(r["train_time_s"] for r in records)
        end_to_end = train_s + sum(r["valid_time_s"] for r in records)
        examples = sum(s["train_examples"] * s["epochs_run"] for _, s in trained)
        result[backend] = {
            "valid_accuracy": evaluate(clf, data.valid)["accuracy"],
            "members_valid_accuracy": [s["valid_accuracy"] for _, s in trained],
            "best_epoch": [s["best_epoch"] for _, s in trained],
            "epochs": len(records),
            "test_accuracy": evaluate(clf, data.test)["accuracy"],
            "train_time_s": train_s,
            "end_to_end_s": end_to_end,
            "examples_per_s": examples / end_to_end,
            **alone,
        }
    result["ratio"] = result["seqlab"]["examples_per_s"] / result["torch"]["examples_per_s"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["rt_polarity", "sst2"])
    parser.add_argument("--epochs", type=int, default=None, help="default: ClassifierConfig's")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--lr", type=float, default=None, help="default: ClassifierConfig's")
    parser.add_argument(
        "--ensemble", type=int, default=None, help="models averaged (default: the dataset's)"
    )
    parser.add_argument(
        "--vectors", default=None, help="enwiki-fasttext or a vectors file (default: none)"
    )
    parser.add_argument("--freeze", action="store_true", help="keep the vectors fixed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    report = {"threads": torch.get_num_threads(), "vectors": args.vectors, "datasets": {}}
    for name in args.datasets:
        data = classify_data.load(name)
        options = {**DATASET_DEFAULTS.get(data.name, {}), "seed": args.seed}
        if args.epochs:
            options["epochs"] = args.epochs
        if args.lr:
            options["lr"] = args.lr
        if args.ensemble:
            options["ensemble"] = args.ensemble
        if args.vectors:
            options.update(vectors=args.vectors, freeze=args.freeze)
        config = ClassifierConfig(**options)
        tokenizer = classify_data.default_tokenizer(data.name)
        workdir = Path(tempfile.mkdtemp(prefix=f"classify_bench_{name}_"))
        try:
            figures = {"fasttext": fasttext_run(data, tokenizer, workdir, args.seed)}
            figures.update(recurrent_pair(data, config, workdir))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        figures["config"] = dataclasses.asdict(config)
        figures["splits"] = {s: len(getattr(data, s)) for s in ("train", "valid", "test")}
        report["datasets"][name] = figures
        print(f"\n{name} (train/valid/test {figures['splits']}; vectors: {args.vectors})")
        print(f"{'model':10} {'valid':>7} {'test':>7} {'train s':>9} {'ex/s':>8}")
        for model in ("seqlab", "torch", "fasttext"):
            f = figures[model]
            seconds = f.get("end_to_end_s", f["train_time_s"])
            print(
                f"{model:10} {f['valid_accuracy']:7.4f} {f['test_accuracy']:7.4f} "
                f"{seconds:9.1f} {f['examples_per_s']:8.0f}"
            )
        for model in ("seqlab", "torch"):
            members = ", ".join(f"{a:.4f}" for a in figures[model]["members_valid_accuracy"])
            print(f"{model} members' valid accuracy: {members}")
            if "recurrent_valid_accuracy" in figures[model]:
                print(
                    f"{model} without the n-gram vote: valid "
                    f"{figures[model]['recurrent_valid_accuracy']:.4f}, test "
                    f"{figures[model]['recurrent_test_accuracy']:.4f}; the vote's share "
                    f"{figures[model]['ngram_weight']:g}"
                )
        if "ngram_fit_s" in figures:
            print(
                f"n-gram model fitted in {figures['ngram_fit_s']:.1f} s (not in the seconds above)"
            )
        print(
            f"ratio (seqlab ÷ torch.nn examples/s, end to end): {figures['ratio']:.2f}", flush=True
        )
        if args.json:
            with atomic_write(args.json, "w", encoding="utf-8") as f:
                json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
