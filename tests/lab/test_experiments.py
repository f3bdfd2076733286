"""Each experiment in quick mode: it saves its PNG and JSON, and its numbers bear out the
lecture's claims where they are stable at this size."""

import json
from pathlib import Path

import pytest

from seqlab import lab


def load_saved(result):
    saved = json.loads(Path(result["json"]).read_text(encoding="utf-8"))
    assert saved["name"] == result["name"]
    assert Path(result["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return saved


def test_unknown_experiment_names_the_known_ones(tmp_path):
    with pytest.raises(lab.UnknownExperimentError, match="gradient-flow"):
        lab.run("no-such-thing", tmp_path)


def test_relu_explosion(tmp_path):
    result = lab.run("relu-explosion", tmp_path, quick=True)
    saved = load_saved(result)
    final = saved["numbers"]["final_norm"]["2.0"]
    assert final["relu"] > 1e3 * final["tanh"]  # the ReLU state blows up
    bound = saved["numbers"]["hidden_size"] ** 0.5
    for gain in saved["numbers"]["final_norm"].values():
        assert gain["tanh"] <= bound and gain["sigmoid"] <= bound
    assert all(saved["checks"].values())


def test_gradient_flow(tmp_path):
    result = lab.run("gradient-flow", tmp_path, quick=True)
    init = load_saved(result)["numbers"]["relative_init"]
    assert set(init) == {"rnn-sigmoid", "rnn-tanh", "rnn-relu", "lstm", "gru"}
    assert init["rnn-tanh"][0] == pytest.approx(1.0)
    assert init["rnn-sigmoid"][20] < init["rnn-tanh"][20] < 1e-2  # vanishing, sigmoid worst
    assert init["lstm"][30] > init["rnn-tanh"][30]  # the cell path keeps the gradient alive


def test_feedforward_vs_rnn(tmp_path):
    result = lab.run("feedforward-vs-rnn", tmp_path, quick=True)
    acc = load_saved(result)["numbers"]["accuracy"]
    assert acc["MLP"]["4"] is None and acc["MLP"]["20"] > 0.9  # one length only
    assert acc["CNN"]["4"] > 0.9 and acc["CNN"]["20"] < 0.5  # blind past its field
    assert min(acc["RNN"].values()) > 0.9  # every length


@pytest.mark.slow
def test_long_range_quick_lstm_or_gru_beat_rnn_on_adding(tmp_path):
    result = lab.run("long-range", tmp_path, quick=True)
    numbers = load_saved(result)["numbers"]
    assert numbers["baseline"]["adding"]["10"] == pytest.approx(1 / 6)
    assert numbers["baseline"]["copy"]["30"] == pytest.approx(10 * 2.0794415 / 50)
    adding = numbers["results"]["adding"]["30"]
    assert min(adding["lstm"]["error"], adding["gru"]["error"]) < 0.5 / 6
    assert adding["rnn-tanh"]["error"] > 0.5 / 6


@pytest.mark.slow
def test_lstm_beats_the_adding_baseline_at_T50_with_default_settings():
    from seqlab.lab.experiment import reproducible
    from seqlab.lab.long_range import SETTINGS, train_and_test
    from seqlab.lab.tasks import ADDING_BASELINE_MSE

    with reproducible(0):
        result = train_and_test("adding", "lstm", 50, SETTINGS[False], seed=0)
    assert result["error"] < 0.5 * ADDING_BASELINE_MSE


def test_cli_runs_an_experiment_into_out(tmp_path):
    from click.testing import CliRunner

    from seqlab.cli.main import main

    result = CliRunner().invoke(main, ["lab", "relu-explosion", "--quick", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "‖h_T‖ relu" in result.output
    assert (tmp_path / "relu-explosion.png").is_file()
    assert (tmp_path / "relu-explosion.json").is_file()


def test_no_corpus_is_a_clear_error(tmp_path, monkeypatch):
    from seqlab.lab.vectors import NoCorpusError, best_corpus

    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path / "no-mirror"))
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "no-cache"))
    with pytest.raises(NoCorpusError, match="SEQLAB_DATA"):
        best_corpus()
