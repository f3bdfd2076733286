"""benchmarks/rnn.py runs end to end on its tiny grid and writes the figures it prints."""

import json
import subprocess
import sys
from pathlib import Path

import torch

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "rnn.py"
MODES = ("train", "no_grad", "inference_mode", "dec-cell", "dec-layer")


def test_rnn_benchmark_writes_every_row_with_ratio_and_bound(tmp_path):
    out = tmp_path / "rnn.json"
    cmd = [sys.executable, str(SCRIPT), "--quick", "--cells", "lstm,gru", "--json", str(out)]
    printed = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = json.loads(out.read_text())["rows"]
    expected = {(c, m) for c in ("lstm", "gru") for m in MODES}
    assert {(r["cell"], r["mode"]) for r in rows} == expected
    assert {r["B"] for r in rows if r["mode"] == "dec-cell"} == {1, 2}
    for r in rows:
        speed = r["seqlab_tokens_per_s"] / r["torch_tokens_per_s"]
        assert abs(r["ratio"] - speed) < 1e-9 * speed  # ratio = seqlab's speed ÷ torch.nn's
        assert r["bound"] > 0
        assert abs(r["bound_fraction"] - r["ratio"] / r["bound"]) < 1e-9
        if r["mode"] == "train":
            assert r["seqlab_peak_mib"] >= 0 and r["torch_peak_mib"] >= 0
    assert "bound" in printed.splitlines()[1]
    assert len(printed.splitlines()) == 2 + len(rows)


def test_cpu_peak_memory_counts_the_tensors_a_step_holds_at_once():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import rnn as benchmark
    finally:
        sys.path.remove(str(SCRIPT.parent))

    class Squares(torch.nn.Module):  # keeps a 4 MiB square of its input for backward
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(()))

        def forward(self, x):
            return ((x * self.scale) ** 2,)

    x = torch.randn(1024, 1024)  # 4 MiB
    figures = benchmark.cpu_peak_memory({"seqlab": Squares(), "torch.nn": Squares()}, x)
    # x·scale (4 MiB) is saved for backward while the square (4 MiB) exists, and backward
    # allocates more: at least 8 MiB, and far less than one copy per element op would take
    assert 8 <= figures["seqlab_peak_mib"] < 40
    assert figures["seqlab_peak_mib"] == figures["torch_peak_mib"]
