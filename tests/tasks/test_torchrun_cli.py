"""The task commands run unchanged under torchrun: one model trained by two processes.

Only rank 0 writes the model directory and prints the summary; the other rank must finish
quietly (it has no summary to print).
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .test_classify import sentiment_rows

SEQLAB = Path(sys.executable).with_name("seqlab")


def torchrun(*args: str) -> subprocess.CompletedProcess:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2"]
    command += ["--master_addr=127.0.0.1", f"--master_port={port}", str(SEQLAB), *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.slow
def test_classify_and_lm_train_under_torchrun(tmp_path):
    for name, seed, n in (("train", 0, 120), ("valid", 1, 40)):
        text = "".join(f"{t}\t{'pos' if y else 'neg'}\n" for t, y in sentiment_rows(n, seed))
        (tmp_path / f"{name}.tsv").write_text(text, encoding="utf-8")
    out = tmp_path / "classifier"
    done = torchrun(
        *("classify", "train", "--train-file", str(tmp_path / "train.tsv")),
        *("--valid-file", str(tmp_path / "valid.tsv"), "--embed-dim", "8", "--hidden", "8"),
        *("--epochs", "1", "--out", str(out), "--quiet"),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count(f"saved {out}") == 1
    assert (out / "model.json").is_file()

    (tmp_path / "text.txt").write_text("the cat sat on the mat. " * 400, encoding="utf-8")
    out = tmp_path / "lm"
    done = torchrun(
        *("lm", "train", "--text", str(tmp_path / "text.txt"), "--epochs", "1"),
        *("--out", str(out), "--quiet"),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count(f"saved {out}") == 1
