"""The demo's language-model section: a quick character LSTM on tinyshakespeare and a sample.

Many-to-many in its plainest form: the model reads the text one character at a time and
predicts the next one at every step. The section trains a one-layer LSTM for one pass over the
start of tinyshakespeare's training split (contiguous streams, the hidden state carried from
window to window and detached: truncated BPTT), scores the start of the validation split with
the whole text before every character, and continues the prompt ``ROMEO:`` character by
character, each step feeding back only the last character and the carried state.

The model is far from the default ``seqlab lm train tinyshakespeare`` (2×512, 8 epochs): it is
sized to train in about half a minute on two cores, which is enough for words, names and the
play's line layout to appear in the sample, though not for sense.
"""

from __future__ import annotations

import math
import shutil
import time
from dataclasses import replace
from typing import Any

from seqlab import data as datasets
from seqlab.data import DatasetError
from seqlab.tasks import lm_run
from seqlab.tasks.lm import config_for
from seqlab.tasks.lm_data import LMDataError, load_dataset

PROMPT = "ROMEO:"
SAMPLE_TOKENS = 300
TEMPERATURE = 0.8
#: model and data per mode: one layer; one pass over ``steps`` windows of B × T characters
SIZES = {
    False: {"hidden": 256, "steps": 400, "valid_chars": 20_000},
    True: {"hidden": 128, "steps": 100, "valid_chars": 5_000},
}
SETTINGS = {
    "layers": 1,
    "embed_dim": 32,
    "dropout": 0.0,
    "batch_size": 32,
    "bptt": 64,
    "lr": 4e-3,
    "epochs": 1,
}


def section(report, settings, echo) -> dict[str, Any]:
    """Train, score and sample the quick character model; add the section to ``report``.

    ``settings.quick`` selects the smaller size (for tests); the model directory goes to
    ``settings.out / "lm"``.

    Examples
    --------
    >>> from pathlib import Path
    >>> from seqlab.lab.demo import DemoSettings
    >>> from seqlab.lab.report import Report
    >>> figures = section(Report("demo"), DemoSettings(Path("runs/demo")), print)  # doctest: +SKIP
    >>> figures["valid"]["nats_per_token"] < 2.2  # doctest: +SKIP
    True
    """
    size = SIZES[settings.quick]
    try:
        if "tinyshakespeare" not in datasets.available():  # never download in the demo
            raise LMDataError(
                "tinyshakespeare is not found locally: set SEQLAB_DATA to the dataset mirror"
            )
        data = load_dataset("tinyshakespeare")
    except (DatasetError, LMDataError) as e:
        echo(f"  skipped: {e}")
        return {"skipped": str(e)}
    config = config_for("char", hidden=size["hidden"], seed=settings.seed, **SETTINGS)
    train_chars = size["steps"] * config.batch_size * config.bptt + 1
    splits = {
        "train": data.splits["train"][:train_chars],
        "valid": data.splits["valid"][: size["valid_chars"]],
    }
    data = replace(data, splits=splits)
    out = settings.out / "lm"
    shutil.rmtree(out, ignore_errors=True)  # a fresh run, never a resumed one
    echo(
        f"  LSTM 1×{config.hidden} on the first {train_chars - 1:,} characters "
        f"({size['steps']} windows of {config.batch_size}×{config.bptt}, Adam {config.lr:g})"
    )
    started = time.perf_counter()
    model, summary = lm_run.train(data, config, out, quiet=True, device="cpu")
    seconds = time.perf_counter() - started
    text = PROMPT + "".join(
        model.generate(
            model.encode_prompt(PROMPT)[0], SAMPLE_TOKENS, TEMPERATURE, seed=settings.seed
        )
    )
    valid = summary["valid"]
    echo(
        f"  {seconds:.1f} s; validation {valid['nats_per_token']:.3f} nats/char "
        f"({valid['bits_per_char']:.3f} bits); sample:\n{text}"
    )
    part = report.section(
        "Language model: characters of tinyshakespeare",
        "Many-to-many: an LSTM reads the text one character at a time and predicts the next "
        f"at every step. One layer of {config.hidden} units, one pass over the first "
        f"{train_chars - 1:,} characters of the training split in {size['steps']} windows of "
        f"{config.batch_size} streams × {config.bptt} characters, the hidden state carried "
        "from window to window and detached (truncated BPTT). The full default, "
        "`seqlab lm train tinyshakespeare`, trains a 2×512 LSTM for 8 epochs.",
    )
    rows = [
        ["training characters", train_chars - 1],
        ["training seconds (incl. scoring)", round(seconds, 1)],
        ["validation characters scored", valid["tokens"]],
        ["validation nats / char", valid["nats_per_token"]],
        ["validation bits / char", valid["bits_per_char"]],
        ["uniform guess, nats / char", _uniform_nats(len(model.vocab))],
    ]
    part.table(["figure", "value"], rows, "Training and the validation score")
    part.text(
        f"A sample of {SAMPLE_TOKENS} characters after the prompt {PROMPT!r} "
        f"(temperature {TEMPERATURE}, seed {settings.seed}):"
    )
    part.preformatted(text)
    return {
        "hidden": config.hidden,
        "train_characters": train_chars - 1,
        "seconds": seconds,
        "valid": valid,
        "prompt": PROMPT,
        "temperature": TEMPERATURE,
        "sample": text,
    }


def _uniform_nats(vocab_size: int) -> float:
    """The loss of a model that has learned nothing: ln of the alphabet's size."""
    return math.log(vocab_size)
