"""Ensembles of classifiers and the leak-free SST validation carve, on tiny data."""

from __future__ import annotations

import random

import numpy as np
import pytest
from click.testing import CliRunner

from seqlab.cli.main import main
from seqlab.tasks.classify import (
    Classifier,
    ClassifierConfig,
    RunMismatchError,
    combine,
    train_run,
)
from seqlab.tasks.classify_data import Tokenizer, carve_sentences
from seqlab.tasks.classify_ensemble import Ensemble, member_dir
from seqlab.tasks.explain import attribute

from .test_classify import TINY, sentiment_rows, tiny_data


@pytest.fixture(scope="module")
def trained_ensemble(tmp_path_factory):
    out = tmp_path_factory.mktemp("ensemble")
    config = {**TINY, "epochs": 3, "ensemble": 3}
    clf, summary = train_run(tiny_data(), out, config, level="word", quiet=True)
    return out, clf, summary


def test_ensemble_probabilities_are_the_mean_of_its_members(trained_ensemble):
    out, clf, summary = trained_ensemble
    members = [Classifier.load(member_dir(out, i)) for i in range(3)]
    assert [m.config.seed for m in members] == [0, 1, 2]
    texts = ["a good film", "the plot was dull", "awful and great"]
    mean = np.mean([m.probabilities(texts) for m in members], axis=0)
    np.testing.assert_allclose(clf.probabilities(texts), mean, rtol=1e-5, atol=1e-6)
    assert len(summary["members_valid_accuracy"]) == 3 and summary["valid_accuracy"] > 0.9


def test_ensemble_round_trip_predicts_and_explains_like_one_model(trained_ensemble):
    out, clf, _ = trained_ensemble
    loaded = Classifier.load(out)
    assert isinstance(loaded.model, Ensemble) and loaded.config.ensemble == 3
    texts = ["a superb movie", "this was bad"]
    np.testing.assert_allclose(loaded.probabilities(texts), clf.probabilities(texts), atol=1e-6)
    assert [p.label for p in loaded.predict(texts)] == ["positive", "negative"]
    attr = attribute(loaded, "the plot was superb")
    assert attr.tokens[int(np.argmax(attr.scores))] == "superb"


def test_explained_ensemble_averages_its_members_attributions(trained_ensemble):
    """Gradient × input over the members' embeddings side by side is the mean of the members'
    own attributions (each for its logit of the ensemble's predicted class)."""
    out, clf, _ = trained_ensemble
    members = [Classifier.load(member_dir(out, i)) for i in range(3)]
    text = "the film was great"
    explained = attribute(clf, text)
    target = clf.labels.index(explained.label)
    expected = np.mean([attribute(m, text, explained.label).scores for m in members], axis=0)
    np.testing.assert_allclose(explained.scores, expected, rtol=1e-4, atol=1e-6)
    mean = np.mean([m.probabilities([text])[0, target] for m in members])
    assert explained.probability == pytest.approx(mean, rel=1e-5)
    assert np.abs(explained.scores).max() > 0.1  # not flattened by a confident probability


def test_ensemble_resumes_and_grows_without_retraining(trained_ensemble, tmp_path):
    out, _clf, _ = trained_ensemble
    first = (member_dir(out, 0) / "model.safetensors").read_bytes()
    history = (member_dir(out, 0) / "training" / "history.json").read_text()
    _bigger, summary = train_run(
        tiny_data(), out, {**TINY, "epochs": 3, "ensemble": 4}, level="word", quiet=True
    )
    assert (member_dir(out, 0) / "model.safetensors").read_bytes() == first
    assert (member_dir(out, 0) / "training" / "history.json").read_text() == history
    assert len(summary["members_valid_accuracy"]) == 4
    assert Classifier.load(out).config.ensemble == 4
    with pytest.raises(RunMismatchError, match="hidden"):
        train_run(tiny_data(), out, {**TINY, "hidden": 8, "ensemble": 4}, level="word")


def test_members_of_different_vocabularies_are_refused(trained_ensemble, tmp_path):
    out, _clf, _ = trained_ensemble
    other = Classifier.untrained(["another text"], ["negative", "positive"], ClassifierConfig())
    with pytest.raises(ValueError, match="vocabulary"):
        combine([Classifier.load(member_dir(out, 0)), other])
    with pytest.raises(ValueError, match="ensemble"):
        ClassifierConfig(ensemble=0)


def test_damaged_ensemble_directory_is_refused(trained_ensemble, tmp_path):
    out, _, _ = trained_ensemble
    result = CliRunner().invoke(main, ["classify", "predict", str(out / "members"), "good"])
    assert result.exit_code == 1 and "not a seqlab model directory" in result.output


def test_cli_trains_an_ensemble(tmp_path):
    for name, seed, n in (("train", 0, 160), ("valid", 1, 40)):
        rows = sentiment_rows(n, seed)
        text = "".join(f"{t}\t{'pos' if y else 'neg'}\n" for t, y in rows)
        (tmp_path / f"{name}.tsv").write_text(text, encoding="utf-8")
    out = tmp_path / "model"
    args = ["classify", "train", "--train-file", str(tmp_path / "train.tsv")]
    args += ["--valid-file", str(tmp_path / "valid.tsv"), "--embed-dim", "8", "--hidden", "8"]
    args += ["--lr", "0.02", "--epochs", "2", "--ensemble", "2", "--out", str(out), "--quiet"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "mean of 2 models" in result.output
    result = CliRunner().invoke(main, ["classify", "predict", str(out), "a good film", "--explain"])
    assert result.exit_code == 0 and "good[" in result.output
    result = CliRunner().invoke(main, ["classify", "eval", str(out), "--split", "valid"])
    assert result.exit_code == 0, result.output


# --- the carve of whole sentences out of a treebank's phrases ---


def treebank(n_sentences: int, seed: int) -> list[tuple[str, int]]:
    """Sentences with their labelled sub-phrases, as GLUE's SST-2 train lists them."""
    rng = random.Random(seed)
    rows = []
    for text, label in sentiment_rows(n_sentences, seed):
        words = [*text.split(), f"w{rng.randrange(10_000)}"]  # a word of this sentence only
        rows.append((" ".join(words), label))
        for _ in range(4):
            start = rng.randrange(len(words))
            end = rng.randrange(start + 1, len(words) + 1)
            rows.append((" ".join(words[start:end]), label))
    return rows


def test_sst_carve_validates_on_whole_sentences_without_their_parts():
    rows = treebank(300, 0)
    train, valid = carve_sentences(rows, 0.1)
    assert 25 <= len(valid) <= 35
    assert carve_sentences(rows, 0.1) == (train, valid)  # deterministic
    texts = [t for t, _ in rows]
    for sentence, _ in valid:  # a whole sentence: no other phrase contains it
        assert not any(sentence != t and f" {sentence} " in f" {t} " for t in texts)
    kept = {t for t, _ in train}
    training_sentences = [t for t in kept if not any(t != u and f" {t} " in f" {u} " for u in kept)]
    for phrase in kept:  # every training phrase occurs inside a training sentence
        assert any(f" {phrase} " in f" {s} " for s in training_sentences)
    assert not kept & {s for s, _ in valid}
    dropped = len(rows) - len(train) - len(valid)
    assert dropped > 0


def test_sst_carve_keeps_phrases_shared_with_training_sentences():
    rows = [("a good film", 1), ("good", 1), ("a good plot", 1), ("good plot", 1)]
    rows += [(f"bad thing {i}", 0) for i in range(4)]
    train, valid = carve_sentences(rows, 0.5)
    valid_texts = {t for t, _ in valid}
    assert "good" in {t for t, _ in train}  # in a training sentence as well
    if "a good plot" in valid_texts:
        assert "good plot" not in {t for t, _ in train}
    assert Tokenizer()(valid[0][0])
