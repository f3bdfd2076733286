"""`TrainConfig`: every setting of a training run, plain data saved with each checkpoint."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

#: Metrics where lower is better; any other metric name is maximised unless ``mode`` says.
LOWER_IS_BETTER = ("loss", "perplexity", "error", "nll")


class TrainConfigError(ValueError):
    """A `TrainConfig` field has a value that cannot work; the message names it and the fix."""


@dataclass(frozen=True)
class TrainConfig:
    """Settings of `Trainer.fit`; saved in every checkpoint as JSON.

    Parameters
    ----------
    epochs : int
        Passes over the training loader. Raising it and calling ``fit`` again on the same
        ``out`` continues the run.
    clip_norm : float or None
        Clip gradients to this global L2 norm (``clip_grad_norm_``); None only measures the norm.
    patience : int or None
        Stop after this many epochs without improvement of ``metric``; None trains all epochs.
    metric : str
        Validation metric that decides the best epoch, early stopping and ``ReduceLROnPlateau``:
        ``"loss"``, ``"perplexity"`` (exp of the mean loss), ``"accuracy"`` (built into the
        default step) or any name the ``evaluate`` callable returns.
    mode : {"min", "max"} or None
        Whether ``metric`` improves downwards; None: "min" for loss, perplexity, error and nll,
        else "max".
    min_delta : float
        An epoch improves only if it beats the best by more than this.
    restore_best : bool
        Load the best epoch's weights into the model when ``fit`` returns.
    schedule_every : {"epoch", "step"}
        When ``scheduler.step()`` runs: after each epoch (StepLR, CosineAnnealingLR over epochs,
        ReduceLROnPlateau, which always gets the validation metric) or after each optimizer
        step (warm-up, OneCycleLR, cosine over steps).
    precision : {"auto", "fp32", "bf16", "fp16"}
        Autocast dtype. "auto": bf16 on a CUDA device that supports it (else fp16 with a
        GradScaler), fp32 on the CPU. bf16 also runs on the CPU when asked; fp16 needs CUDA.
    device : str
        "auto" (CUDA when available, the local rank's device under torchrun), "cpu", "cuda", …
    seed : int
        Seeds torch, numpy and ``random`` at the start of a new run (rank r adds r). A resumed
        run restores the generators' states from the checkpoint instead.
    checkpoint_every : int or None
        Also checkpoint every this many optimizer steps (within epochs) into ``out/last``.
    quiet : bool
        No progress bar and no printing; the log file and history are still written.
    curves : bool
        Draw ``out/curves.png`` (after epochs, at most as often as keeps drawing under 5 % of
        the run's time, and at the end).
    item_name : str
        What ``n_items`` counts, shown in the bar and the log as ``<item_name>/s``.
    """

    epochs: int = 10
    clip_norm: float | None = 1.0
    patience: int | None = None
    metric: str = "loss"
    mode: str | None = None
    min_delta: float = 0.0
    restore_best: bool = True
    schedule_every: str = "epoch"
    precision: str = "auto"
    device: str = "auto"
    seed: int = 0
    checkpoint_every: int | None = None
    quiet: bool = False
    curves: bool = True
    item_name: str = "examples"

    def __post_init__(self) -> None:
        _require(isinstance(self.epochs, int) and self.epochs >= 1, "epochs", "an int >= 1")
        _require(
            self.clip_norm is None or (self.clip_norm > 0 and math.isfinite(self.clip_norm)),
            "clip_norm",
            "a finite number > 0, or None to only measure the gradient norm",
        )
        _require(
            self.patience is None or (isinstance(self.patience, int) and self.patience >= 1),
            "patience",
            "an int >= 1, or None for no early stopping",
        )
        _require(self.mode in (None, "min", "max"), "mode", '"min", "max" or None')
        _require(self.min_delta >= 0, "min_delta", "a number >= 0")
        _require(self.schedule_every in ("epoch", "step"), "schedule_every", '"epoch" or "step"')
        _require(
            self.precision in ("auto", "fp32", "bf16", "fp16"),
            "precision",
            '"auto", "fp32", "bf16" or "fp16"',
        )
        _require(
            self.checkpoint_every is None
            or (isinstance(self.checkpoint_every, int) and self.checkpoint_every >= 1),
            "checkpoint_every",
            "an int >= 1, or None for checkpoints at epoch ends only",
        )

    @property
    def metric_mode(self) -> str:
        """ "min" or "max": the direction in which `metric` improves."""
        if self.mode is not None:
            return self.mode
        return "min" if self.metric.lower().endswith(LOWER_IS_BETTER) else "max"

    def to_dict(self) -> dict:
        """The fields as a JSON-ready dict."""
        return dataclasses.asdict(self)


def _require(ok: bool, field: str, expected: str) -> None:
    if not ok:
        raise TrainConfigError(f"TrainConfig.{field} must be {expected}")
