"""seqlab.nn against torch.nn: training, inference and decoding throughput of RNN/LSTM/GRU.

For every cell type and shape (B, T, input, hidden) both implementations get the same weights
and input and are timed in the same run, interleaved, ``--repeats`` times. Modes:

- ``train``: forward + backward of the sum of all outputs;
- ``no_grad`` / ``inference_mode``: the forward pass under ``torch.no_grad()`` /
  ``torch.inference_mode()``;
- ``dec-cell`` / ``dec-layer``: a decoding loop under ``torch.inference_mode()``, T calls of the
  cell (``LSTMCell`` …), or of the layer on one time step (1, B, input), carrying the state,
  as sampling and beam search do; at B = 1, 5 (a beam) and 64 (``--decode-batches``).

The table shows the median tokens/s (B·T per second), ``ratio`` = seqlab / torch.nn (> 1:
seqlab faster: the median over rounds of torch.nn's time ÷ seqlab's in the same round, so that
a machine that slows down or speeds up for a few seconds moves both sides of each quotient),
the GFLOP/s each reaches as a fraction of this machine's float32
matrix-product peak (oneDNN's packed GEMM, the fastest on this CPU, measured in the same run),
``ratio`` as a fraction of ``bound``, and the peak memory of one training step (the most tensor
memory held at once, from the allocator's own record: see `cpu_peak_memory`).

``bound`` is the highest ratio any float32 implementation could reach against the torch.nn time
of that row: the products a step cannot avoid (forward: input and recurrent; training adds
δh_{t-1} and both weight gradients, but no δx, since x needs no gradient) all run at the
measured GEMM peak and everything elementwise is free. Where ``bound`` is below a goal, the goal
is out of reach on this machine in float32.

    .venv/bin/python benchmarks/rnn.py --json bench-rnn.json
    .venv/bin/python benchmarks/rnn.py --quick            # a tiny grid: does everything run?
    .venv/bin/python benchmarks/rnn.py --device cuda      # against cuDNN
"""

import argparse
import json
import statistics
import time
from functools import partial

import torch

from seqlab import nn as snn

SHAPES = [
    (1, 200, 64, 128),
    (16, 80, 64, 128),
    (32, 35, 128, 256),
    (20, 35, 200, 200),
    (64, 100, 128, 256),
    (32, 50, 300, 512),
    (128, 35, 200, 200),
]
#: (T, input, hidden) of the decoding loops: a language model's 200-wide embedding and state
DECODE = (50, 200, 200)
DECODE_BATCHES = (1, 5, 64)
CELL_MODULES = {
    "lstm": (snn.LSTMCell, torch.nn.LSTMCell),
    "gru": (snn.GRUCell, torch.nn.GRUCell),
    "rnn": (snn.RNNCell, torch.nn.RNNCell),
}
INFERENCE_MODES = {"no_grad": torch.no_grad, "inference_mode": torch.inference_mode}
CELLS = {
    "lstm": (snn.LSTM, torch.nn.LSTM, 4),
    "gru": (snn.GRU, torch.nn.GRU, 3),
    "rnn": (snn.RNN, torch.nn.RNN, 1),
}


def make(cell, shape, device, seed=0):
    """The seqlab and torch.nn modules with equal weights, and the input (T, B, I)."""
    B, T, I, H = shape
    ours_cls, ref_cls, _ = CELLS[cell]
    torch.manual_seed(seed)
    ref = ref_cls(I, H).to(device)
    ours = ours_cls(I, H).to(device)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(T, B, I, device=device)
    return {"seqlab": ours, "torch.nn": ref}, x


def train_step(net, x):
    net.zero_grad(set_to_none=True)
    net(x)[0].sum().backward()


def infer_step(net, x, mode="no_grad"):
    with INFERENCE_MODES[mode]():
        net(x)


def make_decoders(cell, B, device, seed=0):
    """Cells and one-layer modules of both libraries with equal weights, and the steps (T, B, I)."""
    T, I, H = DECODE
    torch.manual_seed(seed)
    cells = {}
    for name, cls in zip(("seqlab", "torch.nn"), CELL_MODULES[cell], strict=True):
        cells[name] = cls(I, H).to(device)
    cells["seqlab"].load_state_dict(cells["torch.nn"].state_dict())
    layers = {"torch.nn": CELLS[cell][1](I, H).to(device), "seqlab": CELLS[cell][0](I, H)}
    layers["seqlab"].to(device).load_state_dict(layers["torch.nn"].state_dict())
    return cells, layers, torch.randn(T, B, I, device=device)


def decode_cells(cell, x):
    """T calls of the cell, each on one step (B, I), the state carried."""
    with torch.inference_mode():
        state = None
        for x_t in x:
            state = cell(x_t, state)


def decode_layer(layer, x):
    """T calls of the layer, each on one time step (1, B, I), the state carried."""
    with torch.inference_mode():
        state = None
        for x_t in x.unsqueeze(1):
            _, state = layer(x_t, state)


def timed(fn, device) -> float:
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def minimal_flops(cell, shape, mode) -> float:
    """Matrix-product FLOPs a step cannot avoid: 2·B·T·G·H·(I+H) forward, + 2·B·T·G·H·(2H+I)."""
    B, T, I, H = shape
    per = 2.0 * B * T * CELLS[cell][2] * H
    return per * (2 * I + 3 * H) if mode == "train" else per * (I + H)


def gemm_ceiling(shape, device, repeats=5) -> float:
    """GFLOP/s of the fastest float32 matrix product here, shaped like the input projection.

    On CPU the best of torch.mm (MKL) and oneDNN's product with a packed weight; on CUDA
    torch.mm (cuBLAS).
    """
    B, T, I, H = shape
    a = torch.randn(B * T, I + H, device=device)
    w = torch.randn(4 * H, I + H, device=device)
    products = [lambda: torch.mm(a, w.t())]
    if device == "cpu" and torch.backends.mkldnn.is_available():
        packed = torch.ops.mkldnn._reorder_linear_weight(w, B * T)
        products.append(lambda: torch.ops.mkldnn._linear_pointwise(a, packed, None, "none", [], ""))
    best = float("inf")
    for product in products:
        product()
        best = min(best, *(timed(product, device) for _ in range(repeats)))
    return 2.0 * B * T * (I + H) * 4 * H / best / 1e9


def cpu_peak_memory(nets, x) -> dict:
    """Peak MiB of tensor memory one training step holds at once, for each implementation.

    Every allocation and free of torch's CPU allocator during the step (seqlab's C++ loops
    allocate through it too), as torch's profiler records them, summed in order: the CPU
    counterpart of ``torch.cuda.max_memory_allocated``. A warm-up step runs first, so caches
    made once (packed weights of a no-grad module, oneDNN primitives) are not counted, and the
    resident set is not used: malloc serves small blocks from heap pages already resident and
    large ones from fresh pages, so it would count a few large buffers and miss many small ones.
    """
    from torch.profiler import ProfilerActivity, profile

    result = {}
    for impl, net in nets.items():
        train_step(net, x)
        net.zero_grad(set_to_none=True)
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            train_step(net, x)
        events = prof.profiler.kineto_results.events()
        changes = sorted((e.start_ns(), e.nbytes()) for e in events if e.name() == "[memory]")
        held = peak = 0
        for _, nbytes in changes:
            held += nbytes
            peak = max(peak, held)
        key = "seqlab_peak_mib" if impl == "seqlab" else "torch_peak_mib"
        result[key] = peak / 2**20
    return result


def run(cells, shapes, device, repeats, memory, decode_batches):
    rows = []
    for cell in cells:
        for shape in shapes:
            nets, x = make(cell, shape, device)
            steps = {
                "train": train_step,
                "no_grad": lambda n, x: infer_step(n, x, "no_grad"),
                "inference_mode": lambda n, x: infer_step(n, x, "inference_mode"),
            }
            calls = {m: {k: partial(f, n, x) for k, n in nets.items()} for m, f in steps.items()}
            times = interleaved(calls, device, repeats)
            for mode in steps:
                row = figures(cell, mode, shape, times[mode], device)
                if mode == "train" and memory:
                    row.update(memory_figures(device, nets, x))
                rows.append(row)
                print_row(row)
        for B in decode_batches:
            cells_, layers, x = make_decoders(cell, B, device)
            loops = {
                "dec-cell": {k: partial(decode_cells, c, x) for k, c in cells_.items()},
                "dec-layer": {k: partial(decode_layer, n, x) for k, n in layers.items()},
            }
            times = interleaved(loops, device, repeats)
            T, I, H = DECODE
            for mode in loops:
                row = figures(cell, mode, (B, T, I, H), times[mode], device)
                rows.append(row)
                print_row(row)
    return rows


def interleaved(calls: dict, device, repeats) -> dict:
    """Times of ``calls[mode][impl]()``, mode by mode: one warm-up call each, then `repeats`
    rounds of every implementation, which goes first alternating from round to round.

    Mode by mode, because a training step gives back memory that the next call then faults in
    again: with the modes interleaved, the implementation timed right after the other one's
    training step paid for it (6-12 % of a no_grad call at (64, 100, 128, 256)).
    """
    times = {}
    for mode, by_impl in calls.items():
        for call in by_impl.values():
            call()
        order = list(by_impl)
        times[mode] = {impl: [] for impl in order}
        for round_ in range(repeats):
            for impl in order if round_ % 2 == 0 else order[::-1]:
                times[mode][impl].append(timed(by_impl[impl], device))
    return times


def figures(cell, mode, shape, times, device) -> dict:
    """One row of the table: tokens/s, ratio, share of the GEMM peak and of the bound."""
    B, T, I, H = shape
    flops = minimal_flops(cell, shape, mode)
    ceiling = gemm_ceiling(shape, device)
    t_ours, t_ref = statistics.median(times["seqlab"]), statistics.median(times["torch.nn"])
    ratio = statistics.median(
        ref / ours for ours, ref in zip(times["seqlab"], times["torch.nn"], strict=True)
    )
    row = {
        "cell": cell,
        "mode": mode,
        "B": B,
        "T": T,
        "input": I,
        "hidden": H,
        "seqlab_tokens_per_s": B * T / t_ours,
        "torch_tokens_per_s": B * T / t_ref,
        "ratio": ratio,
        "seqlab_gflops": flops / t_ours / 1e9,
        "torch_gflops": flops / t_ref / 1e9,
        "gemm_ceiling_gflops": ceiling,
    }
    row["seqlab_ceiling_fraction"] = row["seqlab_gflops"] / ceiling
    row["torch_ceiling_fraction"] = row["torch_gflops"] / ceiling
    # the torch.nn time over the least time the unavoidable products take at peak
    row["bound"] = t_ref / (flops / (ceiling * 1e9))
    row["bound_fraction"] = row["ratio"] / row["bound"]
    return row


def memory_figures(device, nets, x) -> dict:
    """Peak memory of one training step for both implementations, and their ratio."""
    row = cuda_peak_memory(nets, x) if device == "cuda" else cpu_peak_memory(nets, x)
    torch_mib = row["torch_peak_mib"]  # 0 for toy shapes: no ratio then
    row["memory_ratio"] = row["seqlab_peak_mib"] / torch_mib if torch_mib else None
    return row


def cuda_peak_memory(nets, x) -> dict:
    result = {}
    for impl, net in nets.items():
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        train_step(net, x)
        torch.cuda.synchronize()
        key = "seqlab_peak_mib" if impl == "seqlab" else "torch_peak_mib"
        result[key] = (torch.cuda.max_memory_allocated() - base) / 2**20
    return result


HEADER = (
    f"{'cell':5} {'mode':14} {'B,T,I,H':>16} {'seqlab tok/s':>13} {'torch tok/s':>12} "
    f"{'ratio':>6} {'bound':>6} {'of bound':>8} {'seqlab %peak':>12} {'torch %peak':>11} "
    f"{'seqlab MiB':>10} {'torch MiB':>9} {'mem ratio':>9}"
)


def print_row(row):
    dims = f"{row['B']},{row['T']},{row['input']},{row['hidden']}"
    mem = ""
    if "seqlab_peak_mib" in row:
        mem = (
            f" {row['seqlab_peak_mib']:10.1f} {row['torch_peak_mib']:9.1f} "
            f"{row['memory_ratio'] or float('nan'):9.2f}"
        )
    print(
        f"{row['cell']:5} {row['mode']:14} {dims:>16} {row['seqlab_tokens_per_s']:13.0f} "
        f"{row['torch_tokens_per_s']:12.0f} {row['ratio']:6.2f} {row['bound']:6.2f} "
        f"{row['bound_fraction']:8.0%} {row['seqlab_ceiling_fraction']:12.0%} "
        f"{row['torch_ceiling_fraction']:11.0%}{mem}",
        flush=True,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--cells", default="lstm,gru,rnn", help="comma-separated: lstm,gru,rnn")
    parser.add_argument(
        "--shapes",
        default=None,
        help="semicolon-separated B,T,I,H (default: the grid in SHAPES)",
    )
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument(
        "--decode-batches",
        default=",".join(map(str, DECODE_BATCHES)),
        help="comma-separated batch sizes of the decoding loops ('' for none)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a tiny grid, one repeat: checks that every mode runs, says nothing about speed",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device found")
    shapes = (
        SHAPES
        if args.shapes is None
        else [tuple(int(v) for v in s.split(",")) for s in args.shapes.split(";")]
    )
    decode_batches = [int(b) for b in args.decode_batches.split(",") if b]
    if args.quick:
        global DECODE
        shapes, decode_batches, args.repeats, DECODE = [(3, 4, 5, 6)], [1, 2], 1, (3, 5, 6)
    cells = args.cells.split(",")
    print(
        f"device={args.device} threads={torch.get_num_threads()} torch={torch.__version__} "
        f"float32, median of {args.repeats}; %peak = share of the measured GEMM peak; "
        "bound = best ratio possible at that peak"
    )
    print(HEADER)
    rows = run(cells, shapes, args.device, args.repeats, not args.no_memory, decode_batches)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "device": args.device,
                    "threads": torch.get_num_threads(),
                    "torch": torch.__version__,
                    "rows": rows,
                },
                f,
                indent=1,
            )


if __name__ == "__main__":
    main()
