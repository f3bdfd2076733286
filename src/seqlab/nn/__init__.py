"""Recurrent layers written from their equations, trained with hand-written BPTT.

``RNN`` (tanh, relu or sigmoid), ``LSTM`` and ``GRU`` and their single-step cells are drop-in
replacements of torch.nn's (same arguments, parameter names, shapes and returns, so
``load_state_dict`` works both ways). Their backward passes are ``torch.autograd.Function``\\ s
that walk the time axis backwards by hand. Extras for the lab: ``lengths=`` for padded batches,
``return_gates=True`` and ``keep_state_grads=True`` / ``module.state_grads`` (∂L/∂h_k for every
step k).

Three implementations compute the same function (``seqlab.nn.implementation``):

- ``seqlab.nn.reference``: the lecture's equations, one step at a time, each hand-written
  backward step next to its forward step. Read this one first. float64 runs it, and so does
  any module with ``impl="reference"`` or any call inside ``reference_mode()``.
- the torch-op loops of ``seqlab.nn.bptt_*`` (``_forward_steps``/``_backward_steps``): the
  same loop with preallocated buffers and in-place ops; CUDA and CPU dtypes but float32.
- the fused loops of ``seqlab.nn.bptt_*``: on CPU float32, per step one product (oneDNN or
  ``torch.mm``) and one numba kernel (``fused_steps``) for all the elementwise work.

The stacked gate rows (torch.nn's i, f, g, o and r, z, n) are named once, in ``seqlab.nn.gates``.

>>> import torch
>>> from seqlab.nn import LSTM
>>> output, (h_n, c_n) = LSTM(4, 8)(torch.randn(10, 3, 4))
>>> output.shape
torch.Size([10, 3, 8])
"""

from seqlab.nn.base import RNNBase, RNNInputError
from seqlab.nn.cells import GRUCell, LSTMCell, RNNCell
from seqlab.nn.gates import GRU_GATES, LSTM_GATES, GateLayout
from seqlab.nn.implementation import IMPLS, reference_mode
from seqlab.nn.modules import GRU, LSTM, RNN

__all__ = [
    "GRU",
    "GRU_GATES",
    "IMPLS",
    "LSTM",
    "LSTM_GATES",
    "RNN",
    "GRUCell",
    "GateLayout",
    "LSTMCell",
    "RNNBase",
    "RNNCell",
    "RNNInputError",
    "reference_mode",
]
