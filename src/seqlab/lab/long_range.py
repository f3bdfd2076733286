"""``long-range``: at which distance does each cell stop learning?

Two tasks whose answer depends on inputs far back (see :mod:`seqlab.lab.tasks`), at growing
lengths T, trained with the same budget for a vanilla tanh RNN, an LSTM and a GRU:

- the adding problem — error: test MSE; the trivial baseline (always answer 1) scores 1/6 ≈ 0.167;
- copy memory — error: test cross-entropy per step; the memoryless baseline scores
  10·log 8 / (T + 20).

A cell has *learned* a task at T when its error is below half the baseline. The vanilla RNN
stops learning as T grows (its gradient vanishes, see ``gradient-flow``); gated cells go further.
Copy memory is the harder task: with this small CPU budget it is learned at short T only.

Run it: ``seqlab lab long-range``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from seqlab.lab.experiment import figure, marker, record, reproducible
from seqlab.lab.models import SequenceModel, train
from seqlab.lab.tasks import (
    ADDING_BASELINE_MSE,
    COPY_ALPHABET,
    COPY_SYMBOLS,
    COPY_VOCAB,
    adding_problem,
    copy_baseline_ce,
    copy_memory,
)

CELLS = ("rnn-tanh", "lstm", "gru")
TASKS = ("adding", "copy")
#: error below this fraction of the trivial baseline counts as "learned"
LEARNED = 0.5

#: training stops early once the loss is below this fraction of the baseline (task solved)
SOLVED = 0.02

#: lengths, hidden size, Adam learning rate, and per task: training steps and batch, per mode.
#: The budget fits the CPU time limit (2 minutes, quick: 20 s); copy memory needs thousands of
#: steps to leave its baseline (Arjovsky et al. 2016), more than this budget holds.
SETTINGS = {
    False: {
        "lengths": (10, 50, 100, 200),
        "hidden": 32,
        "lr": 2e-2,
        "adding": {"steps": 300, "batch": 128},
        "copy": {"steps": 80, "batch": 32},
    },
    True: {
        "lengths": (10, 30),
        "hidden": 16,
        "lr": 3e-2,
        "adding": {"steps": 150, "batch": 32},
        "copy": {"steps": 60, "batch": 32},
    },
}


def _per_step_ce(out, y):
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))  # (T*B, C) vs (T*B,)


def train_and_test(task: str, cell: str, T: int, s: dict, seed: int) -> dict[str, float]:
    """Train one cell on one task at length T; return its test error (and copy accuracy)."""
    torch.manual_seed(seed)  # same initial weights for a cell whatever ran before
    gen = torch.Generator().manual_seed(seed)
    test_gen = torch.Generator().manual_seed(seed + 10_000)
    if task == "adding":
        model = SequenceModel(cell, 2, s["hidden"], 1)
        batch, loss_fn, baseline = adding_problem, F.mse_loss, ADDING_BASELINE_MSE
    else:
        model = SequenceModel(
            cell, 16, s["hidden"], COPY_ALPHABET + 1, vocab=COPY_VOCAB, per_step=True
        )
        batch, loss_fn, baseline = copy_memory, _per_step_ce, copy_baseline_ce(T)
    size, steps = s[task]["batch"], s[task]["steps"]
    losses = train(
        model,
        lambda g: batch(size, T, g),
        loss_fn,
        steps,
        gen,
        lr=s["lr"],
        stop_below=SOLVED * baseline,
        progress=f"long-range: {task} T={T} {cell}",
    )
    x, y = batch(256, T, test_gen)
    with torch.no_grad():
        out = model(x)
        result = {"error": loss_fn(out, y).item(), "train_steps": len(losses)}
        if task == "copy":
            recalled = out[-COPY_SYMBOLS:].argmax(-1) == y[-COPY_SYMBOLS:]
            result["recall_accuracy"] = recalled.float().mean().item()
    return result


def finding(ratios: dict[str, dict[str, dict[int, float]]]) -> str:
    """What the run showed, from each cell's error ÷ baseline error at each length T.

    Written from the numbers, so the text says what the table shows whatever the run gives: a
    cell has learned a task at T when its ratio is below ``LEARNED`` (half the baseline), and
    does no better than the trivial baseline when its ratio is 1 or more.

    Examples
    --------
    >>> text = finding({"adding": {"rnn-tanh": {10: 0.2, 30: 1.1}, "lstm": {10: 0.6, 30: 1.2},
    ...                            "gru": {10: 0.01, 30: 0.02}},
    ...                 "copy": {"rnn-tanh": {10: 1.0}, "lstm": {10: 1.0}, "gru": {10: 0.9}}})
    >>> import textwrap
    >>> print(textwrap.fill(text, 90))
    Adding problem learned (error below half the baseline) by rnn-tanh at T = 10, by lstm at
    no T, by gru at T = 10, 30. The gru learns a longer dependency than the vanilla RNN; the
    lstm does not, within this budget. No better than the trivial baseline: rnn-tanh at T =
    30, lstm at T = 30. Copy memory: no cell gets below half its baseline within this budget.
    """
    learned = {
        task: {c: [T for T, r in ratios[task][c].items() if r < LEARNED] for c in CELLS}
        for task in TASKS
    }
    adding = learned["adding"]
    where = ", ".join(f"by {c} at {_lengths(adding[c])}" for c in CELLS)
    text = f"Adding problem learned (error below half the baseline) {where}. "
    longest = {c: max(adding[c], default=0) for c in CELLS}
    gated = [c for c in CELLS if c != "rnn-tanh"]
    ahead = [c for c in gated if longest[c] > longest["rnn-tanh"]]
    if not any(longest.values()):
        text += "No cell learns it within this budget. "
    elif len(ahead) == len(gated):
        text += "Both gated cells learn longer dependencies than the vanilla RNN. "
    elif ahead:
        (behind,) = (c for c in gated if c not in ahead)
        text += (
            f"The {ahead[0]} learns a longer dependency than the vanilla RNN; the {behind} "
            "does not, within this budget. "
        )
    else:
        text += (
            "No gated cell learns a longer dependency than the vanilla RNN within this budget, "
            "so this run does not show the claim. "
        )
    worse = {c: [T for T, r in ratios["adding"][c].items() if r >= 1.0] for c in CELLS}
    if any(worse.values()):
        text += "No better than the trivial baseline: " + ", ".join(
            f"{c} at {_lengths(ts)}" for c, ts in worse.items() if ts
        )
        text += ". "
    copy = {c: ts for c, ts in learned["copy"].items() if ts}
    if copy:
        where = ", ".join(f"by {c} at {_lengths(ts)}" for c, ts in copy.items())
        return text + f"Copy memory learned {where}."
    return text + "Copy memory: no cell gets below half its baseline within this budget."


def _lengths(ts: list[int]) -> str:
    return f"T = {', '.join(map(str, ts))}" if ts else "no T"


def run(out_dir: str | Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Adding problem and copy memory at several T for RNN-tanh, LSTM and GRU.

    Examples
    --------
    It writes ``long-range.png`` and ``long-range.json`` into ``out_dir``. Training takes tens
    of seconds even in quick mode, so the example is skipped as a doctest; ``tests/lab`` runs
    the experiment.

    >>> result = run("runs/lab", quick=True)  # doctest: +SKIP
    >>> result["numbers"]["baseline"]["adding"]["10"]  # doctest: +SKIP
    0.16666666666666666
    """
    started = time.perf_counter()
    s = SETTINGS[quick]
    lengths = s["lengths"]
    baseline = {
        "adding": {str(T): ADDING_BASELINE_MSE for T in lengths},
        "copy": {str(T): copy_baseline_ce(T) for T in lengths},
    }
    results: dict[str, dict[str, dict[str, dict[str, float]]]] = {t: {} for t in TASKS}
    with reproducible(seed):
        for task in TASKS:
            for T in lengths:
                results[task][str(T)] = {c: train_and_test(task, c, T, s, seed) for c in CELLS}

    def ratio(task: str, T: int, cell: str) -> float:
        return results[task][str(T)][cell]["error"] / baseline[task][str(T)]

    learned = {
        task: {c: [T for T in lengths if ratio(task, T, c) < LEARNED] for c in CELLS}
        for task in TASKS
    }
    fig, axes = figure(ncols=2)
    for ax, task in zip(axes, TASKS, strict=True):
        for i, cell in enumerate(CELLS):
            ax.plot(lengths, [ratio(task, T, cell) for T in lengths], label=cell, **marker(i))
        ax.axhline(1.0, color="grey", ls="--", label="trivial baseline")
        ax.axhline(LEARNED, color="grey", ls=":", label="learned (half the baseline)")
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="sequence length T",
            ylabel="test error / baseline error",
            title=f"{task} task",
        )
        ax.set_xticks(lengths, [str(T) for T in lengths])
        ax.legend()

    headers = ["task", "T", "baseline", *CELLS]
    rows = [
        [task, T, baseline[task][str(T)], *(results[task][str(T)][c]["error"] for c in CELLS)]
        for task in TASKS
        for T in lengths
    ]
    longest = {task: {c: max(learned[task][c], default=0) for c in CELLS} for task in TASKS}
    gated_best = max(longest["adding"]["lstm"], longest["adding"]["gru"])
    checks = {
        f"LSTM or GRU learn the adding problem at T={lengths[1]}": (
            min(ratio("adding", lengths[1], "lstm"), ratio("adding", lengths[1], "gru")) < LEARNED
        ),
        "the vanilla RNN stops learning the adding problem before the LSTM/GRU do": (
            longest["adding"]["rnn-tanh"] < gated_best
        ),
    }
    if not quick:
        checks["LSTM beats the adding baseline at T=50"] = ratio("adding", 50, "lstm") < LEARNED
    numbers = {
        "lengths": list(lengths),
        "hidden_size": s["hidden"],
        "train_steps": {t: s[t]["steps"] for t in TASKS},
        "batch": {t: s[t]["batch"] for t in TASKS},
        "learning_rate": s["lr"],
        "baseline": baseline,
        "results": results,
        "learned_lengths": learned,
        "longest_learned": longest,
    }
    return record(
        out_dir,
        name="long-range",
        title="Long-range dependencies: test error at growing T (adding: MSE, copy: CE per step)",
        claim="The vanilla RNN stops learning as the dependency gets longer; the LSTM and GRU "
        "keep learning.",
        quick=quick,
        seed=seed,
        started=started,
        headers=headers,
        rows=rows,
        numbers=numbers,
        checks=checks,
        fig=fig,
        finding=finding(
            {t: {c: {T: ratio(t, T, c) for T in lengths} for c in CELLS} for t in TASKS}
        ),
    )
