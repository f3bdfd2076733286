"""The reference implementation (seqlab.nn.reference): gradcheck, torch.nn, the fast paths, impl."""

import pytest
import torch
from torch.autograd import gradcheck

from seqlab.nn import (
    GRU,
    GRU_GATES,
    LSTM,
    LSTM_GATES,
    RNN,
    GRUCell,
    LSTMCell,
    RNNCell,
    RNNInputError,
    reference_mode,
)
from seqlab.nn.reference import (
    ReferenceGRUFunction,
    ReferenceLSTMFunction,
    ReferenceRNNFunction,
)

from .test_against_torch import KINDS, assert_agree, assert_close, configs, inputs, pair

RAGGED = [3, 2, 2, 1]  # batch_sizes of lengths (4, 3, 1)


def layer_args(cell: str, bias: bool, seed: int = 0):
    """Float64 leaves (x, states…, w_ih, w_hh, b_ih, b_hh) of one layer direction, T=4, B=3."""
    gen = torch.Generator().manual_seed(seed)
    G = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    I, H = 2, 3

    def leaf(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64).requires_grad_()

    states = [leaf(3, H) for _ in range(2 if cell == "lstm" else 1)]
    biases = [leaf(G * H), leaf(G * H)] if bias else [None, None]
    return [leaf(4, 3, I), *states, leaf(G * H, I), leaf(G * H, H), *biases]


def differentiable_outputs(cell, nonlinearity, reverse):
    """The reference function of `cell` with its differentiable outputs only."""
    if cell == "rnn":
        return lambda *a: ReferenceRNNFunction.apply(*a, nonlinearity, RAGGED, reverse, None)
    if cell == "lstm":
        return lambda *a: ReferenceLSTMFunction.apply(*a, RAGGED, reverse, None)[:3]
    return lambda *a: ReferenceGRUFunction.apply(*a, RAGGED, reverse, None)[:2]


CELLS = [("rnn", "tanh"), ("rnn", "relu"), ("rnn", "sigmoid"), ("lstm", None), ("gru", None)]


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: "-".join(filter(None, c)))
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_reference_functions_pass_gradcheck(cell, reverse, bias):
    kind, nonlinearity = cell
    args = [a for a in layer_args(kind, bias) if a is not None]
    function = differentiable_outputs(kind, nonlinearity, reverse)

    def f(*leaves):
        full = list(leaves) + ([] if bias else [None, None])
        return function(*full)

    assert gradcheck(f, args, eps=1e-6, atol=1e-5)


def compare_with_torch(kind, cfg, dtype, impl):
    """`test_against_torch.run_both` with seqlab's layer built with `impl`."""
    ours, ref = pair(kind, cfg, dtype)
    ours.impl = impl
    x, lengths, hx = inputs(kind, cfg, dtype)
    results = []
    for net in (ours, ref):
        x_ = x.clone().requires_grad_()
        h_ = None
        if hx is not None:
            h_ = tuple(h.clone().requires_grad_() for h in hx) if kind == "lstm" else hx.clone()
            if kind != "lstm":
                h_.requires_grad_()
        if net is ours:
            out, states = net(x_, h_, lengths=lengths)
        else:
            packed = torch.nn.utils.rnn.pack_padded_sequence(
                x_, lengths, batch_first=cfg["batch_first"], enforce_sorted=False
            )
            out, states = net(packed, h_)
            out, _ = torch.nn.utils.rnn.pad_packed_sequence(
                out, batch_first=cfg["batch_first"], total_length=cfg["T"]
            )
        s = torch.cat(states) if isinstance(states, tuple) else states
        w = torch.linspace(-1, 1, out.numel(), dtype=dtype).view_as(out)
        loss = (out * w).sum() + (s**2).sum()
        leaves = [x_, *net.parameters()]
        if h_ is not None:
            leaves += list(h_) if isinstance(h_, tuple) else [h_]
        results.append((out, s, torch.autograd.grad(loss, leaves)))
    return results


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("cfg", configs(8, seed=21), ids=lambda c: str(c["seed"]))
def test_reference_matches_torch_nn(kind, cfg):
    """Outputs, final states, the input's, the states' and every parameter's gradient, with
    lengths, bidirectional and stacked layers (the configurations vary all of them)."""
    assert_agree(compare_with_torch(kind, cfg, torch.float64, "reference"), 1e-12)
    assert_agree(compare_with_torch(kind, cfg, torch.float32, "reference"), 1e-5)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("cfg", configs(4, seed=22), ids=lambda c: str(c["seed"]))
def test_fast_torch_op_loops_match_torch_nn_in_float64(kind, cfg):
    """float64 runs the reference by default: impl="fast" keeps the torch-op loops checked."""
    assert_agree(compare_with_torch(kind, cfg, torch.float64, "fast"), 1e-12)


@pytest.mark.parametrize("name", ["rnn_sigmoid", "rnn_tanh", "lstm", "gru"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_reference_and_fast_agree_on_gates_and_state_grads(name, dtype):
    """What torch.nn cannot check: the sigmoid RNN, return_gates and state_grads."""
    make = {
        "rnn_sigmoid": lambda: RNN(4, 5, 2, nonlinearity="sigmoid", bidirectional=True),
        "rnn_tanh": lambda: RNN(4, 5, 2, bidirectional=True),
        "lstm": lambda: LSTM(4, 5, 2, bidirectional=True),
        "gru": lambda: GRU(4, 5, 2, bidirectional=True),
    }[name]
    torch.manual_seed(0)
    fast = make().to(dtype)
    reference = make().to(dtype)
    reference.load_state_dict(fast.state_dict())
    fast.impl, reference.impl = "fast", "reference"
    x = torch.randn(9, 4, 4, dtype=dtype)
    lengths = torch.tensor([4, 9, 1, 6])
    w = torch.randn(9, 4, 10, dtype=dtype)
    results = []
    for net in (fast, reference):
        x_ = x.clone().requires_grad_()
        out, _, gates = net(x_, lengths=lengths, return_gates=True, keep_state_grads=True)
        (out * w).sum().backward()
        results.append([out, x_.grad, net.state_grads, *gates.values()])
        results[-1] += [p.grad for p in net.parameters()]
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    assert len(results[0]) == len(results[1])
    for a, b in zip(*results, strict=True):
        assert_close(a, b, tol)


@pytest.mark.parametrize("kind", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_reference_cells_match_torch_nn(kind, dtype):
    import seqlab.nn as snn

    names = {"lstm": "LSTMCell", "gru": "GRUCell", "rnn_tanh": "RNNCell", "rnn_relu": "RNNCell"}
    extra = {"nonlinearity": "relu"} if kind == "rnn_relu" else {}
    torch.manual_seed(0)
    ref = getattr(torch.nn, names[kind])(5, 6, **extra).to(dtype)
    ours = getattr(snn, names[kind])(5, 6, impl="reference", **extra).to(dtype)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(3, 5, dtype=dtype)
    hx = torch.randn(2 if kind == "lstm" else 1, 3, 6, dtype=dtype)
    results = []
    for net in (ours, ref):
        x_, h_ = x.clone().requires_grad_(), hx.clone().requires_grad_()
        out = net(x_, (h_[0], h_[1]) if kind == "lstm" else h_[0])
        out = torch.cat(out) if isinstance(out, tuple) else out
        loss = (out * torch.arange(out.numel(), dtype=dtype).view_as(out)).sum()
        results.append([out, *torch.autograd.grad(loss, [x_, h_, *net.parameters()])])
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    for a, b in zip(*results, strict=True):
        assert_close(a, b, tol)


def backward_name(module, x, **kw):
    """Name of the autograd node that produced the module's output: which function ran."""
    return module(x, **kw)[0].grad_fn.name()


@pytest.mark.parametrize(
    "cls, name", [(RNN, "RNN"), (LSTM, "LSTM"), (GRU, "GRU")], ids=["rnn", "lstm", "gru"]
)
def test_which_implementation_runs(cls, name):
    x32 = torch.randn(3, 2, 4)
    layer = cls(4, 5)
    assert backward_name(layer, x32.requires_grad_()) == f"{name}LayerFunctionBackward"
    assert backward_name(layer.double(), x32.double()) == f"Reference{name}FunctionBackward"
    layer.impl = "fast"
    assert backward_name(layer, x32.double()) == f"{name}LayerFunctionBackward"
    with reference_mode():  # overrides every module's impl
        assert backward_name(layer, x32.double()) == f"Reference{name}FunctionBackward"
        assert backward_name(cls(4, 5), x32) == f"Reference{name}FunctionBackward"
    assert backward_name(layer, x32.double()) == f"{name}LayerFunctionBackward"
    assert backward_name(cls(4, 5, impl="reference"), x32) == f"Reference{name}FunctionBackward"


@pytest.mark.parametrize(
    "cell, name",
    [(RNNCell, "RNN"), (LSTMCell, "LSTM"), (GRUCell, "GRU")],
    ids=["rnn", "lstm", "gru"],
)
def test_cells_select_the_reference_like_layers(cell, name):
    x = torch.randn(2, 4, requires_grad=True)
    out = cell(4, 5, impl="reference")(x)
    out = out[0] if isinstance(out, tuple) else out
    assert out.grad_fn.name() == f"Reference{name}FunctionBackward"
    out = cell(4, 5)(x)
    out = out[0] if isinstance(out, tuple) else out
    assert out.grad_fn.name() == f"{name}LayerFunctionBackward"


@pytest.mark.parametrize("make", [lambda **kw: LSTM(3, 4, **kw), lambda **kw: GRUCell(3, 4, **kw)])
def test_impl_is_an_attribute_kept_across_state_dict_and_shown_in_repr(make):
    module = make(impl="reference")
    assert module.impl == "reference"
    assert "impl='reference'" in repr(module)
    assert "impl" not in repr(make())  # the default is not shown
    state = module.state_dict()
    assert not any("impl" in key for key in state)
    module.load_state_dict(make(impl="fast").state_dict())
    assert module.impl == "reference"
    module.impl = "fast"
    assert "impl='fast'" in repr(module)


@pytest.mark.parametrize("bad", ["slow", "Reference", "", None, 1])
def test_unknown_impl_names_the_choices(bad):
    with pytest.raises(RNNInputError, match="'auto', 'fast', 'reference'"):
        LSTM(3, 4, impl=bad)
    with pytest.raises(RNNInputError, match="'auto', 'fast', 'reference'"):
        RNNCell(3, 4, impl=bad)
    layer = GRU(3, 4)
    with pytest.raises(RNNInputError, match="impl must be one of"):
        layer.impl = bad
    assert layer.impl == "auto"


def test_gate_layout_split_join_and_rows():
    H = 3
    w = torch.arange(4 * H * 2.0).view(4 * H, 2)
    named = LSTM_GATES.named(w)
    assert list(named) == ["i", "f", "g", "o"]
    for name, block in named.items():
        assert torch.equal(block, w[LSTM_GATES.rows(name, H)])
    assert torch.equal(LSTM_GATES.join(**named), w)
    assert GRU_GATES.rows("r", H, through="z") == slice(0, 2 * H)
    assert GRU_GATES.rows("n", H) == slice(2 * H, 3 * H)
    with pytest.raises(ValueError, match="exactly the gates"):
        GRU_GATES.join(r=w, z=w)


def test_gate_layout_is_torch_nn_order():
    """The named rows act as their names say in torch.nn's own LSTM and GRU."""
    H = 4
    x, h0, c0 = torch.randn(1, 1, 3), torch.randn(1, 1, H), torch.full((1, 1, H), 5.0)
    lstm = torch.nn.LSTM(3, H)
    with torch.no_grad():
        lstm.bias_ih_l0[LSTM_GATES.rows("f", H)] = -100  # forget gate shut: C_1 = i*g, |C_1| < 1
        lstm.bias_ih_l0[LSTM_GATES.rows("i", H)] = 100  # input gate open: C_1 = g
    _, (_, c1) = lstm(x, (h0, c0))
    gates = LSTM(3, H)
    gates.load_state_dict(lstm.state_dict())
    g = gates(x, (h0, c0), return_gates=True)[2]["g"]
    assert_close(c1, g[0], 1e-6)
    gru = torch.nn.GRU(3, H)
    with torch.no_grad():
        gru.bias_ih_l0[GRU_GATES.rows("z", H)] = 100  # update gate 1: h_1 = h_0
    _, h1 = gru(x, h0)
    assert_close(h1, h0, 1e-6)


@pytest.mark.gpu
@pytest.mark.parametrize("cls", [LSTM, GRU, RNN], ids=["lstm", "gru", "rnn"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cuda_torch_op_loops_match_the_cpu_reference(cls, dtype):
    """CUDA runs the torch-op loops (float64 only with impl="fast"): the reference checks them."""
    torch.manual_seed(0)
    cpu = cls(5, 7, num_layers=2, bidirectional=True, impl="reference").to(dtype)
    gpu = cls(5, 7, num_layers=2, bidirectional=True, impl="fast").to(dtype).cuda()
    gpu.load_state_dict(cpu.state_dict())
    x = torch.randn(8, 3, 5, dtype=dtype)
    lengths = torch.tensor([8, 2, 5])
    results = []
    for net, dev in ((cpu, "cpu"), (gpu, "cuda")):
        xd = x.to(dev).requires_grad_()
        out, _ = net(xd, lengths=lengths, keep_state_grads=True)
        out.pow(2).sum().backward()
        results.append([out, xd.grad, net.state_grads, *(p.grad for p in net.parameters())])
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    for a, b in zip(*results, strict=True):
        assert_close(b.cpu(), a, tol)


def test_reference_relu_backward_selects_like_torch_where_the_gradient_is_nan():
    # where h <= 0 relu passes no gradient: a NaN arriving there gives 0 (torch), not 0·NaN
    torch.manual_seed(0)
    ours = RNN(3, 4, nonlinearity="relu", impl="reference").double()
    theirs = torch.nn.RNN(3, 4, nonlinearity="relu").double()
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(5, 2, 3, dtype=torch.float64, requires_grad=True)
    y_ours, y_theirs = ours(x)[0], theirs(x)[0]
    grad = torch.ones_like(y_ours)
    grad[(y_theirs <= 0).detach()] = float("nan")
    (dx_ours,) = torch.autograd.grad(y_ours, x, grad)
    (dx_theirs,) = torch.autograd.grad(y_theirs, x, grad)
    assert torch.equal(torch.isnan(dx_ours), torch.isnan(dx_theirs))
    assert torch.allclose(dx_ours.nan_to_num(), dx_theirs.nan_to_num())
