"""Entry point of the ``seqlab`` command.

Each command group lives in its own module and imports its heavy dependencies lazily,
so that ``seqlab --help`` answers at once.
"""

import click

from seqlab import __version__
from seqlab.cli.data import data


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seqlab")
def main() -> None:


main.add_command(data)
