"""The gate layout of each cell, defined once: which rows of the stacked weights hold which gate.

torch.nn stacks the gates of a cell along the first axis of ``weight_ih``, ``weight_hh`` and the
biases: LSTM rows ``[i; f; g; o]`` (``g`` is the lecture's candidate ``C~``), GRU rows
``[r; z; n]``, each block ``hidden_size`` rows long. seqlab keeps that layout so that
``load_state_dict`` works both ways; every piece of code that needs one gate's rows asks the
layout here instead of writing ``2 * H : 3 * H``. (The numba kernels in ``fused_steps`` index by
offset for speed; their offsets follow this layout.)

>>> import torch
>>> w = torch.arange(8.0).view(8, 1)  # an LSTM weight with hidden_size 2
>>> i, f, g, o = LSTM_GATES.split(w)
>>> f.flatten().tolist(), LSTM_GATES.rows("f", 2)
([2.0, 3.0], slice(2, 4, None))
>>> LSTM_GATES.join(i=i, f=f, g=g, o=o).equal(w)
True
"""

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class GateLayout:
    """Gate names in the order their blocks of ``hidden_size`` rows are stacked.

    Attributes
    ----------
    names : tuple of str
        One name per gate, in stacking order.
    """

    names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        """Position of gate `name` in the stack."""
        return self.names.index(name)

    def rows(self, name: str, hidden_size: int, through: str | None = None) -> slice:
        """The rows of gate `name` (up to and including gate `through`, if given) in a stacked
        weight or bias of a cell with `hidden_size`.

        >>> GRU_GATES.rows("r", 5, through="z")
        slice(0, 10, None)
        """
        last = self.index(name if through is None else through)
        return slice(self.index(name) * hidden_size, (last + 1) * hidden_size)

    def split(self, stacked: torch.Tensor, dim: int = 0) -> tuple[torch.Tensor, ...]:
        """One view per gate, in the order of `names`, cut from `stacked` along `dim`."""
        return stacked.chunk(len(self.names), dim=dim)

    def named(self, stacked: torch.Tensor, dim: int = 0) -> dict[str, torch.Tensor]:
        """`split` as a dict keyed by gate name."""
        return dict(zip(self.names, self.split(stacked, dim), strict=True))

    def join(self, dim: int = 0, **gates: torch.Tensor) -> torch.Tensor:
        """The inverse of `split`: one tensor per gate name, concatenated in stacking order."""
        if set(gates) != set(self.names):
            raise ValueError(f"join needs exactly the gates {self.names}, got {tuple(gates)}")
        return torch.cat([gates[name] for name in self.names], dim=dim)


#: torch.nn's LSTM: input gate, forget gate, candidate cell ``g`` (= C~), output gate.
LSTM_GATES = GateLayout(("i", "f", "g", "o"))
#: torch.nn's GRU: reset gate, update gate, candidate state ``n``.
GRU_GATES = GateLayout(("r", "z", "n"))
#: The Elman RNN has one block: the pre-activation of ``h_t``.
RNN_GATES = GateLayout(("h",))
