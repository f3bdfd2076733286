"""Exact resume: 4 epochs straight == 2 epochs, then a SIGKILL inside epoch 3, then resume.

The killed run is a separate process (tests/train/tiny_task.py) that dies by SIGKILL, as on a
power cut, so nothing in it gets to clean up; the other runs call the same script's ``main`` in
this process (starting torch in a subprocess takes seconds). Weights, optimizer state, the
history (less its timings) and the per-step log must be bit-identical.
"""

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from seqlab.train.history import TIMING_KEYS
from train.tiny_task import main

SCRIPT = Path(__file__).with_name("tiny_task.py")
STEPS_PER_EPOCH = 10  # 80 examples, batches of 8


def run_task(out: Path, epochs: int, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--epochs", str(epochs), *extra],
        capture_output=True,
        text=True,
        timeout=300,
    )


def untimed(history: dict) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in history["epochs"]]


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_is_bit_identical(tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    main(["--out", str(straight), "--epochs", "4", "--checkpoint-every", "4"])
    main(["--out", str(killed), "--epochs", "2", "--checkpoint-every", "4"])
    # epoch 3 runs steps 21…30 and checkpoints after step 24: die just before step 27
    dead = run_task(killed, 4, "--checkpoint-every", "4", "--kill-at", "7")
    assert dead.returncode == -signal.SIGKILL, dead.stderr
    progress = json.loads((killed / "last" / "checkpoint.json").read_text())["progress"]
    assert (progress["epoch"], progress["position"], progress["global_step"]) == (2, 4, 24)
    lines = (killed / "steps.csv").read_text().splitlines()
    assert int(lines[-1].split(",")[1]) == 24  # rows after the checkpoint were never written

    main(["--out", str(killed), "--epochs", "4", "--checkpoint-every", "4"])

    for name in ("last", "best"):
        a = load_file(straight / name / "model.safetensors")
        b = load_file(killed / name / "model.safetensors")
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    a_opt = load_file(straight / "last" / "training.safetensors")
    b_opt = load_file(killed / "last" / "training.safetensors")
    assert all(torch.equal(a_opt[k], b_opt[k]) for k in a_opt)
    history_a = json.loads((straight / "history.json").read_text())
    history_b = json.loads((killed / "history.json").read_text())
    assert untimed(history_a) == untimed(history_b)
    assert len(history_a["epochs"]) == 4
    assert {k: v for k, v in history_a.items() if k != "epochs"} == {
        k: v for k, v in history_b.items() if k != "epochs"
    }
    assert (straight / "steps.csv").read_text() == (killed / "steps.csv").read_text()
    log = (killed / "train.log").read_text()
    assert "resumed" in log and "epoch 3, batch 4" in log
