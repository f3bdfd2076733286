"""One training loop for every task: progress, exact resume, clipping, early stopping, AMP, DDP.

>>> from seqlab.train import Trainer, TrainConfig
>>> TrainConfig(epochs=10, clip_norm=1.0, patience=3, metric="accuracy").metric_mode
'max'

``Trainer(model, loss_fn, optimizer, config).fit(train_loader, valid_loader, out="runs/x")``
trains, checkpoints ``runs/x`` after every epoch and resumes from it when called again; see
docs/train.md for the loop, the checkpoint layout and torchrun.
"""

from seqlab.train.config import TrainConfig, TrainConfigError
from seqlab.train.errors import (
    BatchMismatchError,
    CheckpointMismatchError,
    EmptyLoaderError,
    OutputDirError,
    TrainingDivergedError,
    TrainingError,
)
from seqlab.train.history import History
from seqlab.train.loop import Trainer
from seqlab.train.sampler import ResumableBatchSampler
from seqlab.train.steps import SupervisedStep

__all__ = [
    "BatchMismatchError",
    "CheckpointMismatchError",
    "EmptyLoaderError",
    "History",
    "OutputDirError",
    "ResumableBatchSampler",
    "SupervisedStep",
    "TrainConfig",
    "TrainConfigError",
    "Trainer",
    "TrainingDivergedError",
    "TrainingError",
]
