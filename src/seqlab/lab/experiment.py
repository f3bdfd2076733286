"""What every lab experiment shares: a reproducible setting and one way to record its result.

An experiment is a module with ``run(out_dir, quick=False, seed=0) -> dict``. It computes, then
calls :func:`record`, which saves ``<name>.png`` and ``<name>.json`` into ``out_dir``, prints the
table, and returns the dict below (also the content of the JSON file):

``name, title, claim, quick, seed, seconds, headers, rows, extra_tables, numbers, checks,
png, json`` (``extra_tables``: further tables, each a dict of caption, headers and rows).

``checks`` maps each claim the lecture makes to whether this run's numbers bear it out, so a
reader (and the tests) can see at a glance what the experiment showed.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib import cycler
from matplotlib.figure import Figure

from seqlab.io import atomic_write
from seqlab.lab.report import format_table, write_json

#: colours and dash patterns of successive lines (solid, dashed, dash-dot, dotted, long dash)
LINES = cycler(
    color=["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"],
    linestyle=["-", "--", "-.", ":", (0, (8, 3))],
)
_MARKERS = [("o", 6), ("s", 10), ("^", 12), ("D", 9), ("v", 12)]


def marker(i: int) -> dict[str, Any]:
    """Plot keywords for the points of line ``i``: hollow markers of growing size and different
    shapes, so points that fall on the same spot stay visible one inside the other.

    Examples
    --------
    >>> marker(1)
    {'marker': 's', 'markersize': 10, 'markerfacecolor': 'none'}
    """
    shape, size = _MARKERS[i % len(_MARKERS)]
    return {"marker": shape, "markersize": size, "markerfacecolor": "none"}


@contextlib.contextmanager
def reproducible(seed: int) -> Iterator[None]:
    """Seed torch and numpy and compute on one thread (same numbers on every run and machine
    size; the lab's models are too small to gain from threads anyway); restore afterwards."""
    threads = torch.get_num_threads()
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def figure(ncols: int = 1, width: float = 6.0, height: float = 4.0):
    """A matplotlib Figure with ``ncols`` axes side by side, made without pyplot (no GUI
    backend, no global state), and its list of axes.

    Each line of an axis gets its own colour *and* dash pattern, so a line lying on top of
    another (two bounded RNNs with the same norm) still lets the one below show through.
    """
    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    for ax in axes:
        ax.set_prop_cycle(LINES)
    return fig, list(axes)


def record(
    out_dir: str | Path,
    *,
    name: str,
    title: str,
    claim: str,
    quick: bool,
    seed: int,
    started: float,
    headers: list[str],
    rows: list[list[Any]],
    numbers: dict[str, Any],
    checks: dict[str, bool],
    fig,
    extra_tables: Sequence[dict[str, Any]] = (),
    finding: str = "",
) -> dict[str, Any]:
    """Save the plot and the numbers of an experiment, print its table, return its result.

    ``claim`` is what the lecture says; ``finding`` is what this run showed, computed from its
    numbers so that it cannot contradict the table (default: which checks held).
    """
    out_dir = Path(out_dir)
    png, js = out_dir / f"{name}.png", out_dir / f"{name}.json"
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    with atomic_write(png, "wb") as f:
        f.write(buf.getvalue())
    result = {
        "name": name,
        "title": title,
        "claim": claim,
        "finding": finding or checks_finding(checks),
        "quick": quick,
        "seed": seed,
        "seconds": round(time.perf_counter() - started, 2),
        "headers": headers,
        "rows": rows,
        "extra_tables": list(extra_tables),
        "numbers": numbers,
        "checks": {k: bool(v) for k, v in checks.items()},
        "png": str(png),
        "json": str(js),
    }
    write_json(js, result)
    print(f"\n{title}\n{format_table(headers, rows)}")
    for table in result["extra_tables"]:
        print(f"{table['caption']}\n{format_table(table['headers'], table['rows'])}")
    for check, ok in result["checks"].items():
        print(f"  [{'x' if ok else ' '}] {check}")
    print(f"  {result['finding']}")
    print(f"  -> {png}, {js} ({result['seconds']:.1f} s)")
    return result


def checks_finding(checks: dict[str, bool]) -> str:
    """One sentence on which of an experiment's checks held in this run.

    Examples
    --------
    >>> checks_finding({"a": True, "b": True})
    'Both checks hold in this run.'
    >>> checks_finding({"a": True, "b": False, "c": True})
    '2 of 3 checks hold in this run; not: b.'
    """
    failed = [name for name, ok in checks.items() if not ok]
    if not failed:
        return {1: "The check holds", 2: "Both checks hold"}.get(
            len(checks), f"All {len(checks)} checks hold"
        ) + " in this run."
    held = len(checks) - len(failed)
    return f"{held} of {len(checks)} checks hold in this run; not: {'; '.join(failed)}."
