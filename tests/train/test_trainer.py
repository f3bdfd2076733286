"""Trainer in one process: outputs, early stopping, schedules, clipping, divergence, bad input."""

import csv
import itertools
import json
import math

import pytest
import torch
from safetensors.torch import load_file
from torch import nn
from torch.utils.data import DataLoader

from seqlab.text import Collate
from seqlab.train import (
    BatchMismatchError,
    CheckpointMismatchError,
    EmptyLoaderError,
    OutputDirError,
    SupervisedStep,
    TrainConfig,
    TrainConfigError,
    Trainer,
    TrainingDivergedError,
)
from train.tiny_task import Classifier, build, loaders, make_data

QUIET = {"quiet": True, "curves": False}


def fit(out, epochs=2, model=None, optimizer=None, scheduler=None, **config):
    built = build()
    model, optimizer = model or built[0], optimizer or built[1]
    trainer = Trainer(
        model,
        nn.CrossEntropyLoss(),
        optimizer,
        TrainConfig(epochs=epochs, metric="accuracy", **{**QUIET, **config}),
        scheduler=scheduler,
    )
    train, valid = loaders()
    return trainer, trainer.fit(train, valid, out=out)


def snapshot(directory):
    return {p.relative_to(directory): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def steps_csv(out):
    with open(out / "steps.csv", newline="") as f:
        return list(csv.DictReader(f))


class Scripted:
    """An evaluate function whose metric follows a script, one value per validation pass."""

    def __init__(self, values):
        self.values, self.calls = list(values), 0

    def __call__(self, model, batch):
        self.calls += 1  # call 1 is the check before training; then one call per epoch
        value = self.values[min(self.calls - 2, len(self.values) - 1)] if self.calls > 1 else 0
        return {"accuracy": (value, 1)}


def one_batch_valid():
    train, valid = loaders(n_valid=8)
    return train, valid


def test_fit_writes_the_run_directory(tmp_path):
    trainer, history = fit(tmp_path, epochs=2, curves=True)
    assert [r["epoch"] for r in history.epochs] == [1, 2]
    record = history.epochs[-1]
    for key in ("train_loss", "valid_loss", "valid_accuracy", "valid_perplexity", "lr"):
        assert math.isfinite(record[key]), key
    assert record["steps"] == 10 and record["items"] == 80
    assert record["valid_perplexity"] == pytest.approx(math.exp(record["valid_loss"]))
    for name in ("history.json", "curves.png", "train.log", "steps.csv"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (tmp_path / "last").iterdir()) == [
        "checkpoint.json",
        "model.safetensors",
        "training.safetensors",
    ]
    assert json.loads((tmp_path / "history.json").read_text()) == history.to_dict()
    log = (tmp_path / "train.log").read_text().splitlines()
    assert sum(" epoch " in line and "train_loss" in line for line in log) == 2
    assert len(steps_csv(tmp_path)) == 20
    # best restored at the end: the model holds out/best's weights
    best = load_file(tmp_path / "best" / "model.safetensors")
    assert all(torch.equal(best[k], v) for k, v in trainer.model.state_dict().items())
    # a finished run: fit again trains nothing and returns the same history
    _, again = fit(tmp_path, epochs=2)
    assert again.epochs == history.epochs


def test_early_stopping_keeps_and_restores_the_best_epoch(tmp_path):
    model, optimizer = build()
    config = TrainConfig(epochs=10, patience=2, metric="accuracy", **QUIET)
    evaluate = Scripted([0.5, 0.7, 0.6, 0.65, 0.9])
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, config, evaluate=evaluate)
    history = trainer.fit(*one_batch_valid(), out=tmp_path)
    assert len(history.epochs) == 4 and history.stopped_early
    assert (history.best_epoch, history.best_value) == (2, 0.7)
    best = load_file(tmp_path / "best" / "model.safetensors")
    last = load_file(tmp_path / "last" / "model.safetensors")
    state = trainer.model.state_dict()
    assert all(torch.equal(best[k], state[k]) for k in state)
    assert not all(torch.equal(last[k], state[k]) for k in state)
    assert json.loads((tmp_path / "best" / "checkpoint.json").read_text())["epoch"] == 2
    assert "stopped early" in (tmp_path / "train.log").read_text()


def test_minimised_metric_and_min_delta():
    assert TrainConfig(metric="loss").metric_mode == "min"
    assert TrainConfig(metric="perplexity").metric_mode == "min"
    assert TrainConfig(metric="accuracy").metric_mode == "max"
    assert TrainConfig(metric="bleu", mode="min").metric_mode == "min"


def test_epoch_scheduler_and_plateau_get_stepped_once_per_epoch(tmp_path):
    model, optimizer = build(lr=0.1)
    step_lr = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    _, history = fit(
        tmp_path / "step", epochs=3, model=model, optimizer=optimizer, scheduler=step_lr
    )
    assert [r["lr"] for r in history.epochs] == pytest.approx([0.1, 0.05, 0.025])

    model, optimizer = build(lr=0.1)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "max", factor=0.5, patience=0)
    config = TrainConfig(epochs=3, metric="accuracy", **QUIET)
    trainer = Trainer(
        model,
        nn.CrossEntropyLoss(),
        optimizer,
        config,
        scheduler=plateau,
        evaluate=Scripted([0.5, 0.4, 0.3]),
    )
    history = trainer.fit(*one_batch_valid(), out=tmp_path / "plateau")
    assert [r["lr"] for r in history.epochs] == pytest.approx([0.1, 0.1, 0.05])


def test_warm_up_is_stepped_after_every_optimizer_step(tmp_path):
    model, optimizer = build(lr=0.1)
    warm_up = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=10)
    fit(tmp_path, 1, model, optimizer, warm_up, schedule_every="step")
    lrs = [float(row["lr"]) for row in steps_csv(tmp_path)]
    assert lrs[0] == pytest.approx(0.01) and lrs[-1] == pytest.approx(0.091)
    assert all(a < b for a, b in itertools.pairwise(lrs))


def test_scheduler_configuration_errors(tmp_path):
    model, optimizer = build()
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min")
    with pytest.raises(TrainConfigError, match="mode='max'"):
        fit(tmp_path, model=model, optimizer=optimizer, scheduler=plateau)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "max")
    with pytest.raises(TrainConfigError, match="schedule_every"):
        fit(tmp_path, model=model, optimizer=optimizer, scheduler=plateau, schedule_every="step")
    assert not (tmp_path / "last").exists()


def test_clipping_bounds_the_update_and_logs_the_norm_before_clipping(tmp_path):
    torch.manual_seed(0)
    model = Classifier(dropout=0.0).double()
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    train, valid = loaders(batch_size=80)  # one step per epoch
    config = TrainConfig(epochs=1, clip_norm=1e-3, metric="accuracy", **QUIET)
    history = Trainer(model, nn.CrossEntropyLoss(), optimizer, config).fit(
        train, valid, out=tmp_path
    )
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert float((after - before).norm()) == pytest.approx(1e-3, rel=1e-4)
    record = history.epochs[0]
    assert record["clipped_steps"] == 1 and record["grad_norm_max"] > 1e-3
    assert float(steps_csv(tmp_path)[0]["grad_norm"]) == record["grad_norm_max"]


class FailingStep(SupervisedStep):
    """The default step; from training step ``at`` on the loss is NaN, or only the gradients."""

    def __init__(self, at, what):
        super().__init__(nn.CrossEntropyLoss())
        self.at, self.what, self.calls = at, what, 0

    def __call__(self, model, batch):
        loss, n = super().__call__(model, batch)
        if torch.is_grad_enabled():
            self.calls += 1
            if self.calls >= self.at and self.what == "loss":
                loss = loss * float("nan")
            elif self.calls >= self.at:
                loss.register_hook(lambda g: g * float("inf"))
        return loss, n


@pytest.mark.parametrize("what", ["loss", "gradient"])
def test_divergence_stops_with_advice_and_leaves_the_last_checkpoint(tmp_path, what):
    model, optimizer = build()
    train, valid = loaders()
    config = TrainConfig(epochs=3, metric="accuracy", clip_norm=None, **QUIET)
    step = FailingStep(at=14, what=what)  # step 4 of epoch 2
    trainer = Trainer(
        model,
        None,
        optimizer,
        config,
        step=step,
        evaluate=SupervisedStep(nn.CrossEntropyLoss()).evaluate,
    )
    kept = {}
    original_save = trainer._end_epoch

    def end_epoch(*args):  # snapshot out/ after epoch 1 is complete
        original_save(*args)
        kept.update(snapshot(tmp_path))

    trainer._end_epoch = end_epoch
    with pytest.raises(TrainingDivergedError) as error:
        trainer.fit(train, valid, out=tmp_path)
    message = str(error.value)
    assert "epoch 2, step 14 (batch 4)" in message
    assert ("the loss is nan" if what == "loss" else "the gradient norm is") in message
    assert f"{tmp_path / 'last'} (end of epoch 1, step 10)" in message
    assert "smaller learning rate" in message and "clip_norm=1.0" in message
    after = snapshot(tmp_path)
    for name, data in kept.items():
        if name.name != "train.log":
            assert after[name] == data, name
    assert "diverged at epoch 2" in (tmp_path / "train.log").read_text()
    # the model in memory was not updated with the bad gradient either
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_empty_loader(tmp_path):
    model, optimizer = build()
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, TrainConfig(**QUIET))
    empty = DataLoader([], batch_size=4)
    with pytest.raises(EmptyLoaderError, match="training loader has no batches"):
        trainer.fit(empty, None, out=tmp_path)
    with pytest.raises(EmptyLoaderError, match="validation loader yields no batches"):
        trainer.fit(iter_only(loaders()[0]), iter_only([]), out=tmp_path)
    assert not (tmp_path / "last").exists()


def iter_only(iterable):
    class NoLength:
        def __iter__(self):
            return iter(iterable)

    return NoLength()


def test_batches_that_do_not_fit_the_model(tmp_path):
    model, optimizer = build()
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, TrainConfig(**QUIET))
    features = torch.randn(16, 5, 3, dtype=torch.float64)  # not token ids
    lengths, labels = torch.full((16,), 5), torch.zeros(16, dtype=torch.long)
    wrong = DataLoader(torch.utils.data.TensorDataset(features, lengths, labels), batch_size=4)
    with pytest.raises(BatchMismatchError) as error:
        trainer.fit(wrong, None, out=tmp_path)
    message = str(error.value)
    assert "first training batch does not fit" in message
    assert "[Tensor(4, 5, 3) float64, Tensor(4,) int64, Tensor(4,) int64]" in message
    assert "forward(x, lengths)" in message
    assert "Embedding(12, 8" in message and "integer ids in [0, 12)" in message
    assert not (tmp_path / "last").exists()


def test_checkpoint_of_another_model_is_refused_and_kept(tmp_path):
    fit(tmp_path, epochs=1)
    kept = snapshot(tmp_path)
    torch.manual_seed(0)
    other = Classifier(hidden=16).double()
    with pytest.raises(CheckpointMismatchError, match=r"rnn\.weight_hh_l0: checkpoint \[48, 12\]"):
        fit(tmp_path, epochs=2, model=other, optimizer=torch.optim.Adam(other.parameters()))
    assert snapshot(tmp_path) == kept


def test_unwritable_out_is_checked_before_training(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(OutputDirError, match="choose a writable out directory"):
        fit(blocker / "run")


def test_unknown_metric_and_config_errors(tmp_path):
    with pytest.raises(TrainConfigError, match="'f1' is not a validation metric"):
        _fit_metric(tmp_path, "f1")
    assert not (tmp_path / "last").exists()
    with pytest.raises(TrainConfigError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(TrainConfigError, match="clip_norm"):
        TrainConfig(clip_norm=float("nan"))
    model, optimizer = build()
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, TrainConfig(patience=2, **QUIET))
    with pytest.raises(TrainConfigError, match="need a valid_loader"):
        trainer.fit(loaders()[0], None, out=tmp_path)
    with pytest.raises(TrainConfigError, match="fp16"):
        Trainer(
            model, nn.CrossEntropyLoss(), optimizer, TrainConfig(precision="fp16", device="cpu")
        )


def _fit_metric(out, metric):
    model, optimizer = build()
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, TrainConfig(metric=metric, **QUIET))
    return trainer.fit(*loaders(), out=out)


class StoppingStep(SupervisedStep):
    """The default step, interrupted (KeyboardInterrupt) before training step ``at``."""

    def __init__(self, at=None):
        super().__init__(nn.CrossEntropyLoss())
        self.at, self.calls = at, 0

    def __call__(self, model, batch):
        if torch.is_grad_enabled():
            self.calls += 1
            if self.calls == self.at:
                raise KeyboardInterrupt
        return super().__call__(model, batch)


def test_mid_epoch_resume_with_a_plain_shuffling_loader_is_exact(tmp_path):
    """DataLoader(shuffle=True) has no position to set: the epoch is fast-forwarded."""

    def run(out, stop_at=None):
        model, optimizer = build()
        train = DataLoader(make_data(80, 1), batch_size=8, shuffle=True, collate_fn=Collate())
        config = TrainConfig(epochs=2, checkpoint_every=3, **QUIET)
        trainer = Trainer(model, None, optimizer, config, step=StoppingStep(stop_at))
        return model, trainer.fit(train, None, out=out)

    straight, history = run(tmp_path / "straight")
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "resumed", stop_at=15)  # after the checkpoint at step 12 (epoch 2)
    resumed, resumed_history = run(tmp_path / "resumed")
    assert all(
        torch.equal(a, b)
        for a, b in zip(straight.state_dict().values(), resumed.state_dict().values(), strict=True)
    )
    assert [r["train_loss"] for r in history.epochs] == [
        r["train_loss"] for r in resumed_history.epochs
    ]
