"""``seqlab data``: list, describe and fetch the registered datasets."""

from __future__ import annotations

import click


@click.group()
def data() -> None:
    """Named public datasets: where they are found, what they hold, how to fetch them.

    \b
    Resolution order for every dataset:
      1. $SEQLAB_DATA/<name>/   a local mirror laid out like ../shared/data
      2. $SEQLAB_CACHE/<name>/  default ~/.cache/seqlab/<name>/
      3. the official URL, downloaded into the cache and checked against its checksum
    """


@data.command("list")
def list_() -> None:
    """Table of every dataset: name, task, official size, and where it is found.

    \b
    where:  mirror   found in $SEQLAB_DATA
            cache    found in the cache (downloaded or built)
            missing  not local; `seqlab data fetch NAME` downloads (or builds) it
    A local file of the wrong size (cut short while copying) is flagged as DAMAGED.
    """
    # imported when the command runs: `seqlab --help` stays fast
    from seqlab.data import REGISTRY, where
    from seqlab.data.fetch import damaged, mirror_warning

    problem = mirror_warning()
    if problem is not None:
        click.echo(f"warning: {problem}", err=True)
    rows = []
    for spec in REGISTRY.values():
        found = where(spec.name)
        wrong = damaged(spec.name) if found != "missing" else []
        if wrong:  # a size check only: `data info` runs the checksum too
            found += f", DAMAGED: {wrong[0]} has the wrong size (seqlab data info {spec.name})"
        rows.append((spec.name, spec.task, spec.size, found))
    header = ("name", "task", "size", "where")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@data.command()
@click.argument("name")
@click.option(
    "--figures/--no-figures",
    default=True,
    show_default=True,
    help="Compute figures (tokens, vocabulary, balance) from the local files.",
)
def info(name: str, figures: bool) -> None:
    """Describe dataset NAME: source, license, URLs, location, splits and computed figures.

    Figures are computed from the files when the dataset is local (the first time for a big
    corpus takes a few seconds; the result is cached). Example: seqlab data info sst2
    """
    # imported when the command runs: `seqlab --help` stays fast
    from seqlab.data import DatasetError, locate, summarize, where
    from seqlab.data.fetch import mirror_warning, verify
    from seqlab.data.registry import get

    try:
        spec = get(name)
        found = where(name)
        click.echo(f"{spec.name}: {spec.description}")
        click.echo(f"  task:     {spec.task}")
        click.echo(f"  size:     {spec.size} (official)")
        click.echo(f"  license:  {spec.license}")
        click.echo(f"  source:   {spec.source}")
        for url in spec.urls:
            click.echo(f"  url:      {url}")
        for split, remotes in spec.extras.items():
            click.echo(f"  on demand {split}: {', '.join(r.url for r in remotes)}")
        if spec.derived_from:
            click.echo(f"  built from: {spec.derived_from} (on first use, then cached)")
        location = locate(name)
        click.echo(f"  where:    {found}" + (f" ({location})" if location else ""))
        if found == "missing":
            problem = mirror_warning()
            click.echo(f"  run `seqlab data fetch {name}` to download it, or set SEQLAB_DATA.")
            if problem is not None:
                click.echo(f"  note: {problem}")
            return
        verify(name, location)
        if figures:
            summary = summarize(name)
            for key in ("name", "task", "license", "source"):
                summary.pop(key, None)
            for line in _flatten(summary):
                click.echo(f"  {line}")
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from None


@data.command()
@click.argument("name")
@click.option(
    "--extras",
    is_flag=True,
    help="Also fetch the on-demand splits (multi30k's 2017 and 2018 test sets).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def fetch(name: str, extras: bool, quiet: bool) -> None:
    """Make dataset NAME available locally: mirror, cache, else download and verify.

    Downloads show a progress bar and are checked against the registered checksum; a file that
    fails the check or is cut off is discarded. wiki_text8 is built from enwiki_extract.
    Example: seqlab data fetch text8
    """
    # imported when the command runs: `seqlab --help` stays fast
    from seqlab.data import DatasetError, path, where
    from seqlab.data.fetch import fetch_extra
    from seqlab.data.registry import get

    try:
        spec = get(name)
        location = path(name, progress=not quiet)
        click.echo(f"{name}: {where(name)} ({location})")
        if extras:
            for split in spec.extras:
                click.echo(f"{name}/{split}: {fetch_extra(name, split, progress=not quiet)}")
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from None


def _flatten(figures: dict, prefix: str = "") -> list[str]:
    lines = []
    for key, value in figures.items():
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            lines += _flatten(value, f"{prefix}{key}.")
        elif isinstance(value, dict):
            inner = ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
            lines.append(f"{prefix}{key}: {inner}")
        else:
            lines.append(f"{prefix}{key}: {_fmt(value)}")
    return lines


def _fmt(value) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
