"""``seqlab demo``: datasets, word embeddings and every lab experiment in one report."""

from __future__ import annotations

from pathlib import Path

import click

from seqlab.cli.options import seed_option, warn_if_mirror_unusable, writable


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs/demo"),
    show_default=True,
    help="Folder for report.html, report.json and the experiments' plots.",
)
@click.option(
    "--quick",
    is_flag=True,
    help="Train the vectors on the first 2,000,000 tokens only (default: the whole corpus); "
    "3 epochs either way.",
)
@click.option(
    "--tokens",
    type=click.IntRange(min=10_000),
    default=None,
    help="Train the vectors on the first N tokens of the corpus (overrides the mode's default).",
)
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Skip-gram epochs.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Skip-gram training threads.",
)
@seed_option
def demo(
    out: Path, quick: bool, tokens: int | None, epochs: int | None, workers: int, seed: int
) -> None:
    """Summarize every local dataset, train skip-gram vectors, run the lab, write a report.

    \b
    1. figures of every available dataset (tokens, vocabulary, class balance, pairs, lengths)
    2. skip-gram vectors on text8 (else wiki_text8): nearest words of "study" and "skill",
       the analogies king − man + woman, woman − queen + king, korea − seoul + tokyo
    3. every `seqlab lab` experiment in quick mode
    4. OUT/report.html (self-contained: plots embedded) and OUT/report.json

    Needs the datasets: set SEQLAB_DATA to the mirror. Example: seqlab demo --quick
    """
    # imported when the command runs: `seqlab --help` stays fast
    from seqlab.lab.demo import DemoSettings, run_demo
    from seqlab.lab.vectors import NoCorpusError

    writable(out, folder=True)  # before minutes of training, not when the report is saved
    warn_if_mirror_unusable()
    settings = DemoSettings(
        out=out, quick=quick, tokens=tokens, epochs=epochs, workers=workers, seed=seed
    )
    try:
        run_demo(settings, echo=click.echo)
    except NoCorpusError as err:
        raise click.ClickException(str(err)) from err
