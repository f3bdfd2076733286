"""Recurrent layers written from their equations, trained with hand-written BPTT.

``RNN`` (tanh, relu or sigmoid), ``LSTM`` and ``GRU`` and their single-step cells are drop-in
replacements of torch.nn's (same arguments, parameter names, shapes and returns, so
``load_state_dict`` works both ways). Their backward passes are ``torch.autograd.Function``\\ s
that walk the time axis backwards by hand (``seqlab.nn.bptt_*``). Extras for the lab:
``lengths=`` for padded batches, ``return_gates=True`` and ``keep_state_grads=True`` /
``module.state_grads`` (∂L/∂h_k for every step k).

>>> import torch
>>> from seqlab.nn import LSTM
>>> output, (h_n, c_n) = LSTM(4, 8)(torch.randn(10, 3, 4))
>>> output.shape
torch.Size([10, 3, 8])
"""

from seqlab.nn.base import RNNBase, RNNInputError
from seqlab.nn.cells import GRUCell, LSTMCell, RNNCell
from seqlab.nn.modules import GRU, LSTM, RNN

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNInputError"]
