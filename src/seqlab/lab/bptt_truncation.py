"""``bptt-truncation``: what truncated backpropagation through time costs on real text.

Word-level language models on PTB (a tanh RNN and an LSTM of the same hidden size), trained
with the same data, order, batches and number of updates; only the truncation length k
changes. Every update reads a window of 70 words of each of B parallel streams (the hidden state
carried from window to window, as `seqlab lm train` does) and the window is cut into chunks of
k steps with the state detached between chunks: the gradient of each prediction reaches back at
most k steps (Williams & Peng's BPTT(70, k)). k = 70 is plain truncated BPTT over the window.

The forward pass always carries the state through the whole text, so a longer k changes only
what the weights learn from: whether the error at step t may adjust what was written into the
state at step t − j for j up to k. Validation perplexity (the whole validation split, state
carried) against k shows where each cell stops gaining: the tanh RNN's gradient fades within a
few steps (``gradient-flow``), so a longer k buys it little; the LSTM's cell path carries it
further.

Run it: ``seqlab lab bptt-truncation`` (the first 500,000 words of PTB's training text per run,
10 runs: about 20 minutes of one core); ``--quick``: 1,000 words and a slice of the text.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from seqlab.lab.experiment import figure, marker, record, reproducible
from seqlab.tasks.lm import LanguageModel, LMConfig, detach, loader
from seqlab.tasks.lm_data import load_dataset

CELLS = {"rnn": "tanh RNN", "lstm": "LSTM"}
TRUNCATIONS = (5, 10, 20, 35, 70)
WINDOW = max(TRUNCATIONS)
#: within this fraction of a cell's best perplexity, a longer k counts as no further gain
NO_GAIN = 0.01

#: per mode: words kept (None: PTB's 10,000), model size, streams, Adam lr, train / valid tokens
SETTINGS = {
    False: {
        "vocab": None,
        "hidden": 128,
        "batch": 20,
        "lr": 3e-3,
        "train_tokens": 500_000,
        "valid_tokens": None,
    },
    True: {
        "vocab": 1_000,
        "hidden": 32,
        "batch": 16,
        "lr": 1e-2,
        "train_tokens": 40_000,
        "valid_tokens": 10_000,
    },
}


def ptb_ids(vocab: int | None, train_tokens: int | None, valid_tokens: int | None):
    """PTB's train and valid id streams; ids past ``vocab`` (the rarest words) become <unk>."""
    data = load_dataset("ptb")
    streams = {"train": data.splits["train"][:train_tokens]}
    streams["valid"] = data.splits["valid"][:valid_tokens]
    size = len(data.vocab)
    if vocab is not None and vocab < size:
        # the vocabulary lists specials first, then words by falling frequency
        for split, ids in streams.items():
            streams[split] = np.where(ids < vocab, ids, data.vocab.unk_id)
        size = vocab
    return streams, size


def chunked_loss(model: LanguageModel, inputs, targets, state, k: int):
    """Mean cross-entropy over one window, the state detached every ``k`` steps.

    Returns the loss and the (detached) state at the window's end.
    """
    x = model.embedding(inputs)
    outputs = []
    for start in range(0, x.shape[1], k):
        out, state = model.rnn(x[:, start : start + k], state)
        outputs.append(out)
        state = detach(state)
    logits = model.decoder(torch.cat(outputs, dim=1))
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten()), state


def train_and_validate(cell: str, k: int, streams, vocab_size: int, size: dict, seed: int) -> dict:
    """One epoch with truncation ``k``; returns validation perplexity and the training losses."""
    config = LMConfig(
        level="word",
        cell=cell,
        embed_dim=size["hidden"],
        hidden=size["hidden"],
        layers=1,
        dropout=0.0,
        tie_weights=True,
        init_range=0.1,  # torch's N(0, 1) embedding, tied, would start the logits far too big
        batch_size=size["batch"],
        bptt=WINDOW,
    )
    torch.manual_seed(seed)  # the same initial weights for every k of a cell
    model = LanguageModel(vocab_size, config)
    optimizer = torch.optim.Adam(model.parameters(), lr=size["lr"])
    state, losses = None, []
    model.train()
    for inputs, targets in loader(streams["train"], size["batch"], WINDOW):
        loss, state = chunked_loss(model, inputs, targets, state, k)
        if not torch.isfinite(loss):
            losses.append(math.nan)
            break
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    nats, count, state = 0.0, 0, None
    with torch.no_grad():
        for inputs, targets in loader(streams["valid"], size["batch"], WINDOW):
            logits, state = model(inputs, state)
            nats += F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="sum").item()
            count += targets.numel()
    return {"perplexity": math.exp(min(nats / count, 700)), "losses": losses}


def saturation(perplexity: dict[int, float]) -> int:
    """The shortest k whose perplexity is within `NO_GAIN` of the cell's best.

    >>> saturation({5: 200.0, 10: 150.0, 20: 149.0, 35: 148.8})
    10
    """
    best = min(perplexity.values())
    return min(k for k, p in perplexity.items() if p <= best * (1 + NO_GAIN))


def finding(perplexity: dict[str, dict[int, float]]) -> str:
    """What the table shows: each cell's gain from k = 5 to its best k, and where it stops."""
    parts = []
    for cell, by_k in perplexity.items():
        best_k = min(by_k, key=by_k.get)
        gain = 1 - by_k[best_k] / by_k[TRUNCATIONS[0]]
        parts.append(
            f"the {CELLS[cell]} goes from perplexity {by_k[TRUNCATIONS[0]]:.1f} at k = "
            f"{TRUNCATIONS[0]} to {by_k[best_k]:.1f} at k = {best_k} ({gain:.0%} lower) and "
            f"gains less than {NO_GAIN:.0%} past k = {saturation(by_k)}"
        )
    return "In this run " + "; ".join(parts) + "."


def run(out_dir: str | Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Validation perplexity on PTB against the truncation length k, for a tanh RNN and an LSTM.

    Examples
    --------
    >>> import tempfile
    >>> result = run(tempfile.mkdtemp(), quick=True)  # doctest: +SKIP
    >>> sorted(result["numbers"]["perplexity"])  # doctest: +SKIP
    ['lstm', 'rnn']
    """
    started = time.perf_counter()
    size = SETTINGS[quick]
    streams, vocab_size = ptb_ids(size["vocab"], size["train_tokens"], size["valid_tokens"])
    perplexity: dict[str, dict[int, float]] = {}
    losses: dict[str, dict[int, list[float]]] = {}
    with reproducible(seed):
        for cell in CELLS:
            for k in TRUNCATIONS:
                result = train_and_validate(cell, k, streams, vocab_size, size, seed)
                perplexity.setdefault(cell, {})[k] = result["perplexity"]
                losses.setdefault(cell, {})[k] = result["losses"]

    fig, (ax,) = figure()
    for i, (cell, by_k) in enumerate(perplexity.items()):
        ax.plot(list(by_k), list(by_k.values()), label=CELLS[cell], **marker(i))
    ax.set(
        xscale="log",
        xlabel="truncation length k (steps the gradient reaches back)",
        ylabel="validation perplexity",
        title=f"PTB, hidden {size['hidden']}, windows of {WINDOW}",
    )
    ax.minorticks_off()  # the log axis's own minor labels would overlap the k labels
    ax.set_xticks(TRUNCATIONS, [str(k) for k in TRUNCATIONS])
    ax.legend()

    rnn, lstm = perplexity["rnn"], perplexity["lstm"]
    checks = {
        f"the LSTM gains from a longer k (k = {WINDOW} below k = {TRUNCATIONS[0]})": (
            lstm[WINDOW] < lstm[TRUNCATIONS[0]]
        ),
        "the tanh RNN stops gaining at a shorter k than the LSTM": saturation(rnn)
        < saturation(lstm),
        f"the LSTM beats the tanh RNN at k = {WINDOW}": lstm[WINDOW] < rnn[WINDOW],
    }
    numbers = {
        "vocab": vocab_size,
        "hidden": size["hidden"],
        "batch": size["batch"],
        "window": WINDOW,
        "train_tokens": len(streams["train"]),
        "valid_tokens": len(streams["valid"]),
        "perplexity": {
            cell: {str(k): p for k, p in by_k.items()} for cell, by_k in perplexity.items()
        },
        "saturation_k": {cell: saturation(by_k) for cell, by_k in perplexity.items()},
        "final_train_loss": {
            cell: {str(k): (v[-1] if v else math.nan) for k, v in by_k.items()}
            for cell, by_k in losses.items()
        },
    }
    return record(
        out_dir,
        name="bptt-truncation",
        title="Truncated BPTT on PTB: validation perplexity against the truncation length k",
        claim="Truncating backpropagation costs accuracy; the vanilla RNN stops gaining from a "
        "longer k early (its gradient vanishes), the LSTM keeps gaining further.",
        quick=quick,
        seed=seed,
        started=started,
        headers=["k", *(f"{name} perplexity" for name in CELLS.values())],
        rows=[[k, rnn[k], lstm[k]] for k in TRUNCATIONS],
        numbers=numbers,
        checks=checks,
        fig=fig,
        finding=finding(perplexity),
    )
