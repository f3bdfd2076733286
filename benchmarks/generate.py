"""One-to-many: names from a language and captions of shapes scenes — quality, and decoding speed
against the same models on torch.nn.

Reads models trained by the command line (training is timed by its own log)::

    seqlab generate train names --out runs/gen-names
    seqlab caption train shapes --out runs/cap-shapes [--attention]
    python benchmarks/generate.py --names runs/gen-names --shapes runs/cap-shapes \
        --json runs/generate_bench.json

and prints, in one run:

- **names**: held-out (test) nats per character for each language, and agreement — the share
  of sampled names that the names classifier trained on the same split (``DIR/judge``)
  assigns to the requested language, averaged over the languages — at each ``--temperatures``,
  beside the same share for the real test names ("real names": the judge's own recall);
- **shapes**: BLEU-1 … 4 (sacrebleu, all references) of greedy and beam-search captions on the
  test scenes with seen colour-shape pairs and on those with held-out pairs;
- **speed**: names sampled per second and scenes captioned per second by the seqlab model and
  by the same weights in ``torch.nn.GRU`` / ``torch.nn.LSTM`` layers, one step at a time,
  interleaved rounds on the same input; ``ratio`` = seqlab's speed ÷ torch.nn's.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import numpy as np
import torch
from torch import nn

from seqlab.io import atomic_write
from seqlab.tasks.caption import Captioner
from seqlab.tasks.caption_eval import evaluate as caption_eval
from seqlab.tasks.caption_eval import load_data
from seqlab.tasks.generate import NameGenerator
from seqlab.tasks.generate_eval import evaluate as names_eval


class TorchLayer(nn.Module):
    """torch.nn.GRU / LSTM behind seqlab's call signature (``lengths`` unused when decoding)."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer

    def forward(self, x, hx=None, lengths=None):
        return self.layer(x, hx)


def on_torch(module: nn.Module) -> nn.Module:
    """A copy of ``module`` whose seqlab recurrent layer is torch.nn's, same weights."""
    twin = copy.deepcopy(module)
    rnn = twin.rnn
    kind = nn.LSTM if type(rnn).__name__ == "LSTM" else nn.GRU
    layer = kind(rnn.input_size, rnn.hidden_size, num_layers=rnn.num_layers, batch_first=True)
    layer.load_state_dict(rnn.state_dict())
    twin.rnn = TorchLayer(layer)
    return twin.eval()


def interleaved(runs: dict, rounds: int) -> dict:
    """Median seconds of each callable over ``rounds`` rounds, the order alternating."""
    times = {name: [] for name in runs}
    names = list(runs)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            started = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(t) for name, t in times.items()}


def names_part(path: str, temperatures, n: int, rounds: int) -> dict:
    result = {"model": path, "evaluations": []}
    for temperature in temperatures:
        metrics = names_eval(path, "test", n=n, temperature=temperature)
        result["evaluations"].append(metrics)
        print(f"\nnames, test split, {n} samples per language, temperature {temperature}")
        real = metrics["judge_on_real_names"]
        print(f"{'language':<12} {'nats/char':>9} {'agreement':>9} {'real names':>10}")
        for label, rate in metrics["per_label"].items():
            nll = metrics["nats_per_char_per_label"][label]
            print(f"{label:<12} {nll:9.3f} {rate:9.1%} {real['per_label'][label]:10.1%}")
        print(
            f"{'all':<12} {metrics['nats_per_char']:9.3f} {metrics['agreement']:9.1%} "
            f"{real['mean']:10.1%}   new names {metrics['novel']:.1%}"
        )
    gen = NameGenerator.load(path)
    twin = NameGenerator(on_torch(gen.model), gen.vocab, gen.labels)
    batch = 100
    seconds = interleaved(
        {
            "seqlab": lambda: gen.sample("Korean", batch, seed=1),
            "torch.nn": lambda: twin.sample("Korean", batch, seed=1),
        },
        rounds,
    )
    same = gen.sample("Korean", 20, seed=5) == twin.sample("Korean", 20, seed=5)
    result["speed"] = speed_table("names sampled", batch, seconds, same)
    return result


def shapes_part(path: str, beam: int, rounds: int) -> dict:
    metrics = caption_eval(path, "test", beam=beam)
    print(f"\nshapes captions ({path}), test split, BLEU against all 4 references")
    print(
        f"{'decoding':<8} {'scenes':<7} {'n':>5} {'BLEU-1':>7} {'BLEU-2':>7} {'BLEU-3':>7} "
        f"{'BLEU-4':>7}"
    )
    for mode in ("greedy", "beam"):
        for group in ("all", "seen", "unseen"):
            row = metrics[f"{mode}_{group}"]
            scores = " ".join(f"{row[f'bleu{k}']:7.3f}" for k in range(1, 5))
            name = mode if mode == "greedy" else f"beam {beam}"
            print(f"{name:<8} {group:<7} {row['pictures']:5d} {scores}")
    cap = Captioner.load(path)
    result = {"model": path, "attention": cap.config.attention, "metrics": metrics}
    if not cap.config.attention:  # the attention decoder steps through cells, not a layer
        settings = cap.info["data_settings"]
        options = {"scenes": 10, "valid": 10, "test": settings["test"], "data_seed": 0}
        pictures = load_data("shapes", cap.config.side, options)[0]["test"][:200]
        twin = Captioner(on_torch(cap.model), cap.vocab, cap.info)
        seconds = interleaved(
            {"seqlab": lambda: cap.caption(pictures), "torch.nn": lambda: twin.caption(pictures)},
            rounds,
        )
        texts = [c.text for c in cap.caption(pictures)]
        same = texts == [c.text for c in twin.caption(pictures)]
        result["speed"] = speed_table("scenes captioned (greedy)", len(pictures), seconds, same)
    return result


def speed_table(what: str, items: int, seconds: dict, same: bool) -> dict:
    rates = {name: items / s for name, s in seconds.items()}
    ratio = rates["seqlab"] / rates["torch.nn"]
    print(f"\n{what} per second, median of interleaved rounds (same output: {same})")
    print(f"{'seqlab':>10} {'torch.nn':>10} {'ratio':>7}")
    print(f"{rates['seqlab']:10.0f} {rates['torch.nn']:10.0f} {ratio:7.2f}")
    return {"what": what, "per_s": rates, "ratio": ratio, "same_output": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--names", help="a `seqlab generate train names` directory")
    parser.add_argument("--shapes", nargs="*", default=[], help="`seqlab caption train` dirs")
    parser.add_argument("--temperatures", type=float, nargs="+", default=[1.0, 0.5])
    parser.add_argument("--n", type=int, default=100, help="names sampled per language")
    parser.add_argument("--beam", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    np.random.seed(0)
    figures = {"threads": torch.get_num_threads()}
    if args.names:
        figures["names"] = names_part(args.names, args.temperatures, args.n, args.rounds)
    figures["shapes"] = [shapes_part(p, args.beam, args.rounds) for p in args.shapes]
    if args.json:
        with atomic_write(args.json, "w", encoding="utf-8") as f:
            json.dump(figures, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
