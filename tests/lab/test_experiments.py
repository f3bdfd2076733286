"""Each experiment in quick mode: it saves its PNG and JSON, and its numbers bear out the
lecture's claims where they are stable at this size."""

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seqlab import lab
from seqlab.lab import long_range

from .findings import assert_finding_follows_the_table


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
    assert_finding_follows_the_table(result)


RATIOS = st.fixed_dictionaries(
    {T: st.sampled_from([0.01, 0.3, 0.5, 0.8, 1.0, 1.3]) for T in (10, 30, 50, 100)}
)


@given(
    adding=st.fixed_dictionaries({c: RATIOS for c in long_range.CELLS}),
    copy=st.fixed_dictionaries({c: RATIOS for c in long_range.CELLS}),
)
def test_long_range_text_never_contradicts_the_numbers(adding, copy):
    text = long_range.finding({"adding": adding, "copy": copy})
    learned = {c: [T for T, r in by_T.items() if r < 0.5] for c, by_T in adding.items()}
    longest = {c: max(ts, default=0) for c, ts in learned.items()}
    ahead = {c for c in ("lstm", "gru") if longest[c] > longest["rnn-tanh"]}
    for cell, ts in learned.items():
        assert f"by {cell} at {'T = ' + ', '.join(map(str, ts)) if ts else 'no T'}" in text
    assert ("Both gated cells learn longer" in text) == (ahead == {"lstm", "gru"})
    for cell in ("lstm", "gru"):
        if any(longest.values()):
            says_ahead = f"The {cell} learns a longer" in text or "Both gated" in text
            assert says_ahead == (cell in ahead)
    any_worse = any(r >= 1.0 for by_T in adding.values() for r in by_T.values())
    assert ("No better than the trivial baseline" in text) == any_worse
    copy_learned = any(r < 0.5 for by_T in copy.values() for r in by_T.values())
    assert ("no cell gets below half its baseline" in text) == (not copy_learned)


def test_experiment_text_is_the_checks_when_not_given():
    from seqlab.lab.experiment import checks_finding

    assert checks_finding({"a": True, "b": True, "c": True}) == "All 3 checks hold in this run."
    assert checks_finding({"a": True, "b": False}) == "1 of 2 checks hold in this run; not: b."


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
