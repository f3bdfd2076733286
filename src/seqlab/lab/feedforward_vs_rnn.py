"""``feedforward-vs-rnn``: the lecture's "Option 1 / Option 2" slides as numbers.

Task (:func:`seqlab.lab.tasks.first_token`): name the first token of a sequence of random
distractors, for sequences of varying length L — the evidence sits L − 1 steps back.

- Option 1, an MLP over a fixed window of ``MLP_LENGTH`` one-hot tokens: it solves its own length
  but cannot even take another one (the input size is part of its weights);
- Option 2, a causal 1-D CNN with a fixed receptive field (3 layers of width 3: 7 tokens) read at
  the last position: it sees the first token only when L ≤ 7 and guesses beyond;
- a recurrent net (``seqlab.nn.GRU``) reads any length and carries the token in its state.

Run it: ``seqlab lab feedforward-vs-rnn``.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from seqlab.lab.experiment import figure, record, reproducible
from seqlab.lab.models import SequenceModel, train
from seqlab.lab.tasks import first_token

CLASSES, VOCAB, EMBED = 4, 12, 16
MLP_LENGTH = 20
CNN_LAYERS, CNN_KERNEL = 3, 3
CNN_FIELD = CNN_LAYERS * (CNN_KERNEL - 1) + 1  # receptive field: 7 tokens
CHANCE = 1.0 / CLASSES

SETTINGS = {
    False: {"lengths": (4, 7, 10, 20, 40), "steps": 600, "batch": 64, "hidden": 32},
    True: {"lengths": (4, 7, 10, 20), "steps": 250, "batch": 64, "hidden": 24},
}


class InputLengthError(ValueError):
    """A fixed-length model was given a sequence of another length."""


class WindowMLP(nn.Module):
    """Option 1: one-hot tokens of a fixed-length window, concatenated, into a 2-layer MLP."""

    def __init__(self, length: int, vocab: int, hidden: int, classes: int) -> None:
        super().__init__()
        self.length, self.vocab = length, vocab
        self.net = nn.Sequential(
            nn.Linear(length * vocab, hidden), nn.ReLU(), nn.Linear(hidden, classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] != self.length:
            raise InputLengthError(
                f"the MLP takes exactly {self.length} tokens ({self.length}×{self.vocab} inputs); "
                f"got {x.shape[0]}: a feed-forward net fixes its input length in its weights"
            )
        onehot = nn.functional.one_hot(x, self.vocab).float()  # (L, B, V)
        return self.net(onehot.permute(1, 0, 2).flatten(1))  # (B, L*V) -> (B, classes)


class CausalCNN(nn.Module):
    """Option 2: stacked causal convolutions; the prediction at the last step sees only the last
    ``layers * (kernel - 1) + 1`` tokens."""

    def __init__(self, vocab: int, hidden: int, classes: int, layers: int, kernel: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, EMBED)
        self.pad = kernel - 1
        widths = [EMBED] + [hidden] * layers
        self.convs = nn.ModuleList(nn.Conv1d(a, b, kernel) for a, b in itertools.pairwise(widths))
        self.head = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.embed(x).permute(1, 2, 0)  # (L, B) -> (B, E, L)
        for conv in self.convs:
            # left padding only: step t never sees the future, and the padding marks the start
            z = torch.relu(conv(nn.functional.pad(z, (self.pad, 0))))
        return self.head(z[:, :, -1])  # (B, hidden) at the last step -> (B, classes)


def accuracy(model: nn.Module, length: int, seed: int) -> float | None:
    """Test accuracy at ``length`` on 512 fresh sequences; None when the model cannot take it."""
    x, y = first_token(512, length, CLASSES, VOCAB, torch.Generator().manual_seed(seed + length))
    with torch.no_grad():
        try:
            return (model(x).argmax(-1) == y).float().mean().item()
        except InputLengthError:
            return None


def run(out_dir: str | Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Train an MLP, a causal CNN and a GRU on the first-token task; test at several lengths.

    Examples
    --------
    It writes ``feedforward-vs-rnn.png`` and ``feedforward-vs-rnn.json`` into ``out_dir``.
    Training takes tens of seconds even in quick mode, so the example is skipped as a doctest;
    ``tests/lab`` runs the experiment.

    >>> result = run("runs/lab", quick=True)  # doctest: +SKIP
    >>> result["numbers"]["accuracy"]["MLP"]["4"] is None  # doctest: +SKIP
    True
    """
    started = time.perf_counter()
    s = SETTINGS[quick]
    lengths, steps, batch, hidden = s["lengths"], s["steps"], s["batch"], s["hidden"]
    ce = nn.functional.cross_entropy
    with reproducible(seed):
        models = {
            f"MLP ({MLP_LENGTH} tokens)": WindowMLP(MLP_LENGTH, VOCAB, 4 * hidden, CLASSES),
            f"CNN (field {CNN_FIELD})": CausalCNN(VOCAB, hidden, CLASSES, CNN_LAYERS, CNN_KERNEL),
            "RNN (GRU)": SequenceModel("gru", EMBED, hidden, CLASSES, vocab=VOCAB),
        }
        acc: dict[str, dict[str, float | None]] = {}
        for label, model in models.items():
            gen = torch.Generator().manual_seed(seed)
            if isinstance(model, WindowMLP):

                def batches(g):
                    return first_token(batch, MLP_LENGTH, CLASSES, VOCAB, g)
            else:
                # a fresh length for every batch, so the net must work at all of them
                def batches(g):
                    n = lengths[int(torch.randint(len(lengths), (1,), generator=g))]
                    return first_token(batch, n, CLASSES, VOCAB, g)

            train(model, batches, ce, steps, gen, lr=1e-2, progress=f"feedforward-vs-rnn: {label}")
            acc[label] = {str(n): accuracy(model, n, seed) for n in (*lengths, MLP_LENGTH)}
    mlp, cnn, rnn = acc

    fig, (ax,) = figure()
    for label in (cnn, rnn):
        points = [(n, acc[label][str(n)]) for n in sorted({*lengths, MLP_LENGTH})]
        ax.plot(*zip(*points, strict=True), marker="o" if label == rnn else "s", label=label)
    # The MLP has one point, at its own length, where the RNN's line usually is too: a large
    # star drawn on top keeps it visible.
    ax.plot(
        [MLP_LENGTH],
        [acc[mlp][str(MLP_LENGTH)]],
        marker="*",
        markersize=18,
        markeredgecolor="black",
        linestyle="none",
        zorder=5,
        label=f"{mlp}: its one length",
    )
    ax.axhline(CHANCE, color="grey", ls="--", label="chance")
    ax.axvline(CNN_FIELD, color="grey", ls=":", label="CNN receptive field")
    ax.set(
        xlabel="sequence length L (evidence L − 1 steps back)",
        ylabel="test accuracy",
        title="first-token task: who can read back?",
        ylim=(0, 1.05),
    )
    ax.legend()

    headers = ["model", *(f"L={n}" for n in sorted({*lengths, MLP_LENGTH}))]
    rows = [
        [label, *(acc[label][str(n)] for n in sorted({*lengths, MLP_LENGTH}))] for label in models
    ]
    inside = [n for n in lengths if n <= CNN_FIELD]
    beyond = [n for n in lengths if n > CNN_FIELD]
    checks = {
        f"the MLP solves its own length ({MLP_LENGTH})": acc[mlp][str(MLP_LENGTH)] > 0.9,
        "the MLP cannot take any other length": all(
            acc[mlp][str(n)] is None for n in lengths if n != MLP_LENGTH
        ),
        f"the CNN solves L ≤ {CNN_FIELD} (inside its receptive field)": all(
            acc[cnn][str(n)] > 0.9 for n in inside
        ),
        f"the CNN guesses for L > {CNN_FIELD} (accuracy < {2 * CHANCE})": all(
            acc[cnn][str(n)] < 2 * CHANCE for n in beyond
        ),
        "the RNN solves every length": all(acc[rnn][str(n)] > 0.9 for n in lengths),
    }
    numbers = {
        "lengths": list(lengths),
        "mlp_length": MLP_LENGTH,
        "cnn_receptive_field": CNN_FIELD,
        "classes": CLASSES,
        "chance": CHANCE,
        "train_steps": steps,
        "accuracy": {"MLP": acc[mlp], "CNN": acc[cnn], "RNN": acc[rnn]},
    }
    return record(
        out_dir,
        name="feedforward-vs-rnn",
        title="Feed-forward vs recurrent: accuracy on the first-token task by length",
        claim="An MLP takes one input length only, a CNN sees only its receptive field; an RNN "
        "reads any length and remembers far back.",
        quick=quick,
        seed=seed,
        started=started,
        headers=headers,
        rows=rows,
        numbers=numbers,
        checks=checks,
        fig=fig,
    )
