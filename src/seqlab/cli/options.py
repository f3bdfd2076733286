"""Option types and error handling shared by the commands.

Every numeric option is checked by click before any work starts (``--alpha nan`` or
``--topn -3`` end in a usage error naming the option, never in a silent run), and every output
path is checked for writability up front, so a long run cannot fail at its very end.
"""

from __future__ import annotations

import math
from pathlib import Path

import click


class FiniteFloat(click.FloatRange):
    """A float option that also refuses NaN and ±inf (``click.FloatRange`` lets NaN through,
    since every comparison with NaN is false)."""

    name = "finite float"

    def convert(self, value, param, ctx):
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


class FiniteFloatOrAuto(FiniteFloat):
    """A `FiniteFloat` option that also takes the word ``auto`` (left as the string)."""

    name = "finite float or auto"

    def convert(self, value, param, ctx):
        if isinstance(value, str):
            if value.strip().lower() == "auto":
                return "auto"
            try:
                float(value)
            except ValueError:
                self.fail(f"{value!r} is neither a number nor 'auto'.", param, ctx)
        return super().convert(value, param, ctx)


#: ``--seed`` of the commands whose every random draw starts from one seed (0 unless given).
seed_option = click.option(
    "--seed",
    type=click.IntRange(0, 2**32 - 1),
    default=0,
    show_default=True,
    help="Seed of every random draw.",
)


def training_run_options(command):
    """``--device``, ``--checkpoint-every``, ``--out`` and ``--quiet``: the options of a
    ``train`` command that writes a resumable run into a folder."""
    options = [
        click.option(
            "--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:1 ..."
        ),
        click.option(
            "--checkpoint-every",
            type=click.IntRange(min=1),
            default=None,
            help="Also checkpoint every N steps.",
        ),
        click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True),
        click.option("--quiet", is_flag=True, help="No progress bar."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def writable(path: str | Path | None, folder: bool = False) -> None:
    """``click.ClickException`` now if ``path`` (a file, or a folder) cannot be written."""
    from seqlab.io import check_writable  # numpy and safetensors load only when a command runs

    if path is None:
        return
    try:
        check_writable(path, folder=folder)
    except OSError as e:
        raise click.ClickException(str(e)) from None


def warn_if_mirror_unusable() -> None:
    """One ``warning:`` line when ``$SEQLAB_DATA`` is set but is no folder, before a command
    that needs datasets reports them as missing."""
    from seqlab.data.fetch import mirror_warning  # the data layer loads only when a command runs

    problem = mirror_warning()
    if problem is not None:
        click.echo(f"warning: {problem}", err=True)
