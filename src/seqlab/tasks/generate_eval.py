"""Training and scoring a name generator: the run, the judge, held-out likelihood and agreement.

``seqlab generate train names --out DIR`` writes two model directories::

    DIR/          the generator (task ``generate``; DIR/training: its checkpoints)
    DIR/judge/    a names classifier (task ``classify``) trained on the same split

Agreement is the share of generated names that the judge assigns to the language they were
generated for, averaged over the languages (each language counts the same, however many
names it has; chance is 1/18 ≈ 6 %). The judge is trained with balanced class weights: a
classifier that rarely predicts the small languages (Korean, Vietnamese, Arabic) would call
every generated Korean name wrong, whatever the generator did. It learns from the training
names only, as the generator does; the held-out names are scored once, by `evaluate`.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from seqlab.tasks import classify_data, run_record
from seqlab.tasks.classify import Classifier, train_run
from seqlab.tasks.generate import GenerateInputError, GeneratorConfig, NameGenerator, train

JUDGE = "judge"
#: The judge's settings: the names classifier's defaults with balanced class weights.
JUDGE_OPTIONS = {"class_weight": "balanced", "epochs": 10}
CONFIG_DEFAULTS = run_record.defaults_of(GeneratorConfig)


def train_generator(dataset: str, out, options: dict, quiet: bool = False) -> dict:
    """Train the generator, then the judge, on ``dataset``'s split; resumable on the same ``out``.

    A second call with the same ``out`` must give the same settings (``epochs`` may change).
    """
    out = Path(out)
    if dataset != "names":
        raise GenerateInputError(
            f"unknown dataset {dataset!r}: conditional generation is trained on names"
        )
    data = classify_data.load(dataset)
    config = GeneratorConfig(**options)
    _check_run(out, config)
    started = time.perf_counter()
    _, summary = train(data, config, out, quiet=quiet)
    _, judge = train_run(data, out / JUDGE, dict(JUDGE_OPTIONS), quiet=quiet)
    summary["judge_valid_accuracy"] = judge.get("valid_accuracy")
    summary["total_time_s"] = time.perf_counter() - started
    return summary


def _check_run(out: Path, config: GeneratorConfig) -> None:
    """Refuse to resume ``out`` with other settings (other than ``epochs``), then record them."""
    run = {"config": dataclasses.asdict(config)}
    run_record.check(out, run, GenerateInputError, defaults=CONFIG_DEFAULTS)
    run_record.write(out, run)


def load_judge(path, judge=None) -> Classifier:
    """The judge saved beside the generator in ``path`` (or the classifier in ``judge``)."""
    where = Path(judge) if judge is not None else Path(path) / JUDGE
    return Classifier.load(where)


def agreement(
    gen: NameGenerator,
    judge: Classifier,
    n: int = 100,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
    known: set | None = None,
) -> dict:
    """Share of ``n`` sampled names per language that ``judge`` assigns to that language.

    ``known`` (the training names) also gives the share of samples that are new names.
    Languages the judge does not know are refused.
    """
    missing = [label for label in gen.labels if label not in judge.labels]
    if missing:
        raise GenerateInputError(
            f"the judge does not know {', '.join(missing)}: give a names classifier trained on "
            "the generator's languages"
        )
    per, novel, examples = {}, {}, {}
    for i, label in enumerate(gen.labels):
        names = gen.sample(label, n, temperature=temperature, top_k=top_k, seed=seed + i)
        kept = [name for name in names if name]
        if not kept:
            per[label] = 0.0
            continue
        probs = judge.probabilities(kept, strict=False)
        predicted = [judge.labels[j] for j in probs.argmax(1)]
        per[label] = float(np.mean([p == label for p in predicted]) * len(kept) / len(names))
        if known is not None:
            novel[label] = float(np.mean([name not in known for name in kept]))
        examples[label] = names[:5]
    result = {
        "agreement": float(np.mean(list(per.values()))),
        "per_label": per,
        "n": n,
        "temperature": temperature,
        "top_k": top_k,
        "seed": seed,
        "examples": examples,
    }
    if novel:
        result["novel"] = float(np.mean(list(novel.values())))
    return result


def evaluate(
    path,
    split: str = "test",
    n: int = 100,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
    judge=None,
) -> dict:
    """Held-out nats per character per language, and the agreement of samples with the judge."""
    gen = NameGenerator.load(path)
    source = gen.info.get("source") or {}
    if source.get("dataset") != "names":
        raise GenerateInputError(f"{path}: the model does not say it was trained on names")
    data = classify_data.load("names")
    examples = getattr(data, split)
    started = time.perf_counter()
    nll = gen.nll(examples)
    known = {name for name, _ in data.train}
    classifier = load_judge(path, judge)
    agree = agreement(gen, classifier, n, temperature, top_k, seed, known)
    return {
        "split": split,
        "nats_per_char": nll["nats_per_char"],
        "nats_per_char_per_label": nll["per_label"],
        **agree,
        "judge_on_real_names": judge_recall(classifier, examples),
        "time_s": time.perf_counter() - started,
    }


def judge_recall(judge: Classifier, examples) -> dict:
    """The judge on real held-out names: the share of each language's names it assigns to that
    language, and their mean — the agreement a generator that wrote real names would get."""
    predicted = judge.probabilities([name for name, _ in examples], strict=False).argmax(1)
    gold = np.array([label for _, label in examples])
    per = {
        judge.labels[c]: float((predicted[gold == c] == c).mean())
        for c in range(len(judge.labels))
        if (gold == c).any()
    }
    return {"mean": float(np.mean(list(per.values()))), "per_label": per}
