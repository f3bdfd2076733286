"""``seqlab generate train | sample | eval``: one-to-many generation of names from a language.

``train`` fits a character-level generator conditioned on the language (and the names
classifier that judges its samples) and saves both; running it again on the same ``--out``
resumes. ``sample`` draws names for a language, or finds the most probable ones with ``--beam``.
``eval`` scores held-out names (nats per character per language) and the agreement of sampled
names with the classifier.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from seqlab.cli.options import FiniteFloat, seed_option, warn_if_mirror_unusable, writable


def _errors():
    from seqlab.data import DatasetNotFoundError
    from seqlab.tasks.generate import GenerateInputError
    from seqlab.tasks.model_dir import ModelDirError
    from seqlab.tasks.sampling import SamplingError
    from seqlab.train import TrainingError

    return (
        DatasetNotFoundError,
        GenerateInputError,
        ModelDirError,
        SamplingError,
        TrainingError,
    )


@click.group()
def generate() -> None:
    """One-to-many: generate a name, character by character, from a language."""


@generate.command(context_settings={"max_content_width": 100})
@click.argument("dataset", type=click.Choice(["names"]))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--cell", type=click.Choice(["gru", "lstm"]), default=None, help="[gru]")
@click.option(
    "--conditioning",
    "condition",
    type=click.Choice(["init", "input", "both"]),
    default=None,
    help="The language starts the state, is fed at every step, or both. [both]",
)
@click.option("--hidden", type=click.IntRange(min=1), default=None, help="Units. [256]")
@click.option("--layers", type=click.IntRange(min=1), default=None, help="[1]")
@click.option("--lr", type=FiniteFloat(min=0, min_open=True), default=None, help="Adam. [3e-3]")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="At most. [20]")
@click.option("--patience", type=click.IntRange(min=1), default=None, help="Early stop. [3]")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="CPU threads.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@seed_option
def train(dataset, out, threads, quiet, seed, **options) -> None:
    """Train a generator of names conditioned on their language, save it to --out.

    \b
    Also trains the names classifier that `generate eval` asks which language a generated
    name sounds like (OUT/judge). Running again with the same --out resumes.
    Example: seqlab generate train names --out runs/gen-names
    """
    import torch

    from seqlab.tasks.generate_eval import train_generator

    if threads:
        torch.set_num_threads(threads)
    writable(out, folder=True)
    warn_if_mirror_unusable()
    options = {k: v for k, v in options.items() if v is not None}
    try:
        summary = train_generator(dataset, out, {**options, "seed": seed}, quiet=quiet)
    except _errors() as err:
        raise click.ClickException(str(err)) from None
    click.echo(
        f"saved {out}: valid {summary['valid_nats_per_char']:.3f} nats/char (epoch "
        f"{summary['best_epoch']} of {summary['epochs_run']}), judge valid accuracy "
        f"{summary['judge_valid_accuracy']:.3f}, {summary['total_time_s']:.0f} s"
    )


@generate.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option("--condition", required=True, help="The language, e.g. Korean.")
@click.option("--n", type=click.IntRange(min=1, max=10_000), default=10, show_default=True)
@click.option(
    "--temperature", type=FiniteFloat(min=0), default=1.0, show_default=True, help="0: greedy."
)
@click.option("--top-k", type=click.IntRange(min=1), default=None, help="Keep the k best.")
@click.option("--top-p", type=FiniteFloat(0, 1, min_open=True), default=None, help="Nucleus.")
@click.option(
    "--beam",
    type=click.IntRange(min=1),
    default=None,
    help="Beam width: print the N most probable names (N <= width) with their log-probability "
    "instead of sampling.",
)
@seed_option
def sample(model_dir, condition, n, temperature, top_k, top_p, beam, seed) -> None:
    """Names for --condition from the generator in MODEL_DIR, one per line.

    Example: seqlab generate sample runs/gen-names --condition Korean --n 10
    """
    from seqlab.tasks.generate import NameGenerator

    try:
        gen = NameGenerator.load(model_dir)
        if beam is not None:
            if n > beam:
                raise click.UsageError(f"--beam {beam} finds at most {beam} names: raise --beam")
            for name, logprob in gen.beam(condition, width=beam, n=n):
                click.echo(f"{name}\t{logprob:.3f}")
            return
        for name in gen.sample(condition, n, temperature, top_k, top_p, seed):
            click.echo(name)
    except _errors() as err:
        raise click.ClickException(str(err)) from None


@generate.command(name="eval")
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option("--split", type=click.Choice(["test", "valid"]), default="test", show_default=True)
@click.option(
    "--n", type=click.IntRange(min=1), default=100, show_default=True, help="Names per language."
)
@click.option("--temperature", type=FiniteFloat(min=0), default=1.0, show_default=True)
@click.option("--top-k", type=click.IntRange(min=1), default=None)
@click.option(
    "--judge",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    show_default="MODEL_DIR/judge",
    help="A names classifier directory (seqlab classify train names).",
)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the metrics.")
@seed_option
def evaluate(model_dir, split, n, temperature, top_k, judge, json_path, seed) -> None:
    """Held-out nats/char per language and agreement of samples with the names classifier."""
    from seqlab.tasks.generate_eval import evaluate as run_eval

    writable(json_path)
    try:
        metrics = run_eval(model_dir, split, n, temperature, top_k, seed, judge)
    except _errors() as err:
        raise click.ClickException(str(err)) from None
    real = metrics["judge_on_real_names"]
    click.echo(f"{'language':<12} {'nats/char':>9} {'agreement':>9} {'real names':>10}  samples")
    for label, rate in metrics["per_label"].items():
        nll = metrics["nats_per_char_per_label"].get(label, float("nan"))
        shown = ", ".join(metrics["examples"].get(label, [])[:3])
        known = real["per_label"].get(label, float("nan"))
        click.echo(f"{label:<12} {nll:9.3f} {rate:9.1%} {known:10.1%}  {shown}")
    click.echo(
        f"{split}: {metrics['nats_per_char']:.3f} nats/char; agreement {metrics['agreement']:.1%} "
        f"(mean over languages, {n} names each, temperature {temperature}); new names "
        f"{metrics.get('novel', float('nan')):.1%}; the judge on real {split} names: "
        f"{real['mean']:.1%}"
    )
    if json_path:
        from seqlab.io import atomic_write

        with atomic_write(json_path, "w", encoding="utf-8") as f:
            json.dump(metrics, f, indent=1, ensure_ascii=False)
