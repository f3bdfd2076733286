"""``seqlab lab NAME``: run one experiment of the lab and save its plot and numbers."""

from __future__ import annotations

from pathlib import Path

import click

from seqlab.cli.options import seed_option, warn_if_mirror_unusable, writable
from seqlab.lab import EXPERIMENTS


@click.command()
@click.argument("name", type=click.Choice(list(EXPERIMENTS)), metavar="NAME")
@click.option("--quick", is_flag=True, help="Small version (a few seconds) for demos and tests.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs/lab"),
    show_default=True,
    help="Folder for NAME.png and NAME.json.",
)
@seed_option
def lab(name: str, quick: bool, out: Path, seed: int) -> None:
    """Run experiment NAME: print its table, save NAME.png and NAME.json into --out.

    \b
    NAME is one of:
      gradient-flow        ‖∂L_T/∂h_k‖ against T − k for RNN-sigmoid/tanh/ReLU, LSTM, GRU,
                           at init and after training (vanishing gradients, the LSTM cell path)
      relu-explosion       ‖h_t‖ over t for ReLU, tanh and sigmoid RNNs with the same W_hh
      long-range           adding problem and copy memory at T = 10..200 against the
                           trivial baselines (where the vanilla RNN stops learning)
      feedforward-vs-rnn   MLP vs 1-D CNN vs RNN on a variable-length, far-back-label task
      onehot-vs-embedding  one-hot size and distances vs learned skip-gram vectors
      imdb-length          IMDB accuracy by review length for tanh RNN, LSTM and GRU of
                           equal size (about 10 minutes; --quick: a sample, under a minute)
      bptt-truncation      PTB validation perplexity against the truncation length k for
                           a tanh RNN and an LSTM (about 20 minutes; --quick: seconds)

    The others run on the CPU in under 2 minutes (--quick: seconds), with fixed seeds.
    Example: seqlab lab relu-explosion --quick --out runs/lab
    """
    # imported when the command runs: `seqlab --help` stays fast
    from seqlab.lab import run
    from seqlab.lab.vectors import NoCorpusError

    writable(out, folder=True)  # before the experiment runs, not when it saves
    warn_if_mirror_unusable()
    try:
        run(name, out, quick=quick, seed=seed)
    except (NoCorpusError, ValueError, OSError) as err:
        raise click.ClickException(str(err)) from err
