"""NaN and ±inf propagate through seqlab.nn exactly as through torch.nn, forward and backward.

A NaN or an inf is put into the input, the initial state or a weight; outputs, final states and
every gradient must be NaN exactly where torch.nn's are, ±inf where torch.nn's are, and close
to torch.nn's where those are finite (tanh(+inf) = 1 is finite, for instance). This runs on the
three CPU paths: float32 at a small size (the numba step kernels with ``torch.mm``), float32 at a
size where ``step_product`` switches to oneDNN, and float64 (the torch-op loops). torch.nn has no
sigmoid RNN: that one is compared with the same equations run through autograd.
"""

import math

import numpy as np
import pytest
import torch
from numba import njit

from seqlab.nn import GRU, LSTM, RNN
from seqlab.nn.bptt_common import ONEDNN_MIN_FLOPS

KINDS = {
    "rnn_tanh": (RNN, {"nonlinearity": "tanh"}, 1),
    "rnn_relu": (RNN, {"nonlinearity": "relu"}, 1),
    "rnn_sigmoid": (RNN, {"nonlinearity": "sigmoid"}, 1),
    "lstm": (LSTM, {}, 4),
    "gru": (GRU, {}, 3),
}

# (dtype, B, T, I, H, bidirectional): the compiled whole-sequence loops (B = 1), the numba step
# kernels, the oneDNN step products, float64
PATHS = {
    "float32-loop": (torch.float32, 1, 5, 4, 6, True),
    "float32-fused": (torch.float32, 3, 5, 4, 6, True),
    "float32-onednn": (torch.float32, 64, 3, 8, 256, False),
    "float64": (torch.float64, 3, 5, 4, 6, True),
}

PLACES = ["input", "h0", "c0", "weight_hh", "weight_ih"]
VALUES = {"nan": math.nan, "+inf": math.inf, "-inf": -math.inf}


class SigmoidRNN(torch.nn.Module):
    """A one-layer sigmoid RNN with torch.nn.RNN's parameters, run step by step by autograd."""

    def __init__(self, rnn: torch.nn.RNN):
        super().__init__()
        self.rnn = rnn

    def forward(self, x, h0):
        w_ih, w_hh, b_ih, b_hh = self.rnn.all_weights[0]
        outs, h = [], h0[0]
        for x_t in x:
            h = torch.sigmoid(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
            outs.append(h)
        return torch.stack(outs), h.unsqueeze(0)


def build(kind, path):
    """seqlab's layer and torch.nn's with the same weights, and their inputs (time-major)."""
    cls, extra, _ = KINDS[kind]
    dtype, B, T, I, H, bidirectional = PATHS[path]
    if kind == "rnn_sigmoid":
        bidirectional = False  # the autograd loop above runs one direction
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(1)
    ref_extra = {"nonlinearity": "tanh"} if kind == "rnn_sigmoid" else extra
    ref_cls = {RNN: torch.nn.RNN, LSTM: torch.nn.LSTM, GRU: torch.nn.GRU}[cls]
    ref = ref_cls(I, H, bidirectional=bidirectional, **ref_extra).to(dtype)
    ours = cls(I, H, bidirectional=bidirectional, **extra).to(dtype)
    ours.load_state_dict(ref.state_dict())
    if kind == "rnn_sigmoid":
        ref = SigmoidRNN(ref)
    D = 2 if bidirectional else 1
    x = torch.randn(T, B, I, generator=gen, dtype=dtype)
    states = [
        torch.randn(D, B, H, generator=gen, dtype=dtype) for _ in range(2 if cls is LSTM else 1)
    ]
    return ours, ref, x, states


def poison(ours, ref, x, states, place, value):
    """Put `value` into one element of `place`, in both layers' copies."""
    if place == "input":
        x[1, 0, 0] = value  # step 1 of the first sequence
    elif place == "h0":
        states[0][0, 0, 0] = value
    elif place == "c0":
        states[1][0, 0, 0] = value
    else:
        with torch.no_grad():
            for net in (ours, ref):  # the first direction's weight (SigmoidRNN: rnn.weight_…)
                params = dict(net.named_parameters())
                params[next(n for n in params if n.endswith(place + "_l0"))][0, 0] = value


def run(net, x, states, kind):
    """Outputs, final states and the gradients of a loss that weights each of them differently."""
    x = x.clone().requires_grad_()
    states = [s.clone().requires_grad_() for s in states]
    hx = tuple(states) if kind == "lstm" else states[0]
    out, finals = net(x, hx)
    finals = list(finals) if kind == "lstm" else [finals]
    gen = torch.Generator().manual_seed(2)
    loss = sum(
        (t * torch.randn(t.shape, generator=gen, dtype=t.dtype)).sum() for t in (out, *finals)
    )
    leaves = [x, *states, *net.parameters()]
    grads = torch.autograd.grad(loss, leaves)
    names = ["output", *(f"final state {i}" for i in range(len(finals))), "∂L/∂x"]
    names += [f"∂L/∂state {i}" for i in range(len(states))]
    names += [f"∂L/∂{n}" for n, _ in net.named_parameters()]
    return dict(zip(names, [t.detach() for t in (out, *finals, *grads)], strict=True))


def assert_same_pattern(ours, ref, tol, what):
    """NaN, +inf and -inf at the same elements; finite values close."""
    for name, test in (("NaN", torch.isnan), ("+inf", torch.isposinf), ("-inf", torch.isneginf)):
        mine, theirs = test(ours), test(ref)
        differ = (mine != theirs).sum().item()
        assert differ == 0, (
            f"{what}: {name} at {mine.sum().item()} elements, torch.nn at {theirs.sum().item()} "
            f"({differ} differ)"
        )
    finite = torch.isfinite(ref)
    expected = ref[finite]
    scale = max(1.0, expected.abs().max().item()) if expected.numel() else 1.0
    torch.testing.assert_close(ours[finite], expected, rtol=tol, atol=tol * scale, msg=what)


def cases():
    for path in PATHS:
        for kind in KINDS:
            for place in PLACES:
                if place == "c0" and kind != "lstm":
                    continue
                for value in VALUES:
                    if path == "float32-onednn" and value == "-inf":
                        continue  # the small sizes cover -inf; these products are slow to test
                    yield pytest.param(
                        path, kind, place, value, id=f"{path}-{kind}-{place}-{value}"
                    )


@pytest.mark.parametrize("path, kind, place, value", list(cases()))
def test_nonfinite_propagates_as_in_torch_nn(path, kind, place, value):
    ours, ref, x, states = build(kind, path)
    poison(ours, ref, x, states, place, VALUES[value])
    mine = run(ours, x, states, kind)
    theirs = run(ref, x, states, kind)
    tol = 1e-12 if PATHS[path][0] == torch.float64 else 1e-4
    for (name, a), b in zip(mine.items(), theirs.values(), strict=True):
        assert_same_pattern(a, b, tol, f"{kind} {place}={value}: {name}")
    # the poisoned element reaches the outputs (else the case would test nothing)
    assert not torch.isfinite(torch.cat([t.flatten() for t in theirs.values()])).all()


def test_onednn_size_uses_onednn_step_products():
    _, B, _, _, H, _ = PATHS["float32-onednn"]
    assert 2 * B * H * H >= ONEDNN_MIN_FLOPS  # the smallest product: the RNN's (B, H)·(H, H)
    _, B, _, _, H, _ = PATHS["float32-fused"]
    assert 2 * B * H * 4 * H < ONEDNN_MIN_FLOPS


def test_kernel_tanh_saturates_exactly_and_keeps_nan():
    # σ(±inf) must be exactly 1 or 0 and 1 - tanh²(±inf) exactly 0, or 0 · inf = NaN is missed
    from seqlab.nn import fused_steps

    tanh = fused_steps._tanh

    @njit(fastmath=fused_steps.FASTMATH)
    def apply(a):
        for j in range(a.shape[0]):
            a[j] = tanh(a[j])

    a = np.array([np.inf, -np.inf, 1e30, -1e30, 8.0, -8.0, np.nan, 0.0], dtype=np.float32)
    apply(a)
    assert a[:6].tolist() == [1, -1, 1, -1, 1, -1]
    assert np.isnan(a[6]) and a[7] == 0
