"""The language model's demo section and the truncation experiment, on their quick sizes."""

import math

import torch

from seqlab import lab
from seqlab.lab import bptt_truncation, demo_lm
from seqlab.lab.demo import DemoSettings
from seqlab.lab.report import Report
from seqlab.tasks.lm import LanguageModel, LMConfig


def test_demo_section_trains_scores_and_samples(mirror, tmp_path):
    report = Report("demo")
    lines = []
    figures = demo_lm.section(report, DemoSettings(out=tmp_path, quick=True), lines.append)
    assert figures["sample"].startswith(demo_lm.PROMPT)
    assert len(figures["sample"]) == len(demo_lm.PROMPT) + demo_lm.SAMPLE_TOKENS
    nats = figures["valid"]["nats_per_token"]
    assert math.isfinite(nats) and nats < math.log(65)  # learned something past uniform
    assert (tmp_path / "lm" / "model.safetensors").is_file()
    page = report.sections[-1].render()
    assert "ROMEO:" in page and "nats / char" in page


def test_demo_section_is_skipped_without_the_dataset(monkeypatch, tmp_path):
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path / "nothing"))
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "cache"))
    figures = demo_lm.section(Report("demo"), DemoSettings(out=tmp_path, quick=True), print)
    assert "skipped" in figures


class Given(torch.nn.Module):
    """An embedding that returns a fixed leaf tensor, to read gradients per input step."""

    def __init__(self, x):
        super().__init__()
        self.x = x

    def forward(self, ids):
        return self.x


def test_truncation_cuts_the_gradient_at_k_steps():
    torch.manual_seed(0)
    config = LMConfig(level="word", embed_dim=4, hidden=4, layers=1, dropout=0.0, batch_size=1)
    model = LanguageModel(7, config)
    x = torch.randn(1, 6, 4, requires_grad=True)
    targets = torch.randint(0, 7, (1, 6))
    model.embedding = Given(x)
    loss, state = bptt_truncation.chunked_loss(model, None, targets, None, k=3)
    (grad,) = torch.autograd.grad(loss, x)
    # step 0 gets the gradient of steps 0-2 (its chunk) only: the same as from a loss that
    # stops at step 2
    logits, _ = model.rnn(x[:, :3])
    first = torch.nn.functional.cross_entropy(
        model.decoder(logits).flatten(0, 1), targets[:, :3].flatten(), reduction="sum"
    )
    (reference,) = torch.autograd.grad(first / 6, x)
    torch.testing.assert_close(grad[:, 0], reference[:, 0])
    full, _ = bptt_truncation.chunked_loss(model, None, targets, None, k=6)
    (untruncated,) = torch.autograd.grad(full, x)
    assert not torch.allclose(untruncated[:, 0], grad[:, 0])  # k = 6 reaches further
    assert not any(s.requires_grad for s in state)  # the carried state is detached


def test_bptt_truncation_quick(mirror, tmp_path):
    result = lab.run("bptt-truncation", tmp_path, quick=True)
    numbers = result["numbers"]
    assert set(numbers["perplexity"]) == {"rnn", "lstm"}
    for by_k in numbers["perplexity"].values():
        assert [int(k) for k in by_k] == list(bptt_truncation.TRUNCATIONS)
        assert all(math.isfinite(p) and 1 < p < numbers["vocab"] for p in by_k.values())
    assert result["finding"] == bptt_truncation.finding(
        {c: {int(k): p for k, p in v.items()} for c, v in numbers["perplexity"].items()}
    )
    assert (tmp_path / "bptt-truncation.png").is_file()
