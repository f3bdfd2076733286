"""The demo's translation section: a small German→English translator with attention, on Multi30k.

An encoder-decoder (`seqlab.tasks.translate`: bidirectional GRU encoder, GRU decoder with Luong
general attention, subword vocabularies) is trained for one epoch on the first 8,000 Multi30k
pairs — well under a minute on two cores — and translates a few new sentences with beam search;
the attention of the first one is drawn as a heatmap (output pieces × source pieces). Its BLEU
is far from the full model's (docs/tasks.md): the point is the shape of the task and the picture.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from seqlab.data import DatasetNotFoundError
from seqlab.tasks.translate import TranslateConfig
from seqlab.tasks.translate_plot import attention_heatmap
from seqlab.tasks.translate_run import train

#: small enough for the demo's budget
CONFIG = TranslateConfig(
    vocab_size=4000, embed_dim=128, hidden=128, decoder_hidden=256, epochs=1, batch_size=32
)
TRAIN_PAIRS = 8000
#: the tests run the section on a few hundred pairs
QUICK_TRAIN = 400
EXAMPLES = (
    "Ein Mann fährt Fahrrad.",
    "Zwei Hunde spielen im Schnee.",
    "Eine Frau sitzt auf einer Bank und liest ein Buch.",
)


def section(report, settings, echo) -> dict[str, Any]:
    """Train, translate, draw the attention; add the section to ``report``; return its figures."""
    limit = QUICK_TRAIN if settings.quick else TRAIN_PAIRS
    threads = torch.get_num_threads()
    torch.set_num_threads(min(threads, settings.workers))
    try:
        with tempfile.TemporaryDirectory() as work:
            config = replace(CONFIG, seed=settings.seed)
            translator, summary = train(
                "multi30k", "de", "en", config, work, quiet=True, limit=limit
            )
    except DatasetNotFoundError as err:
        echo(f"  skipped: {err}")
        return {"skipped": str(err)}
    finally:
        torch.set_num_threads(threads)
    translations = translator.translate(list(EXAMPLES), beam=5)
    png = Path(settings.out) / "translate_attention.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    source, output, weights = translator.attention(EXAMPLES[0], beam=5)
    attention_heatmap(source, output, weights, png)
    echo(
        f"  Multi30k de→en: {summary['epochs_run']} epoch on {limit:,} pairs in "
        f"{summary['train_time_s']:.0f} s; validation BLEU {summary['valid_bleu_greedy']:.1f} "
        "(greedy)"
    )
    for german, english in zip(EXAMPLES, translations, strict=True):
        echo(f"  {german}  →  {english}")
    part = report.section(
        "Many-to-many with a delay: translation",
        "An encoder (bidirectional GRU) reads the whole German sentence; only then does a "
        "decoder (GRU) write English, one subword at a time, attending to the encoder's "
        "states (Luong general attention). Beam search keeps the 5 best partial translations. "
        "A small model trained for one epoch: the full model is in docs/tasks.md.",
    )
    part.table(
        ["training pairs", "epochs", "train s", "valid BLEU (greedy)"],
        [[limit, summary["epochs_run"], summary["train_time_s"], summary["valid_bleu_greedy"]]],
    )
    rows = [list(p) for p in zip(EXAMPLES, translations, strict=True)]
    part.table(["German", "translation (beam 5)"], rows)
    part.image(png, f"Attention while translating {EXAMPLES[0]!r}: rows are output pieces.")
    return {
        "train_pairs": limit,
        "epochs": summary["epochs_run"],
        "train_s": summary["train_time_s"],
        "valid_bleu_greedy": summary["valid_bleu_greedy"],
        "translations": dict(zip(EXAMPLES, translations, strict=True)),
        "attention_png": str(png),
    }
