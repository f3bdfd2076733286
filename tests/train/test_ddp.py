"""torchrun: 2 processes (gloo) with batch 4 each == 1 process with batch 8, resume included.

The two-process run trains a seqlab.nn.GRU classifier inside DistributedDataParallel, is killed
(SIGKILL on both ranks) inside epoch 3 after a step checkpoint, and resumes under torchrun; its
loss curve and final weights must match the single process's up to float rounding (the loss is
a mean over the global batch, the gradient averaged accordingly).
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from train.tiny_task import main

SCRIPT = Path(__file__).with_name("tiny_task.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(out: Path, *args: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_addr=127.0.0.1",
        f"--master_port={free_port()}",
        str(SCRIPT),
        "--out",
        str(out),
        "--cell",
        "gru",
        "--dropout",
        "0",
        "--batch-size",
        "4",
        *args,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.slow
def test_two_processes_match_one_with_the_same_global_batch(tmp_path):
    single, ddp = tmp_path / "single", tmp_path / "ddp"
    main(["--out", str(single), "--epochs", "3", "--cell", "gru", "--dropout", "0"])

    killed = torchrun(ddp, "--epochs", "3", "--checkpoint-every", "4", "--kill-at", "25")
    assert killed.returncode != 0
    progress = json.loads((ddp / "last" / "checkpoint.json").read_text())["progress"]
    assert (progress["epoch"], progress["position"]) == (2, 4)  # inside epoch 3
    resumed = torchrun(ddp, "--epochs", "3", "--checkpoint-every", "4")
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    one = json.loads((single / "history.json").read_text())["epochs"]
    two = json.loads((ddp / "history.json").read_text())["epochs"]
    assert [r["steps"] for r in two] == [r["steps"] for r in one] == [10, 10, 10]
    assert [r["items"] for r in two] == [r["items"] for r in one]
    for key in ("train_loss", "valid_loss", "valid_accuracy", "grad_norm_mean", "grad_norm_max"):
        assert [r[key] for r in two] == pytest.approx([r[key] for r in one], rel=1e-9), key
    a = load_file(single / "last" / "model.safetensors")
    b = load_file(ddp / "last" / "model.safetensors")
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-9, atol=1e-12)
    # only rank 0 wrote: one log line per epoch, one header in steps.csv
    log = (ddp / "train.log").read_text()
    assert log.count("epoch 3/3") == 1 and "2 process(es)" in log
    assert (ddp / "steps.csv").read_text().count("epoch,step") == 1
