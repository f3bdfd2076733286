"""The lecture's claims about sequence models as experiments anyone can run, see and check.

Each experiment is a module with ``run(out_dir, quick=False, seed=0) -> dict`` that saves a PNG
plot and a JSON of its numbers into ``out_dir`` and prints a short table (see
:mod:`seqlab.lab.experiment`). ``quick=True`` shrinks it to a few seconds for the demo and tests.

=========================  ===========================================================
``gradient-flow``          ‖∂L_T/∂h_k‖ against T − k: vanishing gradients, gated paths
``relu-explosion``         ‖h_t‖ of ReLU vs tanh vs sigmoid RNNs, same W_hh scale
``long-range``             adding problem and copy memory at growing T vs baselines
``feedforward-vs-rnn``     MLP vs 1-D CNN vs RNN on a variable-length, far-back task
``onehot-vs-embedding``    one-hot size and distances vs learned word vectors
``imdb-length``            IMDB accuracy by review length: tanh RNN vs LSTM vs GRU
``bptt-truncation``        PTB perplexity vs truncation length k: tanh RNN vs LSTM
=========================  ===========================================================

Examples
--------
>>> sorted(EXPERIMENTS)[:2]
['bptt-truncation', 'feedforward-vs-rnn']
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

#: experiment name -> module holding its ``run``; imported on demand to keep this import light
EXPERIMENTS = {
    "gradient-flow": "seqlab.lab.gradient_flow",
    "relu-explosion": "seqlab.lab.relu_explosion",
    "long-range": "seqlab.lab.long_range",
    "feedforward-vs-rnn": "seqlab.lab.feedforward_vs_rnn",
    "onehot-vs-embedding": "seqlab.lab.onehot_vs_embedding",
    "imdb-length": "seqlab.lab.imdb_length",
    "bptt-truncation": "seqlab.lab.bptt_truncation",
}


class UnknownExperimentError(ValueError):
    """An experiment name that the lab does not have."""


def run(
    name: str, out_dir: str | Path, quick: bool = False, seed: int = 0, **kwargs
) -> dict[str, Any]:
    """Run the experiment ``name`` and return its result dict (see :mod:`seqlab.lab.experiment`)."""
    if name not in EXPERIMENTS:
        raise UnknownExperimentError(
            f"no experiment named {name!r}; choose one of: {', '.join(EXPERIMENTS)}"
        )
    module = importlib.import_module(EXPERIMENTS[name])
    return module.run(Path(out_dir), quick=quick, seed=seed, **kwargs)
