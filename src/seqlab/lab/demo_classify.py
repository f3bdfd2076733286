"""The demo's many-to-one section: a small sentiment classifier on MR, its predictions explained.

A bidirectional LSTM (random embeddings, no pretrained vectors) is trained for two epochs on
movie-review snippets (``rt_polarity``, seqlab's seeded split) — about half a minute on two
cores — scored on the test split, and asked about a few new sentences; each answer comes with
the gradient × input attribution of every word (`seqlab.tasks.explain`), as a table in the
report and as highlighted text in ``classify_attributions.html``.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from seqlab.data import DatasetNotFoundError
from seqlab.tasks import classify_data
from seqlab.tasks.classify import ClassifierConfig, evaluate, train
from seqlab.tasks.explain import attribute, terminal_line, write_html

#: small enough for the demo's 60-second budget on 2 cores: 11 s of CPU time on one thread
CONFIG = ClassifierConfig(embed_dim=32, hidden=32, epochs=2, patience=None)
#: the tests run the section on a few hundred snippets
QUICK_TRAIN = 1500
EXAMPLES = (
    "a gorgeous, witty and moving film",
    "the plot is thin and the jokes fall flat",
    "not bad at all, though a little too long",
    "a dull, lifeless mess that wastes its cast",
)


def section(report, settings, echo, data=None) -> dict[str, Any]:
    """Train, test and explain; add the section to ``report``; return its figures.

    ``data`` replaces MR (the tests pass a tiny set); ``settings.quick`` trains on a sample.
    """
    try:
        data = data or classify_data.load("rt_polarity")
    except DatasetNotFoundError as err:
        echo(f"  skipped: {err}")
        return {"skipped": str(err)}
    if settings.quick:
        data = replace(data, train=data.train[:: max(1, len(data.train) // QUICK_TRAIN)])
    threads = torch.get_num_threads()
    # the steps of so small a model are too short to share: on the loaded 2-core machine a
    # second thread made the section take 93 s of CPU time instead of 11
    torch.set_num_threads(1)
    try:
        with tempfile.TemporaryDirectory() as work:
            clf, summary = train(data, replace(CONFIG, seed=settings.seed), work, quiet=True)
    finally:
        torch.set_num_threads(threads)
    test = evaluate(clf, data.test)
    attrs = [attribute(clf, text) for text in EXAMPLES if _known(clf, text)]
    html = Path(settings.out) / "classify_attributions.html"
    html.parent.mkdir(parents=True, exist_ok=True)
    write_html(html, attrs)
    echo(
        f"  MR: {len(data.train):,} training snippets, {summary['epochs_run']} epochs in "
        f"{summary['train_time_s']:.0f} s; test accuracy {test['accuracy']:.3f}"
    )
    for attr in attrs:
        echo(f"  {attr.label:8} {attr.probability:.2f}  {terminal_line(attr, color=False)}")
    part = report.section(
        "Many-to-one: sentiment of a movie review",
        "A bidirectional LSTM reads a snippet and classifies it from the max over its states "
        "(seqlab.tasks.classify; random embeddings, no outside knowledge). Each word's score "
        "is gradient × input on its embedding: positive pushes towards the predicted class.",
    )
    part.table(
        ["training snippets", "epochs", "train s", "valid acc.", "test acc."],
        [
            [
                len(data.train),
                summary["epochs_run"],
                summary["train_time_s"],
                summary["valid_accuracy"],
                test["accuracy"],
            ]
        ],
    )
    part.table(
        ["text", "predicted", "probability", "words [attribution]"],
        [[a.text, a.label, a.probability, terminal_line(a, color=False)] for a in attrs],
    )
    part.text(f"The same attributions as highlighted text: {html}")
    return {
        "train_examples": len(data.train),
        "epochs": summary["epochs_run"],
        "train_s": summary["train_time_s"],
        "valid_accuracy": summary["valid_accuracy"],
        "test_accuracy": test["accuracy"],
        "predictions": [
            {"text": a.text, "label": a.label, "probability": a.probability} for a in attrs
        ],
        "html": str(html),
    }


def _known(clf, text: str) -> bool:
    """Whether some word of ``text`` is in the vocabulary (a tiny test set may lack them all)."""
    return bool((clf.encode(text, strict=False)[1] != clf.vocab.unk_id).any())
