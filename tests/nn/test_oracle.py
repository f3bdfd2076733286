"""The sigmoid RNN (which torch.nn lacks), gates and ∂L/∂h_k against the autograd loop oracle."""

import pytest
import torch

from seqlab.nn import GRU, LSTM, RNN

from .oracle import run

LAYERS = {
    "rnn_sigmoid": lambda **kw: RNN(4, 5, nonlinearity="sigmoid", **kw),
    "rnn_tanh": lambda **kw: RNN(4, 5, **kw),
    "lstm": lambda **kw: LSTM(4, 5, **kw),
    "gru": lambda **kw: GRU(4, 5, **kw),
}


def kind_of(name):
    return name.split("_")[0]


def setup(name, num_layers, bidirectional, batch_first=False, hx=True, seed=0):
    torch.manual_seed(seed)
    net = LAYERS[name](num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    T, B = 9, 4
    x = torch.randn(T, B, 4)
    lengths = torch.tensor([4, 9, 1, 6])
    n = 2 if kind_of(name) == "lstm" else 1
    states = [
        torch.randn(num_layers * (1 + bidirectional), B, 5)
        if hx
        else torch.zeros(num_layers * (1 + bidirectional), B, 5)
        for _ in range(n)
    ]
    return net, x, lengths, states


@pytest.mark.parametrize("num_layers", [1, 3])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_sigmoid_rnn_against_oracle(num_layers, bidirectional, batch_first):
    net, x, lengths, (h0,) = setup("rnn_sigmoid", num_layers, bidirectional, batch_first)
    xs = [x.clone().requires_grad_(), x.clone().requires_grad_()]
    h0s = [h0.clone().requires_grad_(), h0.clone().requires_grad_()]
    out, h_n = net(xs[0].transpose(0, 1) if batch_first else xs[0], h0s[0], lengths=lengths)
    out = out.transpose(0, 1) if batch_first else out
    ref_out, (ref_h_n,), _ = run(net, "rnn", xs[1], lengths, [h0s[1]])
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(h_n, ref_h_n)
    w = torch.randn_like(out)
    grads = torch.autograd.grad((out * w).sum() + h_n.sum(), [xs[0], h0s[0], *net.parameters()])
    ref = torch.autograd.grad(
        (ref_out * w).sum() + ref_h_n.sum(), [xs[1], h0s[1], *net.parameters()]
    )
    for g, r in zip(grads, ref, strict=True):
        torch.testing.assert_close(g, r)


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_state_grads_are_total_derivatives(name, bidirectional, batch_first):
    net, x, lengths, states = setup(name, 2, bidirectional, batch_first, seed=3)
    net.keep_state_grads = True
    hx = tuple(states) if len(states) == 2 else states[0]
    out, _ = net(x.transpose(0, 1) if batch_first else x, hx, lengths=lengths)
    w = torch.randn_like(out)
    (out * w).sum().backward()
    got = net.state_grads
    got = got.transpose(0, 1) if batch_first else got
    assert got.shape == (9, 4, 5 * (1 + bidirectional))

    ref_out, _, top = run(net, kind_of(name), x, lengths, states)
    wt = w.transpose(0, 1) if batch_first else w
    (ref_out * wt).sum().backward()
    active = (torch.arange(9).unsqueeze(1) < lengths).unsqueeze(2)  # (T, B, 1)
    expected = torch.cat([torch.stack([h.grad for h in hs]) for hs in top], dim=2) * active
    torch.testing.assert_close(got, expected)


def test_state_grads_per_call_and_cleared():
    net = LSTM(4, 5)
    x = torch.randn(6, 2, 4)
    net(x)[0].sum().backward()
    assert net.state_grads is None  # not asked for
    out, _ = net(x, keep_state_grads=True)
    assert net.state_grads is None  # asked for, but no backward yet
    out.sum().backward()
    assert net.state_grads.shape == (6, 2, 5)
    # gradient of sum(outputs) w.r.t. the last state is exactly 1
    torch.testing.assert_close(net.state_grads[-1], torch.ones(2, 5))


@pytest.mark.parametrize("name", ["lstm", "gru", "rnn_tanh"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_return_gates_match_the_equations(name, bidirectional):
    net, x, lengths, states = setup(name, 2, bidirectional, seed=5)
    hx = tuple(states) if len(states) == 2 else states[0]
    with torch.no_grad():
        _, _, gates = net(x, hx, lengths=lengths, return_gates=True)
    expected_names = {"lstm": {"i", "f", "g", "o", "c"}, "gru": {"r", "z", "n"}, "rnn": set()}
    assert set(gates) == expected_names[kind_of(name)]
    D = 1 + bidirectional
    active = (torch.arange(9).unsqueeze(1) < lengths).unsqueeze(2)
    for g in gates.values():
        assert g.shape == (2 * D, 9, 4, 5)
        assert torch.all(g * ~active == 0)
    if kind_of(name) != "lstm":
        return
    # recompute layer 0 forward direction step by step from the returned gates
    i, f, g, c = (gates[k][0] for k in "ifgc")
    h_prev, c_prev = states[0][0], states[1][0]
    w_ih, w_hh, b_ih, b_hh = net.layer_weights(0, 0)
    for t in range(9):
        pre = x[t] @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh
        pi, pf, pg, po = pre.chunk(4, dim=1)
        a = active[t]
        torch.testing.assert_close(i[t], torch.sigmoid(pi) * a)
        torch.testing.assert_close(f[t], torch.sigmoid(pf) * a)
        torch.testing.assert_close(g[t], torch.tanh(pg) * a)
        c_new = torch.sigmoid(pf) * c_prev + torch.sigmoid(pi) * torch.tanh(pg)
        torch.testing.assert_close(c[t], c_new * a)
        h_new = torch.sigmoid(po) * torch.tanh(c_new)
        h_prev, c_prev = torch.where(a, h_new, h_prev), torch.where(a, c_new, c_prev)
