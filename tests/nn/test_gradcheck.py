"""float64 gradcheck of the hand-written BPTT of every cell and layer (tiny sizes)."""

import pytest
import torch
from torch.autograd import gradcheck

from seqlab.nn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from seqlab.nn.bptt_lstm import LSTMLayerFunction

LAYERS = [
    (RNN, {"nonlinearity": "tanh"}),
    (RNN, {"nonlinearity": "sigmoid"}),
    (RNN, {"nonlinearity": "relu"}),
    (LSTM, {}),
    (GRU, {}),
]


def ids(param):
    cls, kw = param
    return cls.__name__ + "-" + kw.get("nonlinearity", "")


@pytest.mark.parametrize("layer", LAYERS, ids=ids)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_layer_gradcheck(layer, bidirectional):
    cls, kw = layer
    torch.manual_seed(0)
    net = cls(3, 4, num_layers=2, bidirectional=bidirectional, **kw).double()
    x = torch.randn(5, 3, 3, dtype=torch.float64, requires_grad=True)
    D = 2 if bidirectional else 1
    n_states = 2 if cls is LSTM else 1
    hx = [
        torch.randn(2 * D, 3, 4, dtype=torch.float64, requires_grad=True) for _ in range(n_states)
    ]
    lengths = torch.tensor([2, 5, 1])
    params = list(net.parameters())

    def f(x, *rest):
        states, weights = rest[:n_states], rest[n_states:]
        out, final = torch.func.functional_call(
            net,
            dict(zip([n for n, _ in net.named_parameters()], weights, strict=True)),
            (x, states[0] if n_states == 1 else tuple(states)),
            {"lengths": lengths},
        )
        final = torch.cat(final) if isinstance(final, tuple) else final
        return out, final

    # fast mode checks random projections of the Jacobian: every entry is still involved
    assert gradcheck(f, (x, *hx, *params), eps=1e-6, atol=1e-5, fast_mode=True)


@pytest.mark.parametrize(
    "cell",
    [RNNCell(3, 4), RNNCell(3, 4, nonlinearity="sigmoid"), LSTMCell(3, 4), GRUCell(3, 4)],
    ids=["rnn", "rnn-sigmoid", "lstm", "gru"],
)
def test_cell_gradcheck(cell):
    cell = cell.double()
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    h = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    c = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    names = [n for n, _ in cell.named_parameters()]

    def f(x, h, c, *weights):
        hx = (h, c) if isinstance(cell, LSTMCell) else h
        out = torch.func.functional_call(cell, dict(zip(names, weights, strict=True)), (x, hx))
        return torch.cat(out) if isinstance(out, tuple) else out

    assert gradcheck(f, (x, h, c, *cell.parameters()), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("reverse", [False, True])
def test_layer_function_gradcheck_without_bias_and_ragged(reverse):
    """The autograd function itself, including inputs that need no gradient (bias=None)."""
    torch.manual_seed(1)
    d = {"dtype": torch.float64, "requires_grad": True}
    args = (
        torch.randn(4, 3, 2, **d),
        torch.randn(3, 5, **d),
        torch.randn(3, 5, **d),
        torch.randn(20, 2, **d),
        torch.randn(20, 5, **d),
    )

    def f(*a):
        y, h, c, _, _ = LSTMLayerFunction.apply(*a, None, None, [3, 2, 2, 1], reverse, None)
        return y, h, c

    assert gradcheck(f, args, eps=1e-6, atol=1e-5, fast_mode=True)
