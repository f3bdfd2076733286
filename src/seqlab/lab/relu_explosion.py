"""``relu-explosion``: an unbounded activation lets the hidden state blow up.

Three ``seqlab.nn.RNN`` layers, ReLU, tanh and sigmoid, get the SAME weights:
W_hh = g · N(0, 1/H), W_ih = N(0, 1/I), no bias, and read the same random inputs. For each
recurrent gain g we follow ‖h_t‖ over t. tanh and sigmoid squash every unit into (−1, 1) or
(0, 1), so ‖h_t‖ ≤ √H whatever g; ReLU does not, and once g is large enough to make the
recurrence expanding the state grows geometrically (about (g/√2)^t: half the units are cut to 0).

Run it: ``seqlab lab relu-explosion``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch

from seqlab import nn as seqnn
from seqlab.lab.experiment import figure, marker, record, reproducible

NONLINEARITIES = ("relu", "tanh", "sigmoid")
GAINS = (0.5, 1.0, 2.0, 3.0)
#: the gain whose trajectories are plotted and checked
MAIN_GAIN = 2.0


def state_norms(gain: float, hidden: int, T: int, batch: int, seed: int) -> dict[str, list[float]]:
    """Mean ‖h_t‖ over the batch, t = 1..T, for each nonlinearity with identical weights."""
    g = torch.Generator().manual_seed(seed)
    inputs = 8
    w_hh = gain * torch.randn(hidden, hidden, generator=g) / math.sqrt(hidden)
    w_ih = torch.randn(hidden, inputs, generator=g) / math.sqrt(inputs)
    x = torch.randn(T, batch, inputs, generator=g)  # (T, B, I)
    norms = {}
    for nl in NONLINEARITIES:
        rnn = seqnn.RNN(inputs, hidden, nonlinearity=nl, bias=False)
        with torch.no_grad():
            rnn.weight_hh_l0.copy_(w_hh)
            rnn.weight_ih_l0.copy_(w_ih)
            out, _ = rnn(x)  # (T, B, H)
        norms[nl] = out.double().norm(dim=2).mean(dim=1).tolist()
    return norms


def run(out_dir: str | Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Measure ‖h_t‖ for ReLU / tanh / sigmoid RNNs at several recurrent gains.

    Examples
    --------
    >>> import tempfile
    >>> result = run(tempfile.mkdtemp(), quick=True)  # doctest: +ELLIPSIS
    <BLANKLINE>
    ReLU vs bounded RNNs: ...
    >>> result["numbers"]["relu_over_tanh_at_T"] > 1e3
    True
    """
    started = time.perf_counter()
    hidden, T, batch = (32, 60, 8) if quick else (64, 100, 32)
    with reproducible(seed):
        curves = {gain: state_norms(gain, hidden, T, batch, seed) for gain in GAINS}
    bound = math.sqrt(hidden)
    main = curves[MAIN_GAIN]
    final = {nl: main[nl][-1] for nl in NONLINEARITIES}

    fig, (ax_t, ax_g) = figure(ncols=2)
    steps = range(1, T + 1)
    for nl in NONLINEARITIES:
        ax_t.plot(steps, main[nl], label=nl)
    ax_t.axhline(bound, color="grey", ls=":", label="√H (bound of tanh/sigmoid)")
    ax_t.set(yscale="log", xlabel="t", ylabel="mean ‖h_t‖", title=f"gain g = {MAIN_GAIN}")
    ax_t.legend()
    for i, nl in enumerate(NONLINEARITIES):
        ax_g.plot(GAINS, [curves[g][nl][-1] for g in GAINS], label=nl, **marker(i))
    ax_g.set(
        yscale="log",
        xlabel="recurrent gain g",
        ylabel=f"‖h_T‖, T = {T}",
        title="final state norm against gain",
    )
    ax_g.legend()

    headers = ["gain g", *(f"‖h_T‖ {nl}" for nl in NONLINEARITIES)]
    rows = [[g, *(curves[g][nl][-1] for nl in NONLINEARITIES)] for g in GAINS]
    checks = {
        f"ReLU state blows up at gain {MAIN_GAIN} (‖h_T‖ > 1e3·√H)": final["relu"] > 1e3 * bound,
        "tanh and sigmoid stay bounded (‖h_t‖ ≤ √H at every gain and step)": all(
            max(curves[g][nl]) <= bound + 1e-6 for g in GAINS for nl in ("tanh", "sigmoid")
        ),
        f"ReLU ‖h_T‖ ≫ tanh ‖h_T‖ at gain {MAIN_GAIN} (ratio > 1e3)": (
            final["relu"] > 1e3 * final["tanh"]
        ),
    }
    numbers = {
        "hidden_size": hidden,
        "T": T,
        "gains": list(GAINS),
        "main_gain": MAIN_GAIN,
        "final_norm": {str(g): {nl: curves[g][nl][-1] for nl in NONLINEARITIES} for g in GAINS},
        "norms_main_gain": main,
        "relu_over_tanh_at_T": final["relu"] / final["tanh"],
    }
    return record(
        out_dir,
        name="relu-explosion",
        title="ReLU vs bounded RNNs: ‖h_t‖ with the same W_hh scale",
        claim="With the same recurrent weights the ReLU RNN's state blows up, tanh and sigmoid "
        "states stay bounded.",
        quick=quick,
        seed=seed,
        started=started,
        headers=headers,
        rows=rows,
        numbers=numbers,
        checks=checks,
        fig=fig,
    )
