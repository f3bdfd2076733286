"""oneDNN's private linear ops fail soft: without them seqlab.nn uses torch.mm, warns once, and
still equals torch.nn; ``torch.backends.mkldnn.flags(enabled=False)`` turns them off.

The layers use these products where the C++ loops (``seqlab.nn.native``) are not available, so
the tests here run without them."""

import json
import subprocess
import sys
import types
import warnings
from pathlib import Path

import pytest
import torch

from seqlab.nn import GRU, LSTM, RNN, native
from seqlab.nn.bptt_common import ONEDNN_MIN_FLOPS, OneDNNUnavailableWarning, onednn

B, T, I, H = 64, 2, 8, 256  # large enough for the step products to choose oneDNN
CELLS = {"lstm": (LSTM, torch.nn.LSTM), "gru": (GRU, torch.nn.GRU), "rnn": (RNN, torch.nn.RNN)}


@pytest.fixture(autouse=True)
def fresh_probe(monkeypatch):
    """Each test probes the ops anew (they are swapped below), and the next test too."""
    monkeypatch.setattr(native, "loops", lambda: None)
    onednn.reset()
    yield
    onednn.reset()


def assert_matches_torch_nn(kind):
    ours_cls, ref_cls = CELLS[kind]
    torch.manual_seed(0)
    ref = ref_cls(I, H)
    ours = ours_cls(I, H)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(T, B, I)
    results = []
    for net in (ours, ref):
        xx = x.clone().requires_grad_()
        out = net(xx)[0]
        grads = torch.autograd.grad((out * out).sum(), [xx, *net.parameters()])
        results.append((out, *grads))
    for mine, theirs in zip(*results, strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-5)


def fallback_warnings(caught):
    return [w for w in caught if issubclass(w.category, OneDNNUnavailableWarning)]


def run_all_cells_twice():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for kind in [*CELLS, *CELLS]:
            assert_matches_torch_nn(kind)
    return fallback_warnings(caught)


def test_shapes_take_the_onednn_path():
    assert 2 * B * H * H >= ONEDNN_MIN_FLOPS  # the smallest step product: the RNN's
    assert onednn.usable(torch.zeros(H, H))


def test_missing_ops_fall_back_to_torch_mm_with_one_warning(monkeypatch):
    monkeypatch.setattr(torch.ops, "mkldnn", types.SimpleNamespace())  # a torch without them
    caught = run_all_cells_twice()
    assert len(caught) == 1
    assert "torch.mm" in str(caught[0].message)
    assert not onednn.usable(torch.zeros(H, H))


@pytest.mark.parametrize("op", ["_reorder_linear_weight", "_linear_pointwise"])
def test_ops_that_raise_fall_back_to_torch_mm_with_one_warning(monkeypatch, op):
    def broken(*args):
        raise RuntimeError("oneDNN exploded")

    monkeypatch.setattr(torch.ops.mkldnn, op, broken)
    caught = run_all_cells_twice()
    assert len(caught) == 1
    assert "oneDNN exploded" in str(caught[0].message)


def test_ops_that_fail_after_the_probe_fall_back_too(monkeypatch):
    # the probe multiplies 2 rows; the layers' products have B rows and more
    real = torch.ops.mkldnn._linear_pointwise

    def fails_on_large(x, *args):
        if x.shape[0] > 2:
            raise RuntimeError("unsupported shape")
        return real(x, *args)

    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", fails_on_large)
    caught = run_all_cells_twice()
    assert len(caught) == 1
    assert "unsupported shape" in str(caught[0].message)


def test_ops_that_give_wrong_results_are_not_used(monkeypatch):
    real = torch.ops.mkldnn._linear_pointwise
    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", lambda *a: real(*a) + 1)
    caught = run_all_cells_twice()
    assert len(caught) == 1
    assert "differs from torch.addmm" in str(caught[0].message)


def test_disabled_mkldnn_uses_torch_mm(monkeypatch):
    calls = []
    real = torch.ops.mkldnn._linear_pointwise

    def spy(*args):
        calls.append(args[0].shape)
        return real(*args)

    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's note on TF32 for Intel GPUs
        with torch.backends.mkldnn.flags(enabled=False):
            assert not onednn.usable(torch.zeros(H, H))
            for kind in CELLS:
                assert_matches_torch_nn(kind)
    assert calls == []
    assert_matches_torch_nn("lstm")  # enabled again: the spy sees the products
    assert calls


def test_threshold_benchmark_prints_the_crossover(tmp_path):
    # the measurement that ONEDNN_MIN_FLOPS comes from can be redone
    script = Path(__file__).parents[2] / "benchmarks" / "onednn_threshold.py"
    out = tmp_path / "threshold.json"
    cmd = [sys.executable, str(script), "--batches", "4", "--hidden", "8,16", "--repeats", "1"]
    cmd += ["--max-steps", "10", "--json", str(out)]
    printed = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    data = json.loads(out.read_text())
    assert len(data["rows"]) == 4  # 1 batch size x 2 hidden sizes x G = 1, 4
    assert all(r["ratio"] == pytest.approx(r["mm_us"] / r["onednn_us"]) for r in data["rows"])
    assert "crossover" in printed.splitlines()[-1]
