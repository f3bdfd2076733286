"""seqlab.nn against torch.nn.RNN, LSTM and GRU with copied weights, randomized configurations."""

import random

import pytest
import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from seqlab.nn import GRU, LSTM, RNN
from seqlab.nn.bptt_common import ONEDNN_MIN_FLOPS

KINDS = {
    "lstm": (LSTM, torch.nn.LSTM, {}),
    "gru": (GRU, torch.nn.GRU, {}),
    "rnn_tanh": (RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
}


def configs(n: int, seed: int):
    """`n` random configurations covering batch size, length, uneven lengths, layers, direction,
    layout and initial states."""
    rng = random.Random(seed)
    combos = []
    for i in range(n):
        combos.append(
            {
                "B": (1, 7)[i % 2],
                "T": (1, 13)[(i // 2) % 2],
                "num_layers": rng.randint(1, 3),
                "bidirectional": rng.random() < 0.5,
                "batch_first": rng.random() < 0.5,
                "hx": rng.random() < 0.5,
                "ragged": (i // 4) % 2 == 1,
                "bias": rng.random() < 0.85,
                "seed": rng.randrange(10**6),
            }
        )
    return combos


def pair(kind, cfg, dtype, I=5, H=6):
    ours_cls, ref_cls, extra = KINDS[kind]
    kw = dict(
        num_layers=cfg["num_layers"],
        bidirectional=cfg["bidirectional"],
        batch_first=cfg["batch_first"],
        bias=cfg["bias"],
        **extra,
    )
    ref = ref_cls(I, H, **kw).to(dtype)
    ours = ours_cls(I, H, **kw).to(dtype)
    ours.load_state_dict(ref.state_dict())
    return ours, ref


def random_lengths(gen, B, T, ragged):
    if not ragged or T == 1:
        return torch.full((B,), T)
    lengths = torch.randint(1, T + 1, (B,), generator=gen)
    lengths[0] = 1  # always include a length-1 sequence
    if B > 1:
        lengths[-1] = T
    return lengths


def inputs(kind, cfg, dtype, I=5, H=6):
    gen = torch.Generator().manual_seed(cfg["seed"])
    B, T = cfg["B"], cfg["T"]
    shape = (B, T, I) if cfg["batch_first"] else (T, B, I)
    x = torch.randn(shape, generator=gen, dtype=dtype)
    lengths = random_lengths(gen, B, T, cfg["ragged"])
    hx = None
    if cfg["hx"]:
        n = cfg["num_layers"] * (2 if cfg["bidirectional"] else 1)
        hx = [torch.randn(n, B, H, generator=gen, dtype=dtype) for _ in range(2)]
        hx = tuple(hx) if kind == "lstm" else hx[0]
    return x, lengths, hx


def flat_states(states):
    return torch.cat(states) if isinstance(states, tuple) else states


def run_both(kind, cfg, dtype, I=5, H=6):
    ours, ref = pair(kind, cfg, dtype, I, H)
    x, lengths, hx = inputs(kind, cfg, dtype, I, H)
    xs = [x.clone().requires_grad_(), x.clone().requires_grad_()]
    hxs = [None, None]
    if hx is not None:
        as_leaf = lambda h: h.clone().requires_grad_()  # noqa: E731
        hxs = [tuple(map(as_leaf, hx)) if kind == "lstm" else as_leaf(hx) for _ in range(2)]
    out, states = ours(xs[0], hxs[0], lengths=lengths)
    packed = pack_padded_sequence(
        xs[1], lengths, batch_first=cfg["batch_first"], enforce_sorted=False
    )
    ref_out, ref_states = ref(packed, hxs[1])
    ref_out, _ = pad_packed_sequence(ref_out, batch_first=cfg["batch_first"], total_length=cfg["T"])
    results = []
    for net, o, s, x_, h_ in (
        (ours, out, states, xs[0], hxs[0]),
        (ref, ref_out, ref_states, xs[1], hxs[1]),
    ):
        s = flat_states(s)
        # a loss that weights every output and final state differently
        w = torch.linspace(-1, 1, o.numel(), dtype=dtype).view_as(o)
        loss = (o * w).sum() + (s**2).sum()
        leaves = [x_, *net.parameters()]
        if h_ is not None:
            leaves += list(h_) if isinstance(h_, tuple) else [h_]
        results.append((o, s, torch.autograd.grad(loss, leaves)))
    return results


def assert_close(actual, expected, tol):
    scale = max(1.0, expected.abs().max().item())
    torch.testing.assert_close(actual, expected, rtol=tol, atol=tol * scale)


def assert_agree(results, tol):
    """Outputs, final states and every gradient of `run_both`'s two results agree to `tol`."""
    (o, s, grads), (ro, rs, rgrads) = results
    assert_close(o, ro, tol)
    assert_close(s, rs, tol)
    for g, rg in zip(grads, rgrads, strict=True):
        assert_close(g, rg, tol)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("cfg", configs(16, seed=4), ids=lambda c: str(c["seed"]))
def test_float32_matches_torch(kind, cfg):
    assert_agree(run_both(kind, cfg, torch.float32), 1e-5)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_float32_matches_torch_where_onednn_step_products_are_used(kind):
    # B·H·G·H large enough for step_product to choose oneDNN (the configurations above are not)
    B, H = 64, 256
    assert 2 * B * H * 3 * H >= ONEDNN_MIN_FLOPS
    cfg = dict(configs(8, seed=5)[7], B=B, T=4, num_layers=1, bidirectional=True, ragged=True)
    assert_agree(run_both(kind, cfg, torch.float32, I=8, H=H), 1e-5)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("cfg", configs(4, seed=11), ids=lambda c: str(c["seed"]))
def test_float64_matches_torch_exactly(kind, cfg):
    assert_agree(run_both(kind, cfg, torch.float64), 1e-12)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh"])
def test_packed_sequence_in_packed_sequence_out(kind):
    torch.manual_seed(0)
    ours, ref = pair(
        kind,
        {"num_layers": 2, "bidirectional": True, "batch_first": False, "bias": True},
        torch.float32,
    )
    x = torch.randn(9, 4, 5)
    packed = pack_padded_sequence(x, torch.tensor([3, 9, 1, 6]), enforce_sorted=False)
    out, states = ours(packed)
    ref_out, ref_states = ref(packed)
    assert isinstance(out, PackedSequence)
    assert torch.equal(out.batch_sizes, ref_out.batch_sizes)
    assert torch.equal(out.unsorted_indices, ref_out.unsorted_indices)
    assert_close(out.data, ref_out.data, 1e-5)
    assert_close(flat_states(states), flat_states(ref_states), 1e-5)


@pytest.mark.parametrize("kind", list(KINDS))
def test_unbatched_input(kind):
    ours, ref = pair(
        kind,
        {"num_layers": 2, "bidirectional": True, "batch_first": True, "bias": True},
        torch.float32,
    )
    x = torch.randn(6, 5)
    out, states = ours(x)
    ref_out, ref_states = ref(x)
    assert out.shape == ref_out.shape
    assert_close(out, ref_out, 1e-5)
    assert_close(flat_states(states), flat_states(ref_states), 1e-5)


@pytest.mark.parametrize("kind", list(KINDS))
def test_state_dict_round_trip_both_ways(kind):
    ours, ref = pair(
        kind,
        {"num_layers": 2, "bidirectional": True, "batch_first": False, "bias": True},
        torch.float32,
    )
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [
        (n, p.shape) for n, p in ref.named_parameters()
    ]
    fresh_ref = KINDS[kind][1](5, 6, num_layers=2, bidirectional=True, **KINDS[kind][2])
    fresh_ref.load_state_dict(ours.state_dict())
    x = torch.randn(4, 3, 5)
    assert_close(fresh_ref(x)[0], ours(x)[0], 1e-5)


def test_dropout_between_layers_only_in_training():
    lstm = LSTM(5, 6, num_layers=2, dropout=0.5)
    x = torch.randn(4, 3, 5)
    lstm.eval()
    assert torch.equal(lstm(x)[0], lstm(x)[0])
    lstm.train()
    torch.manual_seed(0)
    a = lstm(x)[0]
    torch.manual_seed(1)
    assert not torch.equal(a, lstm(x)[0])


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh"])
def test_cells_match_torch(kind):
    import seqlab.nn as snn

    names = {"lstm": "LSTMCell", "gru": "GRUCell", "rnn_tanh": "RNNCell"}[kind]
    ref = getattr(torch.nn, names)(5, 6)
    ours = getattr(snn, names)(5, 6)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(3, 5)
    for hx in (
        None,
        (torch.randn(3, 6), torch.randn(3, 6)) if kind == "lstm" else torch.randn(3, 6),
    ):
        a, b = ours(x, hx), ref(x, hx)
        assert_close(flat_states(a), flat_states(b), 1e-5)
    a, b = ours(x[0]), ref(x[0])  # unbatched
    assert_close(flat_states(a), flat_states(b), 1e-5)
