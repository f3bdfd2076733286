"""The demo's one-to-many section: names from a language, and captions of generated scenes.

Two small models, each trained for a few epochs (under half a minute each on two cores):

- a GRU that writes a name character by character, its state started from the language and
  the language fed at every step (`seqlab.tasks.generate`); it samples names for three
  languages and gives the most probable one of each by beam search;
- a CNN + LSTM captioner (Show and Tell, `seqlab.tasks.caption`) trained on generated shapes
  scenes (`seqlab.data.shapes`); a few test scenes, some with colour-shape pairs never seen in
  training, are drawn with their greedy captions into ``captions.png``.

Both are far smaller and shorter-trained than the models of ``seqlab generate train`` and
``seqlab caption train``, whose figures are in docs/tasks.md.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from seqlab.data import DatasetNotFoundError
from seqlab.tasks import classify_data
from seqlab.tasks.caption import CaptionConfig
from seqlab.tasks.caption import train as train_captioner
from seqlab.tasks.caption_eval import bleu, draw_captions, load_data
from seqlab.tasks.generate import GeneratorConfig
from seqlab.tasks.generate import train as train_generator

LANGUAGES = ("Korean", "Russian", "Italian")
#: sized for the demo's budget (about a minute for both on two cores): far from converged
NAMES_CONFIG = GeneratorConfig(hidden=128, epochs=2, batch_size=128, patience=None, lr=1e-2)
CAPTION_CONFIG = CaptionConfig(
    side=32, channels=16, embed_dim=32, hidden=128, epochs=4, patience=None, lr=4e-3
)
SCENES = {"scenes": 2000, "valid": 50, "test": 100}
#: the tests run the section on a few hundred names and scenes
QUICK = {"names": 800, "scenes": 200, "valid": 20, "test": 16, "epochs": 1}


def section(report, settings, echo, names=None) -> dict[str, Any]:
    """Train both models, sample and caption; add the section to ``report``; return figures.

    ``names`` replaces the names data set (the tests pass a tiny one).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(min(threads, settings.workers))
    try:
        figures = {"names": _names(report, settings, echo, names)}
        figures["shapes"] = _shapes(report, settings, echo)
    finally:
        torch.set_num_threads(threads)
    return figures


def _names(report, settings, echo, data) -> dict[str, Any]:
    try:
        data = data or classify_data.load("names")
    except DatasetNotFoundError as err:
        echo(f"  names skipped: {err}")
        return {"skipped": str(err)}
    config = replace(NAMES_CONFIG, seed=settings.seed)
    if settings.quick:
        data = replace(data, train=data.train[:: max(1, len(data.train) // QUICK["names"])])
        config = replace(config, epochs=QUICK["epochs"])
    with tempfile.TemporaryDirectory() as work:
        gen, summary = train_generator(data, config, work, quiet=True)
    languages = [lang for lang in LANGUAGES if lang in gen.labels] or list(gen.labels[:3])
    rows, figures = [], {"valid_nats_per_char": summary["valid_nats_per_char"], "samples": {}}
    for lang in languages:
        sampled = gen.sample(lang, 6, temperature=0.8, seed=settings.seed)
        best = gen.beam(lang, width=5)[0][0]
        rows.append([lang, ", ".join(sampled), best])
        figures["samples"][lang] = sampled
        echo(f"  {lang:8} {', '.join(sampled)}  (beam: {best})")
    part = report.section(
        "One-to-many: a name from a language",
        f"A GRU writes a name character by character from one input, the language, which "
        f"starts its state and is fed at every step (seqlab.tasks.generate; "
        f"{summary['epochs_run']} epochs, {summary['train_time_s']:.0f} s, validation "
        f"{summary['valid_nats_per_char']:.2f} nats per character). Sampled at temperature 0.8; "
        "the last column is the most probable name (beam search, width 5).",
    )
    part.table(["language", "sampled names", "most probable"], rows)
    return figures


def _shapes(report, settings, echo) -> dict[str, Any]:
    config = replace(CAPTION_CONFIG, seed=settings.seed)
    options = dict(SCENES, data_seed=settings.seed)
    if settings.quick:
        options.update({k: QUICK[k] for k in ("scenes", "valid", "test")})
        config = replace(config, epochs=QUICK["epochs"])
    pictures, captions, info, unseen = load_data("shapes", config.side, options)
    with tempfile.TemporaryDirectory() as work:
        cap, summary = train_captioner(pictures, captions, config, work, info, quiet=True)
    test = pictures["test"]
    found = [c.text for c in cap.caption(test)]
    scores = bleu(found, captions["test"])
    shown = list(range(8))
    png = Path(settings.out) / "captions.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    titles = ["held-out pair" if unseen["test"][i] else "seen pairs" for i in shown]
    draw_captions(test[shown], [found[i] for i in shown], png, titles=titles)
    echo(
        f"  shapes: {len(pictures['train']):,} scenes, {summary['epochs_run']} epochs in "
        f"{summary['train_time_s']:.0f} s; test BLEU-4 (greedy) {scores['bleu4']:.3f}"
    )
    for i in shown[:3]:
        echo(f"  {found[i]}")
    part = report.section(
        "One-to-many: a caption of a picture",
        "A small CNN, trained from scratch, reads a generated scene of two shapes; its features "
        "start an LSTM that writes the caption word by word (Show and Tell, "
        "seqlab.tasks.caption). The scenes are synthetic (seqlab.data.shapes): some test "
        "scenes hold colour-shape pairs never seen in training.",
    )
    part.table(
        ["training scenes", "epochs", "train s", "BLEU-1", "BLEU-4"],
        [
            [
                len(pictures["train"]),
                summary["epochs_run"],
                summary["train_time_s"],
                scores["bleu1"],
                scores["bleu4"],
            ]
        ],
    )
    part.image(png, "test scenes with their greedy captions")
    return {"bleu": scores, "train_time_s": summary["train_time_s"]}
