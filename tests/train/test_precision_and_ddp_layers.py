"""seqlab.nn layers under autocast and inside DistributedDataParallel (float32, the fast path)."""

import os
import socket

import pytest
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from seqlab.nn import GRU, LSTM, LSTMCell
from seqlab.train import TrainConfig, Trainer
from train.tiny_task import Classifier, loaders


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_layers_run_forward_and_backward_under_cpu_bf16_autocast(cls):
    torch.manual_seed(0)
    project, rnn = nn.Linear(6, 6), cls(6, 10, batch_first=True)
    x, lengths = torch.randn(3, 5, 6), torch.tensor([5, 3, 2])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h = project(x)
        assert h.dtype == torch.bfloat16  # the layer gets a bf16 input ...
        out, _ = rnn(h, lengths=lengths)
    assert out.dtype == torch.float32  # ... and runs in its parameters' precision
    out.sum().backward()
    for p in [*rnn.parameters(), *project.parameters()]:
        assert p.grad is not None and torch.isfinite(p.grad).all()
    reference, _ = rnn(h.detach().float(), lengths=lengths)  # the same, outside autocast
    torch.testing.assert_close(out, reference)


def test_cell_runs_under_cpu_bf16_autocast():
    cell = LSTMCell(4, 6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h, c = cell(nn.Linear(4, 4)(torch.randn(2, 4)))
    assert h.dtype == c.dtype == torch.float32


def test_trainer_with_bf16_autocast_on_the_cpu(tmp_path):
    torch.manual_seed(0)
    model = Classifier(dropout=0.0)  # float32
    config = TrainConfig(epochs=1, precision="bf16", metric="accuracy", quiet=True, curves=False)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, config)
    assert trainer.precision == "bf16" and not trainer.scaler.is_enabled()
    record = trainer.fit(*loaders(), out=tmp_path).epochs[0]
    assert record["train_loss"] < 0.75 and record["valid_accuracy"] > 0


def test_gru_inside_distributed_data_parallel_matches_the_plain_module(tmp_path):
    """One gloo process: DDP's gradient hooks around the hand-written backward."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=0, world_size=1)
    try:
        torch.manual_seed(0)
        plain = Classifier("gru", dropout=0.0)
        wrapped = DistributedDataParallel(Classifier("gru", dropout=0.0))
        wrapped.module.load_state_dict(plain.state_dict())
        x, lengths, y = next(iter(loaders()[0]))
        for model in (plain, wrapped):
            nn.functional.cross_entropy(model(x, lengths), y).backward()
        for (name, p), q in zip(plain.named_parameters(), wrapped.module.parameters(), strict=True):
            torch.testing.assert_close(p.grad, q.grad, msg=name)
    finally:
        dist.destroy_process_group()


@pytest.mark.gpu
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_cuda_mixed_precision_trains_and_resumes(tmp_path, precision):
    torch.manual_seed(0)
    model = Classifier(dropout=0.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    config = TrainConfig(epochs=2, precision=precision, metric="accuracy", quiet=True)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, config)
    assert trainer.world.device.type == "cuda"
    assert trainer.scaler.is_enabled() == (precision == "fp16")
    history = trainer.fit(*loaders(), out=tmp_path)
    assert all(r["train_loss"] < 0.8 for r in history.epochs)
    more = TrainConfig(epochs=3, precision=precision, metric="accuracy", quiet=True)
    model2 = Classifier(dropout=0.0)
    resumed = Trainer(model2, nn.CrossEntropyLoss(), torch.optim.Adam(model2.parameters()), more)
    assert len(resumed.fit(*loaders(), out=tmp_path).epochs) == 3
