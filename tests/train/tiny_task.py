"""A tiny sequence-classification task for the training-loop tests, importable and runnable.

Run as a script (by the resume and torchrun tests) it trains into ``--out`` and can kill itself
with SIGKILL after a given optimizer step, like a machine that loses power mid-epoch.

The model is float64 by default: seqlab.nn runs float64 through its torch-op path, which needs
no kernel compilation, so each subprocess starts in a second.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from seqlab.nn import GRU, LSTM
from seqlab.text import Collate
from seqlab.train import ResumableBatchSampler, SupervisedStep, TrainConfig, Trainer

VOCAB = 12


def make_data(n: int, seed: int) -> list[tuple[list[int], int]]:
    """Sequences of ids 1…11, lengths 2…9; the label says whether id 1 occurs more than id 2."""
    rng = np.random.default_rng(seed)
    data = []
    for _ in range(n):
        ids = rng.integers(1, VOCAB, size=int(rng.integers(2, 10))).tolist()
        data.append((ids, int(ids.count(1) > ids.count(2))))
    return data


class Classifier(nn.Module):
    """Embedding → seqlab.nn recurrent layer (final state) → dropout → linear."""

    def __init__(self, cell: str = "lstm", hidden: int = 12, dropout: float = 0.2) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 8, padding_idx=0)
        self.rnn = (LSTM if cell == "lstm" else GRU)(8, hidden, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, 2)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        _, state = self.rnn(self.embed(x), lengths=lengths)
        h = state[0] if isinstance(state, tuple) else state
        return self.head(self.drop(h[-1]))


def loaders(batch_size: int = 8, n_train: int = 80, n_valid: int = 24, seed: int = 0):
    """Training loader (shuffled, bucketed, resumable) and validation loader."""
    train, valid = make_data(n_train, 1), make_data(n_valid, 2)
    collate = Collate()
    train_sampler = ResumableBatchSampler([len(x) for x, _ in train], batch_size, seed=seed)
    valid_sampler = ResumableBatchSampler([len(x) for x, _ in valid], batch_size, shuffle=False)
    return (
        DataLoader(train, batch_sampler=train_sampler, collate_fn=collate),
        DataLoader(valid, batch_sampler=valid_sampler, collate_fn=collate),
    )


def build(cell: str = "lstm", dtype=torch.float64, lr: float = 0.05, dropout: float = 0.2):
    """A fresh model (same weights for the same seed) and its Adam optimizer."""
    torch.manual_seed(0)
    model = Classifier(cell, dropout=dropout).to(dtype)
    return model, torch.optim.Adam(model.parameters(), lr=lr)


class KillingStep(SupervisedStep):
    """The default step, but the process kills itself before training step ``kill_at``."""

    def __init__(self, kill_at: int | None) -> None:
        super().__init__(nn.CrossEntropyLoss())
        self.kill_at, self.calls = kill_at, 0

    def __call__(self, model, batch):
        if torch.is_grad_enabled():  # training steps only, not the preflight check
            self.calls += 1
            if self.calls == self.kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        return super().__call__(model, batch)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--cell", default="lstm")
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--checkpoint-every", type=int, default=None)
    parser.add_argument("--kill-at", type=int, default=None, help="SIGKILL before this step")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    model, optimizer = build(args.cell, dropout=args.dropout)
    train, valid = loaders(args.batch_size)
    config = TrainConfig(
        epochs=args.epochs,
        metric="accuracy",
        schedule_every="step",
        checkpoint_every=args.checkpoint_every,
        quiet=True,
        curves=False,
    )
    warm_up = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / 15))
    trainer = Trainer(
        model,
        None,
        optimizer,
        config,
        scheduler=warm_up,
        step=KillingStep(args.kill_at),
        evaluate=SupervisedStep(nn.CrossEntropyLoss()).evaluate,
    )
    trainer.fit(train, valid, out=args.out)


if __name__ == "__main__":
    sys.exit(main())
