"""seqlab.train.Trainer against a bare hand-written loop, and 1 vs 2 processes under torchrun.

Task: a small sentiment classifier (embedding 5,000 × 64 → seqlab.nn.LSTM 64 → 96 → linear)
on synthetic sequences of 10–40 ids, batches of 64 from the same length-bucketed
`ResumableBatchSampler`, AdamW, clipping at 1.0, CPU float32, one intra-op thread per process
unless a row says otherwise.

1. **Overhead**: the bare loop (zero_grad, forward, cross-entropy, backward, clip_grad_norm_,
   step, ``loss.item()``) and ``Trainer.fit`` train the same model (same initial weights, same
   batches), one epoch each, interleaved (who goes first alternates), ``--rounds`` times.
   ``ratio`` = Trainer speed ÷ bare speed (examples/s; 1.0 = no overhead, goal ≥ 0.97), for
   the whole ``fit`` call (each round resumes the run: its checks before training, loading and
   writing the checkpoint, the history, everything), for its step loop alone (the training time
   it records), and per CPU second of the process (on a busy shared machine the least noisy).
2. **Scale-out**: the Trainer on the same task with one process (2 threads, then 1 thread) and
   with ``torchrun --nproc_per_node=2`` (gloo, 1 thread each, batches of 32 per rank: the same
   global batch), median examples/s of the epochs after the first.

    flock /tmp/seqlab-cpu.lock .venv/bin/python benchmarks/train.py --json bench-train.json
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from seqlab.nn import LSTM
from seqlab.text import Collate
from seqlab.train import ResumableBatchSampler, TrainConfig, Trainer

VOCAB, EMBED, HIDDEN = 5000, 64, 96


class Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, EMBED, padding_idx=0)
        self.rnn = LSTM(EMBED, HIDDEN, batch_first=True)
        self.head = nn.Linear(HIDDEN, 2)

    def forward(self, x, lengths):
        _, (h, _) = self.rnn(self.embed(x), lengths=lengths)
        return self.head(h[-1])


def dataset(n: int) -> list[tuple[np.ndarray, int]]:
    rng = np.random.default_rng(0)
    lengths = rng.integers(10, 41, size=n)
    return [(rng.integers(1, VOCAB, size=k), int(rng.integers(0, 2))) for k in lengths]


def loader(data, batch_size: int) -> DataLoader:
    sampler = ResumableBatchSampler([len(x) for x, _ in data], batch_size, seed=0)
    return DataLoader(data, batch_sampler=sampler, collate_fn=Collate())


def model_and_optimizer():
    torch.manual_seed(0)
    model = Classifier()
    return model, torch.optim.AdamW(model.parameters(), lr=1e-3)


def bare_epoch(model, optimizer, batches: DataLoader, epoch: int) -> tuple[float, float]:
    """One epoch of the loop a user would write by hand; (wall seconds, CPU seconds)."""
    batches.batch_sampler.set_epoch(epoch)
    started, cpu = time.perf_counter(), time.process_time()
    model.train()
    total = 0.0
    for x, lengths, y in batches:
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(x, lengths), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        total += loss.item()
    return time.perf_counter() - started, time.process_time() - cpu


def trainer_epoch(model, optimizer, batches: DataLoader, out: Path, epoch: int):
    """One more epoch through ``Trainer.fit`` (resuming ``out``).

    Returns the wall and CPU seconds of the whole call and the step loop's wall seconds.
    """
    config = TrainConfig(epochs=epoch + 1, clip_norm=1.0, quiet=True, curves=False)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, config)
    started, cpu = time.perf_counter(), time.process_time()
    history = trainer.fit(batches, None, out=out)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return wall, cpu, history.epochs[-1]["train_time_s"]


def overhead(n: int, rounds: int) -> dict:
    data = dataset(n)
    bare_model, bare_optimizer = model_and_optimizer()
    ours_model, ours_optimizer = model_and_optimizer()
    bare_batches, ours_batches = loader(data, 64), loader(data, 64)
    bare_epoch(bare_model, bare_optimizer, bare_batches, 0)  # warm-up: kernels, allocator
    out = Path(tempfile.mkdtemp(prefix="bench-train-"))
    trainer_epoch(ours_model, ours_optimizer, ours_batches, out, 0)
    speeds = {"bare": [], "fit": [], "loop": [], "bare_cpu": [], "fit_cpu": []}
    for r in range(1, rounds + 1):
        for side in ("bare", "fit") if r % 2 else ("fit", "bare"):  # alternate who goes first
            if side == "bare":
                wall, cpu = bare_epoch(bare_model, bare_optimizer, bare_batches, r)
            else:
                wall, cpu, loop = trainer_epoch(ours_model, ours_optimizer, ours_batches, out, r)
                speeds["loop"].append(n / loop)
            speeds[side].append(n / wall)
            speeds[f"{side}_cpu"].append(n / cpu)
    med = {k: statistics.median(v) for k, v in speeds.items()}
    return {
        "examples": n,
        "rounds": rounds,
        **{f"{k}_examples_per_s": v for k, v in med.items()},
        "ratio": med["fit"] / med["bare"],
        "ratio_step_loop": med["loop"] / med["bare"],
        "ratio_cpu_time": med["fit_cpu"] / med["bare_cpu"],
        "per_round_ratio": [f / b for f, b in zip(speeds["fit"], speeds["bare"], strict=True)],
    }


def worker(n: int, epochs: int, batch_size: int, out: str) -> None:
    """Entry of the scale-out runs (also under torchrun): train and leave history.json."""
    model, optimizer = model_and_optimizer()
    config = TrainConfig(epochs=epochs, clip_norm=1.0, quiet=True, curves=False)
    Trainer(model, nn.CrossEntropyLoss(), optimizer, config).fit(
        loader(dataset(n), batch_size), None, out=out
    )


def scale_out(n: int, epochs: int) -> list[dict]:
    rows = []
    for name, procs, threads in (
        ("1 process, 2 threads", 1, 2),
        ("1 process, 1 thread", 1, 1),
        ("torchrun 2 processes, 1 thread each", 2, 1),
    ):
        out = tempfile.mkdtemp(prefix="bench-train-scale-")
        script = [
            __file__,
            "--worker",
            "--examples",
            str(n),
            "--epochs",
            str(epochs),
            "--batch-size",
            str(64 // procs),
            "--out",
            out,
        ]
        if procs == 1:
            command = [sys.executable, *script]
        else:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            command = [
                sys.executable,
                "-m",
                "torch.distributed.run",
                f"--nproc_per_node={procs}",
                "--master_addr=127.0.0.1",
                f"--master_port={port}",
                *script,
            ]
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        subprocess.run(command, check=True, env=env, capture_output=True)
        history = json.loads(Path(out, "history.json").read_text())["epochs"]
        speeds = [r["items_per_s"] for r in history[1:]]
        rows.append(
            {
                "setup": name,
                "processes": procs,
                "threads_per_process": threads,
                "examples_per_s": statistics.median(speeds),
            }
        )
    for row in rows:
        row["ratio"] = row["examples_per_s"] / rows[0]["examples_per_s"]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=3200, help="training examples")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3, help="epochs of each scale-out run")
    parser.add_argument("--no-scale-out", action="store_true")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, default=64, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.examples, args.epochs, args.batch_size, args.out)
    torch.set_num_threads(1)
    result = {"overhead": overhead(args.examples, args.rounds)}
    o = result["overhead"]
    print(f"Trainer vs bare loop, {o['examples']} examples/epoch, median of {o['rounds']} rounds")
    print(f"  bare loop          {o['bare_examples_per_s']:9.0f} examples/s")
    print(f"  Trainer.fit        {o['fit_examples_per_s']:9.0f} examples/s  ratio {o['ratio']:.3f}")
    print(
        f"  Trainer step loop  {o['loop_examples_per_s']:9.0f} examples/s  "
        f"ratio {o['ratio_step_loop']:.3f}"
    )
    print(
        f"  per CPU second: bare {o['bare_cpu_examples_per_s']:.0f}, Trainer.fit "
        f"{o['fit_cpu_examples_per_s']:.0f} examples/s  ratio {o['ratio_cpu_time']:.3f}"
    )
    print("  per round (fit/bare): " + " ".join(f"{r:.3f}" for r in o["per_round_ratio"]))
    if not args.no_scale_out:
        result["scale_out"] = scale_out(args.examples, args.epochs)
        print("Trainer throughput, same global batch (64)")
        for row in result["scale_out"]:
            print(
                f"  {row['setup']:38s} {row['examples_per_s']:9.0f} examples/s  "
                f"ratio {row['ratio']:.2f}"
            )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
