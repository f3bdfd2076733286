"""Single-step cells `RNNCell`, `LSTMCell`, `GRUCell`: torch.nn's interface, one step of BPTT.

A cell is a layer run for T = 1, so each cell calls the same hand-written autograd function as
its layer (the reference or the fast one, by ``impl`` as for the layers); gradients through a
Python loop of cell calls are therefore still hand-written.
"""

import math

import torch
from torch import nn

from seqlab.nn.base import (
    RNNInputError,
    SelectableImpl,
    check_tensor,
    outside_autocast,
    same_device,
)
from seqlab.nn.bptt_gru import GRULayerFunction
from seqlab.nn.bptt_lstm import LSTMLayerFunction
from seqlab.nn.bptt_rnn import NONLINEARITIES, RNNLayerFunction
from seqlab.nn.gates import GRU_GATES, LSTM_GATES, RNN_GATES, GateLayout
from seqlab.nn.inference import (
    gru_step,
    lstm_step,
    prepare_gru,
    prepare_lstm,
    prepare_rnn_tanh,
    rnn_tanh_step,
)
from seqlab.nn.reference import (
    ReferenceGRUFunction,
    ReferenceLSTMFunction,
    ReferenceRNNFunction,
)


class RNNCellBase(SelectableImpl, nn.Module):
    """Parameters ``weight_ih`` (G·H, I), ``weight_hh`` (G·H, H), ``bias_ih``/``bias_hh`` (G·H,).

    G is the number of gates of the cell's `gate_layout`. ``impl`` ("auto", "fast",
    "reference", keyword only) chooses the implementation as for the layers.
    """

    gate_layout: GateLayout

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device=None,
        dtype=None,
        *,
        impl: str = "auto",
    ):
        super().__init__()
        self.impl = impl
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise RNNInputError(f"{name} must be a positive int, got {value!r}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        factory = {"device": device, "dtype": dtype}
        gate_size = len(self.gate_layout) * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(gate_size, input_size, **factory))
        self.weight_hh = nn.Parameter(torch.empty(gate_size, hidden_size, **factory))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(gate_size, **factory))
            self.bias_hh = nn.Parameter(torch.empty(gate_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch.nn's initialisation: every parameter uniform in ±1/√hidden_size."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")
        return s if self.impl == "auto" else s + f", impl={self.impl!r}"

    def _prepare(self, input, hx, names):
        """x (B, I), the states, each (B, H) (zeros where hx is None), the weights, and whether
        the input was batched."""
        weights = tuple(map(self._parameter, ("weight_ih", "weight_hh", "bias_ih", "bias_hh")))
        w = weights[0]
        # what a decoding loop passes: checked without building any message
        if hx is not None and _plain_step(input, hx, names, w, self.hidden_size):
            states = hx if len(names) > 1 else (hx,)
            return input, tuple(states), weights, True
        if not isinstance(input, torch.Tensor) or input.dim() not in (1, 2):
            got = tuple(input.shape) if isinstance(input, torch.Tensor) else type(input).__name__
            raise RNNInputError(f"input must be (B, input_size) or (input_size,), got {got}")
        check_tensor("input", input, (None,) * (input.dim() - 1) + (self.input_size,), w)
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        B = x.shape[0]
        if hx is None:
            states = tuple(w.new_zeros(B, self.hidden_size) for _ in names)
        else:
            given = hx if len(names) > 1 else (hx,)
            if len(names) > 1 and (not isinstance(hx, tuple | list) or len(hx) != 2):
                raise RNNInputError("hx of an LSTMCell must be a tuple (h_0, c_0)")
            shape = (B, self.hidden_size) if batched else (self.hidden_size,)
            for name, h in zip(names, given, strict=True):
                check_tensor(name, h, shape, w)
            states = tuple(h if batched else h.unsqueeze(0) for h in given)
        return x, states, weights, batched


def _plain_step(input, hx, names, w, hidden_size) -> bool:
    """Whether `input` (B, I) and `hx` are batched tensors of the right shapes, dtype and device.

    A check for the common case that builds no messages; anything else goes through
    `check_tensor`, which says what is wrong.
    """
    if type(input) is not torch.Tensor or input.dim() != 2 or input.shape[1] != w.shape[1]:
        return False
    states = hx if len(names) > 1 else (hx,)
    if type(states) not in (tuple, list) or len(states) != len(names):
        return False
    shape, dtype = (input.shape[0], hidden_size), w.dtype
    return (
        input.dtype == dtype
        and same_device(input, w)
        and all(
            type(h) is torch.Tensor and h.shape == shape and h.dtype == dtype and same_device(h, w)
            for h in states
        )
    )


class RNNCell(RNNCellBase):
    """One step of the Elman RNN: ``h' = f(W_ih x + b_ih + W_hh h + b_hh)``, f = tanh|relu|sigmoid.

    Same as ``torch.nn.RNNCell`` plus ``nonlinearity="sigmoid"``. Input (B, I) or (I,); hx
    (B, H) or None; returns h' (B, H).

    Examples
    --------
    >>> import torch
    >>> RNNCell(3, 4, nonlinearity="relu")(torch.randn(2, 3)).shape
    torch.Size([2, 4])
    """

    gate_layout = RNN_GATES

    def __init__(
        self,
        input_size,
        hidden_size,
        bias=True,
        nonlinearity="tanh",
        device=None,
        dtype=None,
        *,
        impl="auto",
    ):
        if nonlinearity not in NONLINEARITIES:
            raise RNNInputError(
                f"nonlinearity must be one of {', '.join(NONLINEARITIES)}; got {nonlinearity!r}"
            )
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype, impl=impl)

    @outside_autocast
    def forward(self, input, hx=None):
        x, (h,), weights, batched = self._prepare(input, hx, ("hx",))
        if self.nonlinearity == "tanh" and self.runs_without_grad():
            prepared = self.prepared_weights.get(0, weights, prepare_rnn_tanh)
            h_n = rnn_tanh_step(x, h, prepared)
            return h_n if batched else h_n[0]
        function = ReferenceRNNFunction if self.uses_reference() else RNNLayerFunction
        x = x.unsqueeze(0)  # a sequence of one step
        _, h_n = function.apply(x, h, *weights, self.nonlinearity, [x.shape[1]], False, None)
        return h_n if batched else h_n.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step (gate order i, f, g, o): returns ``(h', c')``, each (B, H).

    Same as ``torch.nn.LSTMCell``. Input (B, I) or (I,); hx a tuple (h, c) or None.

    Examples
    --------
    >>> import torch
    >>> h, c = LSTMCell(3, 4)(torch.randn(2, 3))
    >>> h.shape, c.shape
    (torch.Size([2, 4]), torch.Size([2, 4]))
    """

    gate_layout = LSTM_GATES

    @outside_autocast
    def forward(self, input, hx=None):
        x, (h, c), weights, batched = self._prepare(input, hx, ("hx[0] (h)", "hx[1] (c)"))
        if self.runs_without_grad():
            prepared = self.prepared_weights.get(0, weights, prepare_lstm)
            h_n, c_n, _ = lstm_step(x, h, c, prepared)
            return (h_n, c_n) if batched else (h_n[0], c_n[0])
        function = ReferenceLSTMFunction if self.uses_reference() else LSTMLayerFunction
        x = x.unsqueeze(0)  # a sequence of one step
        _, h_n, c_n, _, _ = function.apply(x, h, c, *weights, [x.shape[1]], False, None)
        return (h_n, c_n) if batched else (h_n.squeeze(0), c_n.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step (gate order r, z, n): returns h' (B, H).

    Same as ``torch.nn.GRUCell``. Input (B, I) or (I,); hx (B, H) or None.

    Examples
    --------
    >>> import torch
    >>> GRUCell(3, 4)(torch.randn(2, 3)).shape
    torch.Size([2, 4])
    """

    gate_layout = GRU_GATES

    @outside_autocast
    def forward(self, input, hx=None):
        x, (h,), weights, batched = self._prepare(input, hx, ("hx",))
        if self.runs_without_grad():
            prepared = self.prepared_weights.get(0, weights, prepare_gru)
            h_n, _ = gru_step(x, h, prepared)
            return h_n if batched else h_n[0]
        function = ReferenceGRUFunction if self.uses_reference() else GRULayerFunction
        x = x.unsqueeze(0)  # a sequence of one step
        _, h_n, _ = function.apply(x, h, *weights, [x.shape[1]], False, None)
        return h_n if batched else h_n.squeeze(0)
