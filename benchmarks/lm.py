"""Language models: seqlab.nn against torch.nn in training and in step-by-step sampling, and
the quality runs of the default ``seqlab lm train`` commands.

1. **Training speed**: the same `seqlab.tasks.lm.LanguageModel` built on seqlab.nn and on
   torch.nn (``backend="torch"``: torch.nn.LSTM, same initial weights), trained with the same
   truncated-BPTT step on the same stream of ids (seeded), interleaved (who goes first
   alternates), ``--rounds`` times. Shapes: the PTB default (vocabulary 10,000, 2×200, B=20,
   T=20, SGD) and the tinyshakespeare default (65 characters, embedding 64, 2×512, B=64,
   T=100, Adam). Figures: median tokens/s by wall clock and by process CPU time (the less noisy
   on a busy machine); ``ratio`` = seqlab ÷ torch.
2. **Sampling speed**: `TrainedLM.generate` (the prompt once, then one token per call with
   the carried state, temperature 0.8) on both backends, same weights and seed: tokens/s.
3. **Quality** (``--quality``, hours): runs ``seqlab lm train tinyshakespeare`` and
   ``seqlab lm train ptb`` with their defaults and reports valid/test figures and wall time.

    .venv/bin/python benchmarks/lm.py --json bench-lm.json
    .venv/bin/python benchmarks/lm.py --quality --out runs/bench-lm --json bench-lm-quality.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from seqlab.tasks.lm import (
    LanguageModel,
    TrainedLM,
    TruncatedBPTT,
    config_for,
    loader,
    optimizer_and_schedule,
)
from seqlab.text import Vocab
from timing import timed_training_pass

SHAPES = {"ptb": ("word", 10_000), "tinyshakespeare": ("char", 65)}


def pair(level: str, vocab_size: int) -> dict[str, LanguageModel]:
    """The model on both backends, with the same initial weights."""
    torch.manual_seed(0)
    seqlab_model = LanguageModel(vocab_size, config_for(level))
    torch_model = LanguageModel(vocab_size, config_for(level, backend="torch"))
    torch_model.load_state_dict(seqlab_model.state_dict())
    return {"seqlab": seqlab_model, "torch": torch_model}


def train_steps(model: LanguageModel, batches: list) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and tokens of one pass of training steps over ``batches``."""
    optimizer, _ = optimizer_and_schedule(model, model.config)
    step = TruncatedBPTT(model.config.level)
    wall, cpu = timed_training_pass(model, optimizer, step, model.config.clip, batches)
    return wall, cpu, sum(y.numel() for _, y in batches)


def sample_tokens(model: LanguageModel, vocab: Vocab, n: int) -> tuple[float, float]:
    lm = TrainedLM(model, vocab, {})
    wall, cpu = time.perf_counter(), time.process_time()
    text = list(lm.generate([1, 2, 3], n, temperature=0.8, seed=0))
    assert len(text) == n
    return time.perf_counter() - wall, time.process_time() - cpu


def speed(name: str, rounds: int, steps: int, sample_n: int) -> dict:
    level, vocab_size = SHAPES[name]
    models = pair(level, vocab_size)
    cfg = models["seqlab"].config
    ids = np.random.default_rng(0).integers(0, vocab_size, cfg.batch_size * cfg.bptt * steps + 1)
    batches = list(loader(ids, cfg.batch_size, cfg.bptt))
    vocab = Vocab([f"t{i}" for i in range(vocab_size)])
    train_runs = {k: [] for k in models}
    sample_runs = {k: [] for k in models}
    train_steps(models["seqlab"], batches[:2])  # compile the numba kernels outside the timing
    for r in range(rounds):
        order = list(models) if r % 2 == 0 else list(models)[::-1]
        for k in order:
            wall, cpu, tokens = train_steps(models[k], batches)
            train_runs[k].append((tokens / wall, tokens / cpu))
        for k in order:
            wall, cpu = sample_tokens(models[k], vocab, sample_n)
            sample_runs[k].append((sample_n / wall, sample_n / cpu))

    def medians(runs):
        return {
            k: {
                "tokens_per_s": statistics.median(w for w, _ in v),
                "tokens_per_cpu_s": statistics.median(c for _, c in v),
            }
            for k, v in runs.items()
        }

    result = {"train": medians(train_runs), "sample": medians(sample_runs)}
    for part in result.values():
        part["ratio"] = part["seqlab"]["tokens_per_s"] / part["torch"]["tokens_per_s"]
        part["ratio_cpu"] = part["seqlab"]["tokens_per_cpu_s"] / part["torch"]["tokens_per_cpu_s"]
    shape = f"V={vocab_size}, {cfg.layers}x{cfg.hidden}, B={cfg.batch_size}, T={cfg.bptt}"
    return {"shape": shape, "steps": steps, "rounds": rounds, **result}


def quality(name: str, out: Path) -> dict:
    """Run the default ``seqlab lm train NAME`` and return its summary and wall time."""
    started = time.perf_counter()
    command = ["lm", "train", name, "--out", str(out / name), "--quiet"]
    subprocess.run([str(Path(sys.executable).parent / "seqlab"), *command], check=True)
    info = json.loads((out / name / "model.json").read_text(encoding="utf-8"))["settings"]["info"]
    return {
        "command": "seqlab " + " ".join(command),
        "wall_s": time.perf_counter() - started,
        **info,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20, help="training steps per timed pass")
    parser.add_argument("--sample-tokens", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--quality", action="store_true", help="run the default trainings")
    parser.add_argument("--out", type=Path, default=Path("runs/bench-lm"))
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = {"threads": args.threads}
    if args.quality:
        result["quality"] = {name: quality(name, args.out) for name in args.shapes}
        for name, q in result["quality"].items():
            figures = {s: q[s] for s in ("valid", "test") if s in q}
            print(f"{name}: {q['wall_s'] / 60:.1f} min, {json.dumps(figures)}")
    else:
        for name in args.shapes:
            r = result[name] = speed(name, args.rounds, args.steps, args.sample_tokens)
            for part in ("train", "sample"):
                p = r[part]
                print(
                    f"{name} ({r['shape']}) {part}: seqlab {p['seqlab']['tokens_per_s']:,.0f} "
                    f"tokens/s, torch.nn {p['torch']['tokens_per_s']:,.0f} tokens/s, "
                    f"ratio {p['ratio']:.2f} (per CPU second {p['ratio_cpu']:.2f})",
                    flush=True,
                )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
