"""Language models on tiny data: stream batching, carried and detached state, exact resume,
sampling, the model directory, bad input and the ``seqlab lm`` commands."""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from seqlab.cli.main import main
from seqlab.tasks import lm_run, model_dir
from seqlab.tasks.lm import (
    HoldThenDecay,
    LanguageModel,
    LMConfig,
    LMInputError,
    StreamWindows,
    TrainedLM,
    TruncatedBPTT,
    config_for,
    loader,
    optimizer_and_schedule,
)
from seqlab.tasks.lm_data import LMDataError, load_text, tokenize
from seqlab.train import TrainConfig, Trainer

TINY = dict(embed_dim=8, hidden=12, layers=2, batch_size=3, bptt=5, epochs=1)


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    rng = np.random.default_rng(0)
    words = ["to", "be", "or", "not", "that", "is", "the", "question", "whether", "tis", "in"]
    lines = [" ".join(rng.choice(words, 7)) for _ in range(60)]
    path = tmp_path_factory.mktemp("text") / "tiny.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def tiny_model(vocab_size=11, cell="lstm", **kw):
    torch.manual_seed(0)
    return LanguageModel(vocab_size, LMConfig(cell=cell, **{**TINY, **kw}))


# --- stream batching ---


def test_windows_are_contiguous_across_batches():
    ids = np.arange(100)
    batches = list(loader(ids, batch_size=4, bptt=6))
    inputs = torch.cat([x for x, _ in batches], dim=1)
    targets = torch.cat([y for _, y in batches], dim=1)
    length = 99 // 4
    for s in range(4):  # row s of every batch continues row s of the batch before
        assert inputs[s].tolist() == list(range(s * length, (s + 1) * length))
        assert targets[s].tolist() == list(range(s * length + 1, (s + 1) * length + 1))
    assert [tuple(x.shape) for x, _ in batches] == [(4, 6)] * 4


def test_last_window_is_shorter_and_nothing_but_the_tail_is_dropped():
    windows = StreamWindows(np.arange(60), streams=4, bptt=6)  # streams of 59 // 4 = 14 steps
    shapes = [tuple(x.shape) for x, _ in loader(np.arange(60), 4, 6)]
    assert shapes == [(4, 6), (4, 6), (4, 2)]
    assert windows.tokens == 56  # 3 of the 59 targets dropped: fewer than one per stream


def test_too_little_text_for_the_streams_is_refused():
    with pytest.raises(LMDataError, match="streams"):
        StreamWindows(np.arange(4), streams=4, bptt=2)


def test_stream_batches_shard_by_stream_under_torchrun():
    """With 2 ranks, each rank gets the same 2 of the 4 streams at every window."""
    windows = StreamWindows(np.arange(41), streams=4, bptt=5)
    from seqlab.train import ResumableBatchSampler

    for rank in (0, 1):
        sampler = ResumableBatchSampler(len(windows), 2, shuffle=False, num_replicas=2, rank=rank)
        streams = [[i % 4 for i in batch] for batch in sampler]
        assert streams == [[rank, rank + 2]] * windows.windows


# --- carried and detached state ---


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_state_is_carried_from_window_to_window(cell):
    model = tiny_model(cell=cell, dropout=0.0).eval()
    ids = torch.randint(0, 11, (3, 10))
    step = TruncatedBPTT()
    whole, _ = model(ids)
    step(model, (ids[:, :5], ids[:, 1:6]))
    loss2, n = step(model, (ids[:, 5:], ids[:, 5:]))
    expected = torch.nn.functional.cross_entropy(whole[:, 5:].flatten(0, 1), ids[:, 5:].flatten())
    assert n == 15 and torch.allclose(loss2, expected, atol=1e-6)
    step.reset()
    assert step.state is None


def test_state_is_detached_no_graph_through_earlier_windows():
    model = tiny_model(dropout=0.0)
    step = TruncatedBPTT()
    ids = torch.randint(0, 11, (3, 15))
    loss1, _ = step(model, (ids[:, :5], ids[:, 1:6]))
    loss1.backward()  # frees window 1's graph
    assert all(s.grad_fn is None and not s.requires_grad for s in step.state)
    carried = tuple(s.clone() for s in step.state)
    model.zero_grad()
    loss2, _ = step(model, (ids[:, 5:10], ids[:, 6:11]))
    loss2.backward()  # would fail ("backward through the graph a second time") without detach
    got = [p.grad.clone() for p in model.parameters()]
    # the same gradient as window 2 run from a constant initial state
    model.zero_grad()
    logits, _ = model(ids[:, 5:10], carried)
    torch.nn.functional.cross_entropy(logits.flatten(0, 1), ids[:, 6:11].flatten()).backward()
    for g, p in zip(got, model.parameters(), strict=True):
        assert torch.allclose(g, p.grad, atol=1e-6)


def test_evaluation_keeps_its_own_state():
    model = tiny_model().eval()
    step = TruncatedBPTT()
    ids = torch.randint(0, 11, (3, 5))
    step(model, (ids, ids))
    train_state = tuple(s.clone() for s in step.state)
    with torch.no_grad():
        step.evaluate(model, (ids, ids))
    assert all(torch.equal(a, b) for a, b in zip(train_state, step.state, strict=True))


def test_step_state_round_trips():
    model = tiny_model()
    step = TruncatedBPTT()
    assert step.state_dict() == {}
    step(model, (torch.randint(0, 11, (3, 5)),) * 2)
    other = TruncatedBPTT()
    other.load_state_dict(step.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(step.state, other.state, strict=True))


class Crash(TruncatedBPTT):
    """Raises at the n-th training step (after the Trainer checkpointed the step before)."""

    def __init__(self, at):
        super().__init__()
        self.at, self.calls = at, 0

    def __call__(self, model, batch):
        if torch.is_grad_enabled():
            self.calls += 1
            if self.calls == self.at:
                raise RuntimeError("killed")
        return super().__call__(model, batch)


def _fit(out, step, epochs=2):
    torch.manual_seed(0)
    model = LanguageModel(11, LMConfig(**{**TINY, "dropout": 0.3}))
    optimizer, scheduler = optimizer_and_schedule(model, LMConfig(**TINY, optimizer="sgd", lr=0.5))
    cfg = TrainConfig(epochs=epochs, quiet=True, curves=False, checkpoint_every=3, device="cpu")
    trainer = Trainer(
        model,
        optimizer=optimizer,
        config=cfg,
        scheduler=scheduler,
        step=step,
        evaluate=step.evaluate,
    )
    ids = np.random.default_rng(1).integers(0, 11, 200)
    trainer.fit(loader(ids, 3, 5), loader(ids[:60], 3, 5), out=out)
    return model


def test_resume_inside_an_epoch_is_exact_with_the_carried_state(tmp_path):
    straight = _fit(tmp_path / "a", TruncatedBPTT())
    with pytest.raises(RuntimeError, match="killed"):
        _fit(tmp_path / "b", Crash(at=20))  # checkpoint at step 18, inside epoch 2 (13 steps each)
    resumed = _fit(tmp_path / "b", TruncatedBPTT())
    for a, b in zip(straight.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b)


def test_zaremba_schedule():
    factors = [HoldThenDecay(4, 0.5)(e) for e in range(13)]
    assert factors[:4] == [1.0] * 4 and factors[4:7] == [0.5, 0.25, 0.125]
    cfg = config_for("word")
    assert (cfg.hidden, cfg.layers, cfg.bptt, cfg.batch_size, cfg.epochs) == (200, 2, 20, 20, 13)
    # Zaremba's lr 1 and clip 5 on a loss summed over T = 20 steps, for our mean over tokens
    assert (cfg.optimizer, cfg.lr, cfg.clip, cfg.decay_after) == ("sgd", 20.0, 0.25, 4)


def test_weight_tying():
    model = tiny_model(embed_dim=12, tie_weights=True)
    assert model.decoder.weight is model.embedding.weight
    with pytest.raises(LMInputError, match="embed_dim == hidden"):
        LMConfig(embed_dim=8, hidden=12, tie_weights=True)


# --- data ---


def test_word_tokens_end_lines_with_eos_and_unknown_words_map_to_unk(text_file):
    data = load_text(text_file, "word", max_vocab=6)
    assert tokenize("a b\nc", "word") == ["a", "b", "<eos>", "c", "<eos>"]
    assert len(data.vocab) == 6 and data.vocab.unk_id is not None
    assert sum(len(s) for s in data.splits.values()) == 60 * 8


@pytest.mark.parametrize("content", ["", "a", "ab" * 5])
def test_empty_or_tiny_text_is_refused(tmp_path, content):
    path = tmp_path / "t.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LMDataError, match="too short"):
        load_text(path, "char")


def test_non_utf8_and_missing_text(tmp_path):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("café ".encode("latin-1") * 50)
    with pytest.raises(LMDataError, match="not UTF-8"):
        load_text(bad)
    with pytest.raises(LMDataError, match="does not exist"):
        load_text(tmp_path / "nope.txt")


# --- a trained model: scoring, generation, directory ---


@pytest.fixture(scope="module")
def trained(text_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("lm") / "run"
    lm, summary = lm_run.train(
        load_text(text_file, "char"), config_for("char", **TINY), out, quiet=True
    )
    return lm, summary, out


def test_training_reports_valid_and_test_bits_per_char(trained):
    _, summary, _ = trained
    for split in ("valid", "test"):
        m = summary[split]
        assert np.isclose(m["bits_per_char"], m["nats_per_token"] / np.log(2))
        assert np.isclose(m["perplexity"], np.exp(m["nats_per_token"]))


def test_step_by_step_decoding_equals_running_the_whole_prefix(trained):
    lm, _, _ = trained
    ids, _ = lm.encode_prompt("to be ")
    text = "".join(lm.generate(ids, 10, temperature=0))
    full = ids + [lm.vocab.stoi[c] for c in text]
    with torch.no_grad():
        logits, _ = lm.model(torch.tensor([full[:-1]]))
    assert logits[0, len(ids) - 1 :].argmax(-1).tolist() == full[len(ids) :]


def test_same_seed_same_text(trained):
    lm, _, _ = trained
    ids, _ = lm.encode_prompt("the ")
    a = "".join(lm.generate(ids, 40, 1.0, seed=7))
    assert a == "".join(lm.generate(ids, 40, 1.0, seed=7))
    assert a != "".join(lm.generate(ids, 40, 1.0, seed=8))
    assert "".join(lm.generate(ids, 0)) == ""
    with pytest.raises(LMInputError, match="tokens"):
        list(lm.generate(ids, -1))


def test_unseen_prompt_characters_are_named_and_left_out(trained):
    lm, _, _ = trained
    ids, unknown = lm.encode_prompt("tö bé")
    assert unknown == ["ö", "é"]
    assert lm.vocab.decode(ids) == list("\nt b")  # read from a line end
    ids, unknown = lm.encode_prompt("ÆØÅ")  # nothing left: the line end alone
    assert lm.vocab.decode(ids) == ["\n"]
    assert lm.vocab.decode(lm.encode_prompt("\nto")[0]) == list("\nto")  # not doubled


def test_model_directory_round_trip(trained):
    lm, _, out = trained
    loaded = TrainedLM.load(out)
    ids = torch.randint(0, len(lm.vocab), (2, 9))
    with torch.no_grad():
        assert torch.equal(lm.model.eval()(ids)[0], loaded.model(ids)[0])
    assert loaded.vocab.itos == lm.vocab.itos and loaded.config == lm.config
    assert "".join(loaded.generate([1], 20, seed=3)) == "".join(lm.generate([1], 20, seed=3))


def test_tied_word_model_round_trip(text_file, tmp_path):
    data = load_text(text_file, "word")
    config = config_for("word", **{**TINY, "embed_dim": 12, "tie_weights": True})
    lm, _ = lm_run.train(data, config, tmp_path / "w", quiet=True)
    loaded = TrainedLM.load(tmp_path / "w")
    assert loaded.model.decoder.weight is loaded.model.embedding.weight
    ids = torch.randint(0, len(lm.vocab), (2, 9))
    with torch.no_grad():
        assert torch.equal(lm.model.eval()(ids)[0], loaded.model(ids)[0])
    ids, unknown = loaded.encode_prompt("to be zebra")
    assert unknown == ["zebra"] and loaded.vocab.decode(ids)[-1] == "<unk>"
    text = "".join(loaded.generate(ids, 30, seed=0))
    assert text.startswith(" ") or text.startswith("\n")


def test_directory_of_another_task_is_refused(trained, tmp_path):
    lm, _, _ = trained
    other = model_dir.save(tmp_path / "cls", "classify", {}, lm.model.state_dict(), lm.vocab)
    with pytest.raises(model_dir.ModelDirError, match="classify"):
        TrainedLM.load(other)


def test_resume_with_other_settings_is_refused(trained, text_file):
    _, _, out = trained
    data = load_text(text_file, "char")
    with pytest.raises(LMInputError, match="hidden"):
        lm_run.train(data, config_for("char", **{**TINY, "hidden": 16}), out, quiet=True)


# --- the commands ---


def test_cli_train_eval_sample(text_file, tmp_path):
    runner = CliRunner()
    out = tmp_path / "m"
    args = ["lm", "train", "--text", str(text_file), "--out", str(out), "--quiet"]
    args += ["--embed-dim", "8", "--hidden", "12", "--batch-size", "3", "--bptt", "5"]
    result = runner.invoke(main, [*args, "--epochs", "1"])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output and "bits" in result.output
    again = runner.invoke(main, [*args, "--epochs", "2"])  # resumes and trains one more epoch
    assert again.exit_code == 0, again.output and "2 epochs" in again.output
    assert json.loads((out / "training" / "history.json").read_text())["epochs"][-1]["epoch"] == 2

    result = runner.invoke(
        main, ["lm", "eval", str(out), "--split", "test", "--json", str(tmp_path / "m.json")]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["split"] == "test" and metrics["bits_per_char"] > 0

    sample = ["lm", "sample", str(out), "--prompt", "to bé", "--tokens", "30", "--seed", "4"]
    first, second = runner.invoke(main, sample), runner.invoke(main, sample)
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout and first.stdout.startswith("to bé")
    assert "never saw" in first.stderr and "'é'" in first.stderr

    greedy = runner.invoke(main, ["lm", "sample", str(out), "--temperature", "0", "--tokens", "20"])
    assert greedy.exit_code == 0 and "seed" in greedy.stderr
    again = runner.invoke(main, ["lm", "sample", str(out), "--temperature", "0", "--tokens", "20"])
    assert greedy.stdout == again.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tokens", "-5"], "negative"),
        (["--temperature", "-1"], "temperature"),
        (["--top-p", "0"], "top-p"),
        (["--top-k", "0"], "top-k"),
    ],
)
def test_cli_bad_sampling_options(trained, args, message):
    _, _, out = trained
    result = CliRunner().invoke(main, ["lm", "sample", str(out), *args])
    assert result.exit_code == 2 and message in result.output


def test_cli_bad_training_input(tmp_path):
    runner = CliRunner()
    one = tmp_path / "one.txt"
    one.write_text("x", encoding="utf-8")
    result = runner.invoke(main, ["lm", "train", "--text", str(one), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "too short" in result.output
    result = runner.invoke(main, ["lm", "train", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "DATASET" in result.output
    result = runner.invoke(main, ["lm", "eval", str(tmp_path / "missing")])
    assert result.exit_code == 1 and "does not exist" in result.output
