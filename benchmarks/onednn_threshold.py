"""Where oneDNN's packed matrix product beats torch.mm for the recurrent step products.

Every time step of a recurrent layer multiplies the state (B, H) by W_hhᵀ (H, G·H), G = 1 (RNN),
3 (GRU) or 4 (LSTM). ``seqlab.nn.bptt_common.step_product`` runs it on oneDNN with a weight
packed once, but only from ``ONEDNN_MIN_FLOPS`` FLOPs per step on, because a oneDNN call has a
fixed cost of its own. This script times both products per step over a grid of shapes, in the
same run and interleaved, and prints the per-step times, ``ratio`` = oneDNN's speed ÷
torch.mm's, and the crossover: the smallest FLOP count from which oneDNN is at least as fast at
every larger measured shape. Set ``ONEDNN_MIN_FLOPS`` from that figure on a new machine.

    .venv/bin/python benchmarks/onednn_threshold.py [--repeats 7] [--json PATH]
"""

import argparse
import json
import statistics
import time

import torch

from seqlab.nn.bptt_common import ONEDNN_MIN_FLOPS

BATCHES = (8, 32, 64, 128)
HIDDEN = (64, 128, 256, 512)
GATES = (1, 4)


def per_step_seconds(product, h, steps) -> float:
    """Seconds per call of `product(h)`, over `steps` calls in a row (as a time loop makes)."""
    product(h)
    start = time.perf_counter()
    for _ in range(steps):
        product(h)
    return (time.perf_counter() - start) / steps


def measure(B, H, G, repeats, max_steps=2000) -> dict:
    weight = torch.randn(G * H, H)
    h = torch.randn(B, H)
    weight_t = weight.t()
    packed = torch.ops.mkldnn._reorder_linear_weight(weight, B)
    products = {
        "mm": lambda x: torch.mm(x, weight_t),
        "onednn": lambda x: torch.ops.mkldnn._linear_pointwise(x, packed, None, "none", [], ""),
    }
    flops = 2.0 * B * H * G * H
    steps = max(10, min(max_steps, int(2e9 / flops)))  # about the same wall time for every shape
    times = {name: [] for name in products}
    for _ in range(repeats):  # interleaved, so that a busy moment hits both
        for name, product in products.items():
            times[name].append(per_step_seconds(product, h, steps))
    mm, onednn = (statistics.median(times[n]) for n in ("mm", "onednn"))
    return {
        "B": B,
        "H": H,
        "G": G,
        "flops": flops,
        "mm_us": mm * 1e6,
        "onednn_us": onednn * 1e6,
        "ratio": mm / onednn,
    }


def crossover(rows) -> float | None:
    """The smallest FLOP count from which oneDNN is at least as fast at every larger shape."""
    rows = sorted(rows, key=lambda r: r["flops"])
    for i, r in enumerate(rows):
        if all(s["ratio"] >= 1.0 for s in rows[i:]):
            return r["flops"]
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)))
    parser.add_argument("--hidden", default=",".join(map(str, HIDDEN)))
    parser.add_argument("--max-steps", type=int, default=2000, help="products per timing, at most")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if not torch.backends.mkldnn.is_available():
        raise SystemExit("this torch has no oneDNN (torch.backends.mkldnn.is_available() is False)")
    batches = [int(b) for b in args.batches.split(",")]
    hidden = [int(h) for h in args.hidden.split(",")]
    print(
        f"threads={torch.get_num_threads()} torch={torch.__version__} float32, "
        f"median of {args.repeats}; ratio = oneDNN's speed / torch.mm's"
    )
    print(f"{'B':>4} {'H':>5} {'G':>2} {'MFLOP':>8} {'mm µs':>9} {'oneDNN µs':>10} {'ratio':>6}")
    rows = []
    for G in GATES:
        for B in batches:
            for H in hidden:
                r = measure(B, H, G, args.repeats, args.max_steps)
                rows.append(r)
                print(
                    f"{B:4d} {H:5d} {G:2d} {r['flops'] / 1e6:8.2f} {r['mm_us']:9.1f} "
                    f"{r['onednn_us']:10.1f} {r['ratio']:6.2f}",
                    flush=True,
                )
    found = crossover(rows)
    where = "none in range" if found is None else f"{found / 1e6:.2f} MFLOP"
    print(
        f"crossover: oneDNN at least as fast from {where} per step on "
        f"(seqlab's ONEDNN_MIN_FLOPS: {ONEDNN_MIN_FLOPS / 1e6:g} MFLOP)"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"rows": rows, "crossover_flops": found, "onednn_min_flops": ONEDNN_MIN_FLOPS},
                f,
                indent=1,
            )


if __name__ == "__main__":
    main()
