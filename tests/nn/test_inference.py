"""The path without autograd (no_grad, inference_mode, one-step decoding) against torch.nn.

Under ``torch.no_grad()`` and ``torch.inference_mode()`` the CPU float32 layers and cells run
``seqlab.nn.inference``: no autograd Function, kernels that write only what the outputs need,
and weights prepared once per module while the parameters stay unchanged. Outputs and states
must equal torch.nn's; NaN and ±inf must land where torch.nn puts them; a change of the
weights (in place, by an optimiser, by ``load_state_dict``) must reach the next call.
"""

import math

import pytest
import torch

from seqlab.nn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from seqlab.nn import modules as seqlab_modules

from .test_nonfinite import assert_same_pattern

LAYERS = {
    "lstm": (LSTM, torch.nn.LSTM, {}),
    "gru": (GRU, torch.nn.GRU, {}),
    "rnn_tanh": (RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
}
CELLS = {
    "lstm": (LSTMCell, torch.nn.LSTMCell, {}),
    "gru": (GRUCell, torch.nn.GRUCell, {}),
    "rnn_tanh": (RNNCell, torch.nn.RNNCell, {"nonlinearity": "tanh"}),
    "rnn_relu": (RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
}
CONTEXTS = {"no_grad": torch.no_grad, "inference_mode": torch.inference_mode}
TOL = {"rtol": 1e-5, "atol": 1e-5}


def pair(table, kind, *args, **kwargs):
    ours_cls, ref_cls, extra = table[kind]
    torch.manual_seed(0)
    ref = ref_cls(*args, **kwargs, **extra)
    ours = ours_cls(*args, **kwargs, **extra)
    ours.load_state_dict(ref.state_dict())
    return ours, ref


def states_of(kind, L, B, H, gen):
    n = 2 if kind == "lstm" else 1
    states = [torch.randn(L, B, H, generator=gen) for _ in range(n)]
    return tuple(states) if kind == "lstm" else states[0]


def leaves(*nested):
    return zip(*(torch.utils._pytree.tree_leaves(n) for n in nested), strict=True)


def assert_all_close(ours, ref):
    for a, b in leaves(ours, ref):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("B", [1, 4])  # the compiled sequence loops; a loop of steps
@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("kind", LAYERS)
def test_layers_match_torch_nn_without_grad(kind, context, B):
    ours, ref = pair(LAYERS, kind, 5, 7, num_layers=2, bidirectional=True, batch_first=True)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(B, 6, 5, generator=gen)
    hx = states_of(kind, 4, B, 7, gen)
    lengths = torch.tensor([3, 6, 1, 6][:B])
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, True, enforce_sorted=False)
    with CONTEXTS[context]():
        assert_all_close(ours(x, hx), ref(x, hx))
        out, state = ours(packed, hx)
        ref_out, ref_state = ref(packed, hx)
    assert_all_close((out.data, state), (ref_out.data, ref_state))
    assert out.data.grad_fn is None


@pytest.mark.parametrize("T", [1, 6])  # one step (the decoding path) and a sequence
@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_gates_equal_the_training_path(cls, T):
    layer = cls(5, 7, bidirectional=True)
    x, lengths = torch.randn(T, 3, 5), torch.tensor([T, 1, max(T - 2, 1)])
    _, _, with_grad = layer(x, lengths=lengths, return_gates=True)
    with torch.no_grad():
        _, _, without = layer(x, lengths=lengths, return_gates=True)
    for name in with_grad:
        torch.testing.assert_close(without[name], with_grad[name].detach(), **TOL)


def test_no_autograd_function_runs_without_grad(monkeypatch):
    def fail(*args):
        raise AssertionError("the autograd Function ran under no_grad")

    monkeypatch.setattr(seqlab_modules.LSTMLayerFunction, "apply", fail)
    monkeypatch.setattr(seqlab_modules.GRULayerFunction, "apply", fail)
    for layer in (LSTM(3, 4), GRU(3, 4), RNN(3, 4)):
        with torch.inference_mode():
            layer(torch.randn(2, 1, 3))
    with pytest.raises(AssertionError, match="Function ran"):
        LSTM(3, 4)(torch.randn(2, 1, 3))  # with grad: the Function, as it must


# the compiled sequence loops (B = 1); torch.mm per step; oneDNN per step
@pytest.mark.parametrize("B, I, H", [(1, 5, 7), (3, 5, 7), (64, 16, 256)])
@pytest.mark.parametrize("kind", CELLS)
def test_cell_decoding_loop_matches_torch_nn(kind, B, I, H):
    ours, ref = pair(CELLS, kind, I, H)
    xs = torch.randn(4, B, I)
    with torch.inference_mode():
        mine = theirs = None
        for x in xs:
            mine, theirs = ours(x, mine), ref(x, theirs)
            assert_all_close(mine, theirs)
        assert_all_close(ours(xs[0, 0]), ref(xs[0, 0]))  # unbatched


@pytest.mark.parametrize("kind", LAYERS)
def test_layer_decoding_one_step_at_a_time_matches_torch_nn(kind):
    ours, ref = pair(LAYERS, kind, 5, 7, num_layers=2)
    xs = torch.randn(5, 1, 3, 5)
    with torch.inference_mode():
        mine = theirs = None
        for x in xs:
            (out, mine), (ref_out, theirs) = ours(x, mine), ref(x, theirs)
            assert_all_close((out, mine), (ref_out, theirs))


def test_weights_are_prepared_once_while_unchanged():
    cell = LSTMCell(5, 7)
    x = torch.randn(2, 5)
    with torch.no_grad():
        state = cell(x)
        prepared = cell.prepared_weights.get(0, weights(cell), None)  # no new preparation
        cell(x, state)
        assert cell.prepared_weights.get(0, weights(cell), None) is prepared


def weights(cell):
    return cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh


@pytest.mark.parametrize("change", ["in_place", "optimizer", "load_state_dict"])
def test_changed_weights_reach_the_next_call(change):
    ours, ref = pair(CELLS, "gru", 5, 7)
    x = torch.randn(2, 5)
    with torch.no_grad():
        ours(x)  # prepares and caches
    if change == "in_place":
        with torch.no_grad():
            for net in (ours, ref):
                net.weight_hh.mul_(-2)
                net.bias_ih.add_(1)
    elif change == "optimizer":
        for net in (ours, ref):
            net(x).sum().backward()
            torch.optim.SGD(net.parameters(), lr=1.0).step()
    else:
        ref = torch.nn.GRUCell(5, 7)
        ours.load_state_dict(ref.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x), **TOL)


@pytest.mark.parametrize("B", [1, 3])  # the compiled sequence loops; a loop of steps
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh"])
@pytest.mark.parametrize("place", ["input", "h0", "weight_hh"])
def test_nonfinite_propagates_without_grad(kind, place, value, B):
    ours, ref = pair(LAYERS, kind, 4, 6, bidirectional=True)
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(5, B, 4, generator=gen)
    hx = states_of(kind, 2, B, 6, gen)
    if place == "input":
        x[1, 0, 0] = value
    elif place == "h0":
        (hx[0] if kind == "lstm" else hx)[0, 0, 0] = value
    else:
        with torch.no_grad():
            ours.weight_hh_l0[0, 0] = ref.weight_hh_l0[0, 0] = value
    with torch.inference_mode():
        mine, theirs = ours(x, hx), ref(x, hx)
    for a, b in leaves(mine, theirs):
        assert_same_pattern(a, b, 1e-4, f"{kind} {place}={value}")
    if math.isnan(value):  # ±inf saturate the gates, NaN must reach the output
        assert torch.isnan(theirs[0]).any()


def test_modules_with_prepared_weights_pickle_and_deepcopy():
    import copy
    import io
    import pickle

    cell, layer = LSTMCell(5, 7), GRU(5, 7)
    x = torch.randn(2, 5)
    with torch.no_grad():
        expected = cell(x), layer(x.unsqueeze(0))
    for clone in (copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))):
        cell2, layer2 = clone(cell), clone(layer)
        with torch.no_grad():
            assert_all_close((cell2(x), layer2(x.unsqueeze(0))), expected)
    torch.save(cell, io.BytesIO())


def test_modules_made_under_inference_mode_run_and_follow_changes():
    with torch.inference_mode():  # inference tensors: no version counter to key the cache on
        ours, ref = pair(CELLS, "lstm", 5, 7)
        x = torch.randn(2, 5)
        assert_all_close(ours(x), ref(x))
        for net in (ours, ref):
            net.weight_hh.mul_(-1)
        assert_all_close(ours(x), ref(x))
