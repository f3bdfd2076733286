"""The small networks the experiments train: a ``seqlab.nn`` recurrent layer between an input
map and a linear read-out, plus the one training loop they all share.

The recurrent layers come from :mod:`seqlab.nn` (hand-written BPTT), never from ``torch.nn``:
the lab measures seqlab's own layers.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from tqdm.auto import tqdm

from seqlab import nn as seqnn

#: Cell names the experiments accept, in the order the lecture introduces them.
CELLS = ("rnn-sigmoid", "rnn-tanh", "rnn-relu", "lstm", "gru")

#: Forget-gate bias of the LSTMs built here. 1 instead of 0 (Gers et al. 2000; Jozefowicz et al.
#: 2015) starts the cell path near "keep", the standard setting whose effect the lab shows.
LSTM_FORGET_BIAS = 1.0


def recurrent_layer(cell: str, input_size: int, hidden_size: int, **kwargs) -> nn.Module:
    """A one-layer ``seqlab.nn`` recurrent layer named by ``cell`` (one of :data:`CELLS`).

    Examples
    --------
    >>> layer = recurrent_layer("rnn-tanh", 3, 8)
    >>> out, h = layer(torch.zeros(5, 2, 3))
    >>> tuple(out.shape)
    (5, 2, 8)
    """
    if cell.startswith("rnn-"):
        return seqnn.RNN(input_size, hidden_size, nonlinearity=cell[4:], **kwargs)
    if cell == "lstm":
        layer = seqnn.LSTM(input_size, hidden_size, **kwargs)
        forget = seqnn.LSTM_GATES.rows("f", hidden_size)
        with torch.no_grad():
            layer.bias_ih_l0[forget] = LSTM_FORGET_BIAS
            layer.bias_hh_l0[forget] = 0.0
        return layer
    if cell == "gru":
        return seqnn.GRU(input_size, hidden_size, **kwargs)
    raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")


class SequenceModel(nn.Module):
    """input map -> recurrent layer -> linear read-out.

    ``vocab`` given: the input is a LongTensor (T, B) of ids, embedded by a learned table;
    otherwise the input is a float tensor (T, B, input_size). ``per_step`` chooses a prediction at
    every step (T, B, out) or only at the last one (B, out).
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        out_size: int,
        *,
        vocab: int | None = None,
        per_step: bool = False,
        keep_state_grads: bool = False,
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, input_size) if vocab else None
        kwargs = {"keep_state_grads": True} if keep_state_grads else {}
        self.rnn = recurrent_layer(cell, input_size, hidden_size, **kwargs)
        self.head = nn.Linear(hidden_size, out_size)
        self.per_step = per_step

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.embed is not None:
            x = self.embed(x)  # (T, B) -> (T, B, E)
        out, _ = self.rnn(x)  # (T, B, H)
        return self.head(out if self.per_step else out[-1])


def train(
    model: nn.Module,
    batch: Callable[[torch.Generator], tuple[torch.Tensor, torch.Tensor]],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    steps: int,
    generator: torch.Generator,
    lr: float = 1e-2,
    clip: float = 1.0,
    stop_below: float | None = None,
    progress: str | None = None,
) -> list[float]:
    """Adam on fresh batches for up to ``steps`` steps; returns the loss of every step run.

    Gradients are clipped to norm ``clip`` so that an exploding ReLU RNN shows up as a bad loss,
    not as a crash. A non-finite loss stops training (the remaining steps are not run), and so
    does a mean loss over the last 10 steps below ``stop_below``: the task is solved, and the
    CPU time is better spent on the runs that are not.
    """
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses: list[float] = []
    bar = tqdm(range(steps), desc=progress, leave=False, disable=progress is None)
    for _ in bar:
        x, y = batch(generator)
        loss = loss_fn(model(x), y)
        if not torch.isfinite(loss):
            losses.append(float("nan"))
            break
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.4f}", refresh=False)
        if stop_below is not None and len(losses) >= 10 and sum(losses[-10:]) < 10 * stop_below:
            break
    return losses
