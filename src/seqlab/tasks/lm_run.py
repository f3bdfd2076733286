"""Training and evaluation runs of a language model, as ``seqlab lm train`` / ``eval`` do them.

``train`` writes into ``out``:

    out/run.json        the settings and the data of the run (a second ``train`` on ``out``
                        must agree with them, except ``epochs``: it resumes)
    out/training/       the Trainer's run directory (checkpoints, history, curves, train.log)
    out/model.json, model.safetensors, vocab.json
                        the model directory (`seqlab.tasks.model_dir`), written when training
                        ends, with the validation and test figures in ``info``
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from seqlab.tasks import run_record
from seqlab.tasks.lm import (
    LMConfig,
    LMInputError,
    TrainedLM,
    TruncatedBPTT,
    loader,
    optimizer_and_schedule,
)
from seqlab.tasks.lm_data import LMData, encode_known, read_text, reload_split, tokenize
from seqlab.train import TrainConfig, Trainer

#: Settings that may change when ``train`` is run again on the same ``out``.
RESUMABLE = ("epochs",)
CONFIG_DEFAULTS = run_record.defaults_of(LMConfig)


def train(
    data: LMData,
    config: LMConfig,
    out,
    quiet: bool = False,
    device: str = "auto",
    checkpoint_every: int | None = None,
    eval_batch_size: int = 1,
) -> tuple[TrainedLM, dict]:
    """Train on ``data``'s train stream, validate each epoch, score valid and test once at the end.

    Running it again with the same ``out`` and settings resumes (or, with more ``epochs``,
    trains further). Returns the trained model (best epoch) and the summary saved in its
    ``info``.
    """
    out = Path(out)
    check_run(out, data, config)
    lm = TrainedLM.untrained(data, config)
    optimizer, scheduler = optimizer_and_schedule(lm.model, config)
    step = TruncatedBPTT(config.level)
    train_config = TrainConfig(
        epochs=config.epochs,
        clip_norm=config.clip,
        metric="loss",
        seed=config.seed,
        device=device,
        quiet=quiet,
        item_name="tokens",
        checkpoint_every=checkpoint_every,
    )
    trainer = Trainer(
        lm.model,
        optimizer=optimizer,
        config=train_config,
        scheduler=scheduler,
        step=step,
        evaluate=step.evaluate,
    )
    world = trainer.world.size
    train_loader = loader(data.splits["train"], config.batch_size, config.bptt, world)
    valid_loader = loader(data.splits["valid"], config.batch_size, config.bptt, world)
    write_run(out, data, config)
    history = trainer.fit(train_loader, valid_loader, out=out / "training")
    if not trainer.world.is_main:
        return lm, {}
    train_time = sum(r.get("train_time_s", 0.0) for r in history.epochs)
    summary = {
        "data": data.name,
        "level": data.level,
        "vocab_size": len(data.vocab),
        "train_tokens": len(data.splits["train"]),
        "epochs_run": len(history.epochs),
        "best_epoch": history.best_epoch,
        "train_time_s": train_time,
        "tokens_per_s": sum(r.get("items", 0) for r in history.epochs) / max(train_time, 1e-9),
        "eval_batch_size": eval_batch_size,
    }
    started = time.perf_counter()
    for split in ("valid", "test"):
        if split in data.splits:
            summary[split] = lm.score(data.splits[split], eval_batch_size)
    summary["eval_time_s"] = time.perf_counter() - started
    lm.info = summary
    lm.save(out)
    return lm, summary


def evaluate(path, split: str = "valid", batch_size: int = 1, text=None) -> dict:
    """Score a saved model on ``split`` of its training data, or on a whole ``text`` file."""
    lm = TrainedLM.load(path)
    started = time.perf_counter()
    if text is not None:
        content, identity = read_text(text)
        ids = encode_known(lm.vocab, tokenize(content, lm.config.level))
        where = {"text": identity["text"]}
    else:
        ids = reload_split(lm.source, lm.vocab, split)
        where = {"data": lm.info.get("data", lm.source.get("dataset")), "split": split}
    if len(ids) < batch_size + 1:
        raise LMInputError(
            f"{len(ids)} tokens are too few to score with --batch-size {batch_size}: at least "
            f"{batch_size + 1} are needed"
        )
    metrics = lm.score(ids, batch_size)
    return {**where, **metrics, "batch_size": batch_size, "time_s": time.perf_counter() - started}


# --- the run file: what a second `train` on the same out must agree with ---


def run_settings(data: LMData, config: LMConfig) -> dict:
    return {"config": dataclasses.asdict(config), "source": data.source}


def check_run(out: Path, data: LMData, config: LMConfig) -> None:
    """Refuse to resume ``out`` with other data or settings (other than ``epochs``)."""
    run_record.check(out, run_settings(data, config), LMInputError, RESUMABLE, CONFIG_DEFAULTS)


def write_run(out: Path, data: LMData, config: LMConfig) -> None:
    run_record.write(out, run_settings(data, config))
