"""The C++ loops (seqlab.nn.native) against their numba twins, and the paths without them."""

import warnings

import numpy as np
import pytest
import torch

from seqlab.nn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell, native
from seqlab.nn import sequence_loops as numba_loops
from seqlab.nn.bptt_common import schedule

compiled = native.loops()
needs_compiled = pytest.mark.skipif(compiled is None, reason="the C++ loops could not be built")

# (B, T, H): one row; H below, at and past one panel of 16 units; more rows than a register
# block; and steps large enough for the threads to split the units (with two or more cores)
SHAPES = [
    (1, 7, 5),
    (3, 6, 20),
    (7, 9, 33),
    (13, 5, 16),
    (20, 4, 40),
    (8, 5, 100),
    (30, 5, 48),
    (26, 6, 70),
]


def batch_sizes(B, T, ragged):
    return sorted((max(1, B - t // 2) for t in range(T)), reverse=True) if ragged else [B] * T


def scratch(B, width):
    return np.empty((B, width), dtype=np.float32)


def assert_same_function(a, b, x, y_a, y_b):
    """Modules `a` and `b` gave the same outputs `y_a`, `y_b` of `x`, and the same gradients of a
    random loss with respect to `x` and every parameter."""
    torch.testing.assert_close(y_a, y_b, atol=1e-5, rtol=1e-4)
    g = torch.randn_like(y_a)
    grads_a = torch.autograd.grad(y_a, [x, *a.parameters()], g)
    grads_b = torch.autograd.grad(y_b, [x, *b.parameters()], g)
    for ga, gb in zip(grads_a, grads_b, strict=True):
        torch.testing.assert_close(ga, gb, atol=1e-4, rtol=1e-3)


def assert_same(native_out, numba_out, what):
    for a, b in zip(native_out, numba_out, strict=True):
        torch.testing.assert_close(a, b, atol=2e-5, rtol=1e-4, msg=what)


@needs_compiled
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("ragged", [False, True])
def test_lstm_loops_write_what_the_numba_loops_write(shape, reverse, ragged):
    B, T, H = shape
    gen = torch.Generator().manual_seed(B * 100 + T)
    steps = schedule(batch_sizes(B, T, ragged), reverse)
    coords = numba_loops.coordinates(steps)
    gates0 = torch.randn(T, B, 4 * H, generator=gen)
    w = torch.randn(4 * H, H, generator=gen) * 0.3
    h0, c0, dy = (torch.randn(*s, generator=gen) for s in ((B, H), (B, H), (T, B, H)))

    def forward(use_native):
        g, c, tc, y = gates0.clone(), *(torch.zeros(T, B, H) for _ in range(3))
        if use_native:
            compiled.lstm_forward(
                g,
                compiled.pack_forward(w, 4),
                c,
                tc,
                y,
                h0,
                c0,
                steps.coordinates,
                None,
                None,
                None,
            )
        else:
            w_t = w.t().contiguous().numpy()
            numba_loops.lstm_forward_sequence(
                g.numpy(), w_t, c.numpy(), tc.numpy(), y.numpy(), h0.numpy(), c0.numpy(),
                scratch(B, 4 * H), coords,
            )  # fmt: skip
        return g, c, tc, y

    fwd = forward(True)
    assert_same(fwd, forward(False), "lstm forward")
    g, c, tc, _ = fwd

    def backward(use_native):
        dh, dc = h0.clone(), c0.clone()
        d_pre, state_grads, carried = (
            torch.zeros(T, B, 4 * H),
            torch.zeros(T, B, H),
            torch.zeros(B, H),
        )
        if use_native:
            rows = compiled.lstm_backward(
                dh, dc, dy, g, tc, c, c0, d_pre, state_grads, native.backward_weights(w), carried,
                steps.coordinates,
            )  # fmt: skip
        else:
            rows = numba_loops.lstm_backward_sequence(
                dh.numpy(), dc.numpy(), dy.numpy(), g.numpy(), tc.numpy(), c.numpy(), c0.numpy(),
                d_pre.numpy(), state_grads.numpy(), w.numpy(), carried.numpy(), coords,
            )  # fmt: skip
        return dh, dc, d_pre, state_grads, carried[:rows]

    assert_same(backward(True), backward(False), "lstm backward")


@needs_compiled
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("ragged", [False, True])
def test_gru_loops_write_what_the_numba_loops_write(shape, reverse, ragged):
    B, T, H = shape
    gen = torch.Generator().manual_seed(B * 100 + T + 1)
    steps = schedule(batch_sizes(B, T, ragged), reverse)
    coords = numba_loops.coordinates(steps)
    gates0 = torch.randn(T, B, 3 * H, generator=gen)
    w = torch.randn(3 * H, H, generator=gen) * 0.3
    b_hn, h0, dy = (torch.randn(*s, generator=gen) for s in ((H,), (B, H), (T, B, H)))

    def forward(use_native):
        g, m, y = gates0.clone(), torch.zeros(T, B, H), torch.zeros(T, B, H)
        if use_native:
            compiled.gru_forward(
                g, compiled.pack_forward(w, 3), b_hn, m, y, h0, steps.coordinates, None, None, None
            )
        else:
            numba_loops.gru_forward_sequence(
                g.numpy(), w.t().contiguous().numpy(), b_hn.numpy(), m.numpy(), y.numpy(),
                h0.numpy(), scratch(B, 3 * H), coords,
            )  # fmt: skip
        return g, m, y

    fwd = forward(True)
    assert_same(fwd, forward(False), "gru forward")
    g, m, y = fwd

    def backward(use_native):
        dh, through_z = h0.clone(), torch.zeros(B, H)
        d_rec, d_cand = torch.zeros(T, B, 3 * H), torch.zeros(T, B, H)
        state_grads, carried = torch.zeros(T, B, H), torch.zeros(B, H)
        if use_native:
            rows = compiled.gru_backward(
                dh, through_z, dy, g, m, y, h0, d_rec, d_cand, state_grads,
                native.backward_weights(w), carried, steps.coordinates,
            )  # fmt: skip
        else:
            rows = numba_loops.gru_backward_sequence(
                dh.numpy(), through_z.numpy(), dy.numpy(), g.numpy(), m.numpy(), y.numpy(),
                h0.numpy(), d_rec.numpy(), d_cand.numpy(), state_grads.numpy(), w.numpy(),
                carried.numpy(), coords,
            )  # fmt: skip
        return dh, through_z, d_rec, d_cand, state_grads, carried[:rows]

    assert_same(backward(True), backward(False), "gru backward")


@needs_compiled
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("ragged", [False, True])
def test_rnn_tanh_loops_write_what_the_numba_loops_write(shape, reverse, ragged):
    B, T, H = shape
    gen = torch.Generator().manual_seed(B * 100 + T + 2)
    steps = schedule(batch_sizes(B, T, ragged), reverse)
    coords = numba_loops.coordinates(steps)
    y0 = torch.randn(T, B, H, generator=gen)
    w = torch.randn(H, H, generator=gen) * 0.3
    h0, dy = torch.randn(B, H, generator=gen), torch.randn(T, B, H, generator=gen)

    def forward(use_native):
        y = y0.clone()
        if use_native:
            compiled.rnn_tanh_forward(
                y, compiled.pack_forward(w, 1), h0, steps.coordinates, None, None, None
            )
        else:
            w_t = w.t().contiguous().numpy()
            numba_loops.rnn_tanh_sequence(y.numpy(), w_t, h0.numpy(), scratch(B, H), coords)
        return (y,)

    fwd = forward(True)
    assert_same(fwd, forward(False), "rnn forward")
    (y,) = fwd

    def backward(use_native):
        dh, d_pre = h0.clone(), torch.zeros(T, B, H)
        state_grads, carried = torch.zeros(T, B, H), torch.zeros(B, H)
        if use_native:
            rows = compiled.rnn_tanh_backward(
                dh, dy, y, d_pre, state_grads, native.backward_weights(w), carried,
                steps.coordinates,
            )  # fmt: skip
        else:
            rows = numba_loops.rnn_tanh_backward_sequence(
                dh.numpy(), dy.numpy(), y.numpy(), d_pre.numpy(), state_grads.numpy(), w.numpy(),
                carried.numpy(), coords,
            )  # fmt: skip
        return dh, d_pre, state_grads, carried[:rows]

    assert_same(backward(True), backward(False), "rnn backward")


@needs_compiled
@pytest.mark.parametrize("shape", [(1, 6, 20), (9, 5, 33), (30, 4, 48)], ids=str)
@pytest.mark.parametrize("ragged", [False, True])
def test_projections_inside_the_loops_equal_projections_given(shape, ragged):
    B, T, H = shape
    I = 11
    gen = torch.Generator().manual_seed(B + T)
    steps = schedule(batch_sizes(B, T, ragged), reverse=False)
    x = torch.randn(T, B, I, generator=gen)
    h0, c0 = torch.randn(B, H, generator=gen), torch.randn(B, H, generator=gen)
    for gates, run in (
        (4, compiled.lstm_forward),
        (3, compiled.gru_forward),
        (1, compiled.rnn_tanh_forward),
    ):
        w_ih, w_hh = (
            torch.randn(gates * H, I, generator=gen),
            torch.randn(gates * H, H, generator=gen) * 0.3,
        )
        bias = torch.randn(gates * H, generator=gen)
        given = torch.addmm(bias, x.reshape(T * B, I), w_ih.t()).view(T, B, gates * H)
        outputs = []
        for projected in (True, False):
            buffer = given.clone() if projected else torch.zeros_like(given)
            inputs = (
                (None, None, None) if projected else (x, compiled.pack_forward(w_ih, gates), bias)
            )
            packed, y = compiled.pack_forward(w_hh, gates), torch.zeros(T, B, H)
            if gates == 4:
                c = torch.zeros(T, B, H)
                run(buffer, packed, c, None, y, h0, c0, steps.coordinates, *inputs)
                outputs.append((buffer, c, y))
            elif gates == 3:
                run(buffer, packed, c0[0], None, y, h0, steps.coordinates, *inputs)
                outputs.append((buffer, y))
            else:
                out = buffer if projected else y
                run(out, packed, h0, steps.coordinates, *inputs)
                outputs.append((out,))
        sizes = batch_sizes(B, T, ragged)  # positions past a sequence's end are not compared
        for out in outputs:
            for t, n in enumerate(sizes):
                for tensor in out:
                    tensor[t, n:] = 0
        assert_same(*outputs, f"{gates} gates")


@needs_compiled
def test_nan_and_inf_pass_through_the_loops_as_in_torch():
    B, T, H = 3, 4, 20
    x = torch.randn(T, B, 8)
    x[1, 0, 0], x[2, 1, 3] = float("nan"), float("inf")
    for cls in (LSTM, GRU, RNN):
        ours, theirs = cls(8, H), getattr(torch.nn, cls.__name__)(8, H)
        theirs.load_state_dict(ours.state_dict())
        with torch.no_grad():
            got, want = ours(x)[0], theirs(x)[0]
        assert torch.equal(got.isnan(), want.isnan()), cls.__name__
        torch.testing.assert_close(got.nan_to_num(), want.nan_to_num(), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize(
    "make_dy",
    [
        lambda y: torch.ones(()).expand_as(y),  # what y.sum().backward() passes
        lambda y: torch.randn(y.shape[1], y.shape[0], y.shape[2]).transpose(0, 1),
        lambda y: torch.randn_like(y),
    ],
    ids=["expanded", "transposed", "contiguous"],
)
def test_rnn_backward_writes_delta_over_its_own_copy_of_dy_only(make_dy):
    # a non-contiguous ∂L/∂y is copied once and the sweep writes δ_t over the copy; the caller's
    # gradient stays as it was, and the weight gradients are torch.nn's
    torch.manual_seed(0)
    ours, theirs = RNN(6, 24), torch.nn.RNN(6, 24)
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(5, 3, 6)
    y_a, y_b = ours(x)[0], theirs(x)[0]
    dy = make_dy(y_a)
    before = dy.clone()
    grads_a = torch.autograd.grad(y_a, list(ours.parameters()), dy)
    grads_b = torch.autograd.grad(y_b, list(theirs.parameters()), dy)
    assert torch.equal(dy, before)
    for ga, gb in zip(grads_a, grads_b, strict=True):
        torch.testing.assert_close(ga, gb, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [(LSTM, torch.nn.LSTM), (GRU, torch.nn.GRU), (RNN, torch.nn.RNN)],
    ids=["lstm", "gru", "rnn"],
)
@pytest.mark.parametrize("B", [1, 6])
def test_layers_match_torch_nn_without_the_compiled_loops(monkeypatch, ours, theirs, B):
    monkeypatch.setattr(native, "loops", lambda: None)  # the numba loops and per-step products
    torch.manual_seed(B)
    a, b = (
        ours(7, 20, num_layers=2, bidirectional=True),
        theirs(7, 20, num_layers=2, bidirectional=True),
    )
    b.load_state_dict(a.state_dict())
    x = torch.randn(9, B, 7, requires_grad=True)
    y_a, y_b = a(x)[0], b(x)[0]
    assert_same_function(a, b, x, y_a, y_b)


@needs_compiled
def test_backward_sweeps_refuse_w_hh_without_padded_rows():
    # H = 20: the last panel's vector load would read past the row without the zeros
    B, T, H = 2, 3, 20
    steps = schedule([B] * T, False)
    w = torch.randn(H, H)
    with pytest.raises(RuntimeError, match="backward_weights"):
        compiled.rnn_tanh_backward(
            torch.zeros(B, H), torch.zeros(T, B, H), torch.zeros(T, B, H), torch.zeros(T, B, H),
            None, w, torch.zeros(B, H), steps.coordinates,
        )  # fmt: skip
    assert native.backward_weights(w).shape == (H, 32)


def test_padded_width_moves_rows_off_a_multiple_of_4_kib():
    assert native.padded_width(4 * 256) == 4 * 256 + 16  # 4 KiB rows: padded
    assert native.padded_width(4 * 128) == 4 * 128  # 2 KiB: rows already fall in 2 sets
    assert native.padded_width(3 * 200) == 3 * 200


@needs_compiled
@pytest.mark.parametrize("ragged", [False, True])
def test_lstm_with_padded_delta_rows_matches_torch_nn(ragged):
    # H = 256: the sweep writes δ into rows of 4H + 16 floats, the weight gradients read them
    torch.manual_seed(3)
    a, b = LSTM(5, 256, bidirectional=True), torch.nn.LSTM(5, 256, bidirectional=True)
    b.load_state_dict(a.state_dict())
    lengths = torch.tensor([6, 4, 3] if ragged else [6, 6, 6])
    x = torch.randn(6, 3, 5, requires_grad=True)
    pack = torch.nn.utils.rnn.pack_padded_sequence
    y_a = a(pack(x, lengths))[0].data
    y_b = b(pack(x, lengths))[0].data
    assert_same_function(a, b, x, y_a, y_b)


@needs_compiled
@pytest.mark.parametrize("ragged", [False, True])
@pytest.mark.parametrize("T", [2, 7])
def test_lstm_inference_keeping_two_cell_states_matches_torch_nn(ragged, T):
    # without return_gates the loops keep C_t of two steps only, where every row ends at the
    # same step (both directions unragged; the reverse direction always)
    torch.manual_seed(T)
    a, b = LSTM(5, 20, bidirectional=True), torch.nn.LSTM(5, 20, bidirectional=True)
    b.load_state_dict(a.state_dict())
    lengths = torch.tensor([T, T - 1, 1] if ragged else [T, T, T])
    x = torch.nn.utils.rnn.pack_padded_sequence(torch.randn(T, 3, 5), lengths)
    with torch.no_grad():
        (y_a, (h_a, c_a)), (y_b, (h_b, c_b)) = a(x), b(x)
    for got, want in ((y_a.data, y_b.data), (h_a, h_b), (c_a, c_b)):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("B", [1, 5, 20])
def test_decoding_steps_match_torch_nn_cells(B):
    torch.manual_seed(B)
    for ours, theirs in (
        (LSTMCell, torch.nn.LSTMCell),
        (GRUCell, torch.nn.GRUCell),
        (RNNCell, torch.nn.RNNCell),
    ):
        a, b = ours(9, 37), theirs(9, 37)
        b.load_state_dict(a.state_dict())
        x, h = torch.randn(B, 9), torch.randn(B, 37)
        state = (h, torch.randn(B, 37)) if ours is LSTMCell else h
        with torch.inference_mode():
            got, want = a(x, state), b(x, state)
        for g, w in zip(
            got if isinstance(got, tuple) else (got,),
            want if isinstance(want, tuple) else (want,),
            strict=True,
        ):
            torch.testing.assert_close(g, w, atol=1e-5, rtol=1e-4)


def test_a_failed_build_warns_once_and_the_numba_loops_run(monkeypatch):
    import torch.utils.cpp_extension as tooling

    def no_compiler(**_):
        raise RuntimeError("Error building extension: g++: command not found")

    monkeypatch.setattr(tooling, "load", no_compiler)
    native.loops.cache_clear()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert native.loops() is None
            assert native.loops() is None  # cached: no second build, no second warning
            lstm, x = LSTM(4, 6), torch.randn(3, 2, 4)
            with torch.no_grad():
                lstm(x)
        messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
        assert len(messages) == 1 and "g++: command not found" in messages[0]
        assert "numba loops run instead" in messages[0]
    finally:
        native.loops.cache_clear()


def test_seqlab_native_0_chooses_the_numba_loops(monkeypatch):
    monkeypatch.setenv("SEQLAB_NATIVE", "0")
    native.loops.cache_clear()
    try:
        assert native.loops() is None
    finally:
        native.loops.cache_clear()
