"""Entry point of the ``seqlab`` command.

Each command group lives in its own module and imports its heavy dependencies lazily,
so that ``seqlab --help`` answers at once.
"""

import warnings

import click

from seqlab import __version__
from seqlab.cli.caption import caption
from seqlab.cli.classify import classify
from seqlab.cli.data import data
from seqlab.cli.demo import demo
from seqlab.cli.embed import embed
from seqlab.cli.explore import explore
from seqlab.cli.generate import generate
from seqlab.cli.lab import lab
from seqlab.cli.lm import lm
from seqlab.cli.translate import translate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seqlab")
def main() -> None:
    """seqlab: recurrent networks and word embeddings, from the equations to the lab."""
    warnings.showwarning = _show_warning


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning on the command line is one ``warning: ...`` line, without source lines."""
    click.echo(f"warning: {message}", err=True)


main.add_command(caption)
main.add_command(classify)
main.add_command(data)
main.add_command(embed)
main.add_command(explore)
main.add_command(generate)
main.add_command(lab)
main.add_command(lm)
main.add_command(translate)
main.add_command(demo)
