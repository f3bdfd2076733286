"""``seqlab lm train | eval | sample``: language models on characters or words.

``train`` fits a model on tinyshakespeare (characters), ptb (words) or a text file and saves a
model directory; running it again on the same ``--out`` resumes. ``eval`` scores a saved model
(perplexity; nats and bits per character). ``sample`` streams generated text to the terminal.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import click

from seqlab.cli.options import FiniteFloat, training_run_options, writable

DATASETS = ("tinyshakespeare", "ptb")


@click.group()
def lm() -> None:
    """Language models: train on characters or words, evaluate, sample text."""


@lm.command(context_settings={"max_content_width": 100})
@click.argument("dataset", required=False, type=click.Choice(DATASETS, case_sensitive=False))
@click.option("--text", type=click.Path(dir_okay=False), help="Train on this UTF-8 file instead.")
@click.option(
    "--level",
    type=click.Choice(["char", "word"]),
    default=None,
    help="Tokens of --text: characters or whitespace-separated words. [char]",
)
@click.option("--cell", type=click.Choice(["lstm", "gru", "rnn"]), default=None, help="[lstm]")
@click.option("--embed-dim", type=click.IntRange(min=1), default=None, help="[chars 64, words 200]")
@click.option("--hidden", type=click.IntRange(min=1), default=None, help="[chars 512, words 200]")
@click.option("--layers", type=click.IntRange(min=1), default=None, help="[2]")
@click.option("--dropout", type=FiniteFloat(0, 1, max_open=True), default=None, help="[0.2 / 0]")
@click.option("--tie/--no-tie", default=None, help="Output layer = embedding. [words: tied]")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Streams. [64 / 20]")
@click.option(
    "--bptt",
    type=click.IntRange(min=1),
    default=None,
    help="Window (truncation) length. [100 / 20]",
)
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="[8 / 13]")
@click.option("--optimizer", type=click.Choice(["sgd", "adam"]), default=None, help="[adam / sgd]")
@click.option("--lr", type=FiniteFloat(min=0, min_open=True), default=None, help="[2e-3 / 20]")
@click.option(
    "--decay",
    type=FiniteFloat(0, 1, min_open=True),
    default=None,
    help="lr factor per epoch. [0.5]",
)
@click.option(
    "--decay-after", type=click.IntRange(min=0), default=None, help="Epochs at full lr. [5 / 4]"
)
@click.option(
    "--clip", type=FiniteFloat(min=0, min_open=True), default=None, help="Gradient norm. [5 / 0.25]"
)
@click.option(
    "--max-vocab",
    type=click.IntRange(min=3),
    default=10_000,
    show_default=True,
    help="Words of --text kept.",
)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@training_run_options
def train(dataset, text, level, max_vocab, device, checkpoint_every, out, quiet, tie, **options):
    """Train a language model on DATASET (or --text FILE) and save it to --out.

    \b
    DATASET: tinyshakespeare (characters, 90/10 split) or ptb (words, official splits).
    --text FILE: your UTF-8 text; train 90 %, valid 5 %, test the last 5 %.
    Running again with the same --out resumes the run (raise --epochs to train longer).
    Example: seqlab lm train ptb --out runs/ptb
    """
    # imported when the command runs: `seqlab --help` stays fast
    from seqlab.data import DatasetError
    from seqlab.tasks import lm_run
    from seqlab.tasks.lm import LMInputError, config_for
    from seqlab.tasks.lm_data import LMDataError, load_dataset, load_text
    from seqlab.train import TrainingError

    if (dataset is None) == (text is None):
        raise click.UsageError("give a DATASET (tinyshakespeare or ptb) or --text FILE, not both")
    if level is not None and text is None:
        raise click.UsageError(f"--level is for --text; {dataset} is read as {_level(dataset)}s")
    writable(out, folder=True)
    try:
        if text is not None:
            data = load_text(text, level or "char", max_vocab)
        else:
            data = load_dataset(dataset.lower())
        config = config_for(data.level, tie_weights=tie, **options)
        click.echo(
            f"{data.name}: {data.level} level, vocabulary {len(data.vocab):,}, "
            + ", ".join(f"{s} {len(ids):,} tokens" for s, ids in data.splits.items()),
            err=True,
        )
        _, summary = lm_run.train(data, config, out, quiet, device, checkpoint_every)
    except (DatasetError, LMDataError, LMInputError, TrainingError) as e:
        raise click.ClickException(str(e)) from None
    if not summary:  # another process than torchrun's rank 0: it reports nothing
        return
    click.echo(_summary_line(summary))
    click.echo(f"saved {out}  (seqlab lm sample {out} --prompt ...)")


@lm.command(name="eval")
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option("--split", type=click.Choice(["valid", "test"]), default="valid", show_default=True)
@click.option("--text", type=click.Path(dir_okay=False), help="Score this whole file instead.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Streams; 1 gives every token its whole past (the published way).",
)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the metrics.")
def eval_command(model_dir, split, text, batch_size, json_path) -> None:
    """Score a saved model: perplexity, nats per token, bits per character."""
    # imported when the command runs: `seqlab --help` stays fast
    from seqlab.data import DatasetError
    from seqlab.io import atomic_write
    from seqlab.tasks.lm import LMInputError
    from seqlab.tasks.lm_data import LMDataError
    from seqlab.tasks.lm_run import evaluate
    from seqlab.tasks.model_dir import ModelDirError

    writable(json_path)
    try:
        metrics = evaluate(model_dir, split, batch_size, text)
    except (DatasetError, LMDataError, LMInputError, ModelDirError) as e:
        raise click.ClickException(str(e)) from None
    where = metrics.get("text") or f"{metrics['data']} {metrics['split']}"
    line = f"{where}: {metrics['tokens']:,} tokens, perplexity {metrics['perplexity']:.2f}, "
    line += f"{metrics['nats_per_token']:.4f} nats/token"
    if "bits_per_char" in metrics:
        line += f", {metrics['bits_per_char']:.4f} bits/char"
    click.echo(line)
    if json_path:
        with atomic_write(json_path, "w", encoding="utf-8") as f:
            json.dump(metrics, f, indent=1, ensure_ascii=False)


@lm.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option("--prompt", default="", help="Text to continue. [a line start]")
@click.option("--tokens", type=int, default=500, show_default=True, help="Tokens to generate.")
@click.option(
    "--temperature",
    type=FiniteFloat(min=0),
    default=0.8,
    show_default=True,
    help="Below 1 safer, above 1 wilder; 0 = greedy (always the most probable token).",
)
@click.option("--top-k", type=click.IntRange(min=1), default=None, help="Keep the k likeliest.")
@click.option(
    "--top-p",
    type=FiniteFloat(0, 1, min_open=True),
    default=None,
    help="Keep the likeliest tokens that make up this probability.",
)
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=None, help="[random]")
def sample(model_dir, prompt, tokens, temperature, top_k, top_p, seed) -> None:
    """Generate text from a saved model, streamed as it is drawn.

    \b
    Example: seqlab lm sample runs/shakespeare --prompt "ROMEO:" --tokens 500 --temperature 0.8
    The same --seed gives the same text; without one, the seed used is printed.
    """
    # imported when the command runs: `seqlab --help` stays fast
    from seqlab.tasks.lm import TrainedLM
    from seqlab.tasks.model_dir import ModelDirError

    if tokens < 0:
        raise click.BadParameter(
            f"{tokens} is negative: give 0 or more tokens", param_hint="--tokens"
        )
    try:
        model = TrainedLM.load(model_dir)
    except ModelDirError as e:
        raise click.ClickException(str(e)) from None
    ids, unknown = model.encode_prompt(prompt)
    if unknown:
        kind = "character" if model.config.level == "char" else "word"
        done = "left out of the prompt" if kind == "character" else "read as <unk>"
        shown = ", ".join(repr(t) for t in dict.fromkeys(unknown))
        click.echo(f"warning: the model never saw the {kind}(s) {shown}: {done}", err=True)
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
        click.echo(f"seed {seed} (give --seed {seed} to draw this text again)", err=True)
    click.echo(prompt, nl=False)
    for piece in model.generate(ids, tokens, temperature, top_k, top_p, seed):
        sys.stdout.write(piece)
        sys.stdout.flush()
    click.echo()


def _level(dataset: str) -> str:
    return "char" if dataset.lower() == "tinyshakespeare" else "word"


def _summary_line(summary: dict) -> str:
    parts = [f"{summary['epochs_run']} epochs, best {summary['best_epoch']}"]
    for split in ("valid", "test"):
        if split in summary:
            m = summary[split]
            figure = f"perplexity {m['perplexity']:.2f}"
            if "bits_per_char" in m:
                figure = f"{m['nats_per_token']:.4f} nats/char ({m['bits_per_char']:.4f} bits)"
            parts.append(f"{split} {figure}")
    parts.append(f"{summary['tokens_per_s']:,.0f} tokens/s")
    return "; ".join(parts)
