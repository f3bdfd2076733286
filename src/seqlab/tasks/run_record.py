"""``out/run.json``: what a training run was started with, so that running ``train`` again on
the same ``out`` resumes that run, and only that run.

A run is a dict of JSON-ready parts: ``"config"`` (the task's settings, a dict) and whatever
names the data it reads (``"source"``, ``"dataset"``, ``"tokenizer"``, ...). To resume, every part
must be the same, except the config settings named in ``resumable`` (``epochs``: train further).
A setting that the saved run does not name (one added to the task since) counts as its default
there, so a run saved before a new setting existed still resumes when the setting is left alone.

Examples
--------
>>> import tempfile
>>> out = tempfile.mkdtemp()
>>> write(out, {"config": {"hidden": 16, "epochs": 2}, "source": "ptb"})
>>> check(out, {"config": {"hidden": 16, "epochs": 5}, "source": "ptb"}, ValueError)
>>> try:
...     check(out, {"config": {"hidden": 8, "epochs": 5}, "source": "ptb"}, ValueError)
... except ValueError as e:
...     print(str(e).split(": running")[0].split(" ", 1)[1])
holds a run with other settings (hidden: 16 -> 8)
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from seqlab.io import atomic_write

RUN_FILE = "run.json"


def defaults_of(config_class: type) -> dict[str, Any]:
    """The default of every field of a config dataclass (fields without one are left out)."""
    return {
        f.name: f.default
        for f in dataclasses.fields(config_class)
        if f.default is not dataclasses.MISSING
    }


def check(
    out: str | os.PathLike,
    run: dict[str, Any],
    error: type[Exception],
    resumable: tuple[str, ...] = ("epochs",),
    defaults: dict[str, Any] | None = None,
) -> None:
    """Raise ``error`` if ``out`` holds a run whose parts differ from ``run``'s.

    ``defaults`` (see `defaults_of`) stand in for config settings the saved run does not name.
    Nothing is raised when ``out`` holds no run yet.
    """
    file = Path(out) / RUN_FILE
    if not file.is_file():
        return
    try:
        saved = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise error(f"{file} cannot be read ({e}): use another --out") from None
    if not isinstance(saved, dict):
        raise error(f"{file} is not a run record of seqlab: use another --out")
    changed = []
    for part, now in run.items():
        before = saved.get(part)
        if part == "config":
            before = {**(defaults or {}), **(before or {})}
            changed += [
                f"{k}: {before.get(k)!r} -> {v!r}"
                for k, v in now.items()
                if k not in resumable and before.get(k) != v
            ]
        elif before != now:
            changed.append(f"{part}: {before} -> {now}")
    if changed:
        may_change = " and ".join(f"--{k.replace('_', '-')}" for k in resumable)
        raise error(
            f"{out} holds a run with other settings ({'; '.join(changed)}): running train "
            f"again on it resumes that run, so give the same settings (only {may_change} may "
            "change), or another --out"
        )


def write(out: str | os.PathLike, run: dict[str, Any]) -> None:
    """Record ``run`` in ``out/run.json`` (atomically), creating ``out`` if needed."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(out / RUN_FILE, "w", encoding="utf-8") as f:
        json.dump(run, f, indent=1, ensure_ascii=False)
