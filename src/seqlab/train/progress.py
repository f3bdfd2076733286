"""What a run shows while it trains: one tqdm bar per epoch and one log line per epoch.

The bar shows the running training loss, the last validation metric, items/s and tqdm's ETA;
its postfix is redrawn at most twice a second, so a fast step loop does not pay for
formatting. ``out/train.log`` gets one line per epoch (and a line when a run starts, resumes,
stops early or diverges), appended and flushed at once.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from pathlib import Path

from tqdm.auto import tqdm


class EpochBar:
    """The progress bar of one epoch; does nothing when ``enabled`` is False (quiet, rank > 0)."""

    def __init__(
        self,
        epoch: int,
        epochs: int,
        total: int,
        initial: int,
        item_name: str,
        last_metric: str,
        enabled: bool,
    ) -> None:
        self.enabled = enabled
        self.item_name = item_name
        self.last_metric = last_metric
        self.next_refresh = 0.0
        self.bar = (
            tqdm(
                total=total,
                initial=initial,
                desc=f"epoch {epoch}/{epochs}",
                unit="step",
                dynamic_ncols=True,
                leave=True,
            )
            if enabled
            else None
        )

    def update(self, loss: float, items_per_s: float) -> None:
        """Advance one step; redraw the postfix when half a second has passed."""
        if self.bar is None:
            return
        self.bar.update()
        now = time.monotonic()
        if now >= self.next_refresh:
            self.next_refresh = now + 0.5
            self.bar.set_postfix_str(self._postfix(loss, items_per_s), refresh=False)

    def close(self, loss: float, items_per_s: float, metric_text: str) -> None:
        """Show the epoch's final figures (with the new validation metric) and close the bar."""
        if self.bar is None:
            return
        self.last_metric = metric_text
        self.bar.set_postfix_str(self._postfix(loss, items_per_s), refresh=True)
        self.bar.close()

    def _postfix(self, loss: float, items_per_s: float) -> str:
        parts = [f"loss {loss:.4g}"]
        if self.last_metric:
            parts.append(self.last_metric)
        if math.isfinite(items_per_s):
            parts.append(f"{items_per_s:,.0f} {self.item_name}/s")
        return ", ".join(parts)


def format_epoch(record: dict, epochs: int, item_name: str) -> str:
    r"""One log line summarising an epoch's record.

    Examples
    --------
    >>> record = {"epoch": 2, "train_loss": 0.5, "valid_accuracy": 0.81, "lr": 0.001,
    ...           "grad_norm_mean": 1.5, "grad_norm_max": 4.0, "clipped_steps": 3, "steps": 10,
    ...           "skipped_steps": 0, "train_time_s": 2.0, "valid_time_s": 0.5,
    ...           "items_per_s": 640.0}
    >>> print(format_epoch(record, 5, "examples").replace(" grad", "\ngrad"))
    epoch 2/5 train_loss 0.5 valid_accuracy 0.81 lr 0.001
    grad_norm mean 1.5 max 4 clipped 3/10 time 2.0+0.5 s 640 examples/s
    """
    parts = [f"epoch {record['epoch']}/{epochs}", f"train_loss {record['train_loss']:.6g}"]
    parts += [
        f"{k} {v:.6g}" for k, v in record.items() if k.startswith("valid_") and k[6:] != "time_s"
    ]
    parts.append(f"lr {record['lr']:.3g}")
    parts.append(
        f"grad_norm mean {record['grad_norm_mean']:.4g} max {record['grad_norm_max']:.4g} "
        f"clipped {record['clipped_steps']}/{record['steps']}"
    )
    if record["skipped_steps"]:
        parts.append(f"skipped {record['skipped_steps']}")
    parts.append(f"time {record['train_time_s']:.1f}+{record['valid_time_s']:.1f} s")
    parts.append(f"{record['items_per_s']:,.0f} {item_name}/s")
    return " ".join(parts)


class RunLog:
    """Appends timestamped lines to ``out/train.log`` (only on rank 0: ``path`` None elsewhere)."""

    def __init__(self, path: Path | None, echo: bool) -> None:
        self.path = path
        self.echo = echo

    def line(self, text: str, echo: bool = False) -> None:
        """Append ``text``; also print it if ``echo`` and the run is not quiet."""
        if self.path is None:
            return
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(f"{stamp} {text}\n")
        if echo and self.echo:
            tqdm.write(text)
