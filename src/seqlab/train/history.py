"""What a run records: per-epoch history (history.json, curves.png) and per-step rows (steps.csv).

`EpochStats` sums the training steps of one epoch (loss, items, gradient norms); at the end of
the epoch it becomes a record of `History`, which also keeps the best epoch and decides early
stopping. Both go into every checkpoint, so a resumed run continues them exactly.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from seqlab.io import atomic_write

#: Record fields that measure time: they differ between otherwise identical runs.
TIMING_KEYS = ("train_time_s", "valid_time_s", "items_per_s")

STEP_COLUMNS = ("epoch", "step", "loss", "grad_norm", "lr")


@dataclass
class EpochStats:
    """Running sums over the optimizer steps of the current epoch."""

    steps: int = 0
    items: float = 0.0
    loss_sum: float = 0.0  # Σ loss · items, so the epoch loss is a mean over items
    norm_sum: float = 0.0
    norm_max: float = 0.0
    clipped: int = 0
    skipped: int = 0  # fp16 steps the GradScaler skipped because of inf/NaN gradients
    train_time: float = 0.0
    lr: float = math.nan  # of the last step

    def add(
        self, loss: float, items: float, norm: float, lr: float, clip_norm: float | None
    ) -> None:
        """Count one optimizer step: its mean loss, items, pre-clip gradient norm and lr."""
        self.steps += 1
        self.lr = lr
        self.items += items
        self.loss_sum += loss * items
        if math.isfinite(norm):
            self.norm_sum += norm
            self.norm_max = max(self.norm_max, norm)
            self.clipped += clip_norm is not None and norm > clip_norm
        else:
            self.skipped += 1

    def record(self) -> dict:
        """The epoch's training figures, as they appear in history.json."""
        counted = self.steps - self.skipped
        return {
            "train_loss": self.loss_sum / self.items if self.items else math.nan,
            "lr": self.lr,
            "grad_norm_mean": self.norm_sum / counted if counted else math.nan,
            "grad_norm_max": self.norm_max,
            "clipped_steps": self.clipped,
            "skipped_steps": self.skipped,
            "steps": self.steps,
            "items": self.items,
            "train_time_s": self.train_time,
            "items_per_s": self.items / self.train_time if self.train_time else math.nan,
        }


@dataclass
class History:
    """Per-epoch records plus the early-stopping state: best epoch and epochs without progress.

    Each record holds ``epoch`` (1-based), ``train_loss``, ``valid_<metric>`` for every
    validation metric, ``lr``, ``grad_norm_mean``/``grad_norm_max`` (before clipping),
    ``clipped_steps``, ``skipped_steps``, ``steps``, ``items``, ``train_time_s``,
    ``valid_time_s`` and ``items_per_s``.
    """

    metric: str = "loss"
    mode: str = "min"
    epochs: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    best_value: float | None = None
    bad_epochs: int = 0
    stopped_early: bool = False

    def add(self, record: dict, min_delta: float, patience: int | None) -> bool:
        """Append an epoch's record; True if it is the new best by ``valid_<metric>``."""
        self.epochs.append(record)
        value = record.get(f"valid_{self.metric}")
        if value is None:
            return False
        better = self.best_value is None or (
            value < self.best_value - min_delta
            if self.mode == "min"
            else value > self.best_value + min_delta
        )
        if better:
            self.best_epoch, self.best_value, self.bad_epochs = record["epoch"], value, 0
        else:
            self.bad_epochs += 1
            self.stopped_early = patience is not None and self.bad_epochs >= patience
        return better

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> History:
        return cls(**data)

    def write(self, out: Path) -> None:
        """``out/history.json``, atomically."""
        with atomic_write(out / "history.json", "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=1)

    def plot(self):
        """A matplotlib Figure: loss, the validation metric and the gradient norm per epoch.

        Drawn without pyplot, so no global backend or figure state changes.
        """
        from matplotlib.figure import Figure  # imported on first use: it takes seconds

        epochs = [r["epoch"] for r in self.epochs]
        panels = [("loss", ["train_loss", "valid_loss"])]
        if self.metric != "loss":
            panels.append((self.metric, [f"valid_{self.metric}"]))
        panels.append(("gradient norm before clipping", ["grad_norm_mean", "grad_norm_max"]))
        fig = Figure(figsize=(4.2 * len(panels), 3.4))
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.15, wspace=0.25)
        for ax, (title, keys) in zip(
            fig.subplots(1, len(panels), squeeze=False)[0], panels, strict=True
        ):
            for key in keys:
                values = [r.get(key, math.nan) for r in self.epochs]
                if any(math.isfinite(v) for v in values):
                    ax.plot(epochs, values, marker="o", label=key)
            if self.best_epoch is not None:
                ax.axvline(self.best_epoch, color="grey", linestyle=":", label="best")
            ax.set_title(title)
            ax.set_xlabel("epoch")
            ax.legend(fontsize="small")
        return fig


class Curves:
    """Redraws ``curves.png`` after an epoch unless that would take over 5 % of the run's time.

    Drawing a figure takes a second or more; after short epochs it is redrawn only once
    20 times its drawing time has passed, and always when a run ends.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.next_time = 0.0

    def draw(self, history: History, force: bool = False) -> None:
        started = time.monotonic()
        if self.path is None or not history.epochs or (started < self.next_time and not force):
            return
        with atomic_write(self.path) as f:
            history.plot().savefig(f, format="png", dpi=100)
        self.next_time = time.monotonic() + 19 * (time.monotonic() - started)


class StepLog:
    """Per-step rows (epoch, step, loss, pre-clip gradient norm, lr) in ``out/steps.csv``.

    Rows wait in memory and are appended when a checkpoint is written, just before it, so the
    file never runs behind the checkpoint; `trim` drops the rows a killed run wrote after its
    last checkpoint, so a resumed run does not repeat them.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.pending: list[tuple] = []

    def add(self, epoch: int, step: int, loss: float, grad_norm: float, lr: float) -> None:
        self.pending.append((epoch, step, loss, grad_norm, lr))

    def flush(self) -> None:
        if self.path is None or not self.pending:
            self.pending.clear()
            return
        new = not self.path.exists()
        with open(self.path, "a", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(STEP_COLUMNS)
            writer.writerows(
                (e, s, repr(lo), repr(g), repr(lr)) for e, s, lo, g, lr in self.pending
            )
        self.pending.clear()

    def trim(self, last_step: int) -> None:
        """Keep the rows up to ``last_step`` (the step of the checkpoint a run resumes from)."""
        if self.path is None or not self.path.exists():
            return
        with open(self.path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        kept = rows[:1] + [row for row in rows[1:] if int(row[1]) <= last_step]
        if len(kept) < len(rows):
            buffer = io.StringIO()
            csv.writer(buffer).writerows(kept)
            with atomic_write(self.path, "w", encoding="utf-8", newline="") as f:
                f.write(buffer.getvalue())
