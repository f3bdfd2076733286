"""Pretrained-vector recipes, the imdb-length experiment and the demo section, on tiny data."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from seqlab.cli.main import main
from seqlab.embeddings import FastTextKeyedVectors, recipes
from seqlab.embeddings.fasttext import ngram_buckets
from seqlab.lab import demo_classify, imdb_length
from seqlab.lab.demo import DemoSettings
from seqlab.lab.report import Report
from seqlab.tasks.classify import Classifier, ClassifierConfig
from seqlab.tasks.classify_data import ClassificationData

TINY = dict(embed_dim=16, hidden=16, batch_size=16, lr=0.02, epochs=6, patience=None)


def tiny_data() -> ClassificationData:
    """Filler words around one sentiment word, which gives the label."""
    rng = np.random.default_rng(0)
    filler = ["the", "a", "film", "plot", "was", "is", "and", "it"]
    words = (["bad", "awful", "dull"], ["good", "great", "superb"])
    rows = []
    for i in range(384):
        label = i % 2
        text = [*rng.choice(filler, rng.integers(2, 7)), rng.choice(words[label])]
        rows.append((" ".join(rng.permutation(text)), label))
    return ClassificationData(
        "tiny", ("negative", "positive"), rows[:256], rows[256:320], rows[320:], source={}
    )


@pytest.fixture
def cached_recipe(tmp_path, monkeypatch):
    """A tiny fastText model standing in for the built enwiki-fasttext vectors."""
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "cache"))
    recipes.load_vectors.cache_clear()
    words = ["good", "great", "bad", "film"]
    rng = np.random.default_rng(0)
    ft = FastTextKeyedVectors(
        words,
        rng.normal(size=(4, 8)).astype(np.float32),
        ngram_vectors=rng.normal(size=(3, 8)).astype(np.float32),
        ngram_buckets=np.sort(np.concatenate([ngram_buckets("awful", 3, 6, 2_000_000)[:2], [7]])),
    )
    path = recipes.recipe_path("enwiki-fasttext")
    path.parent.mkdir(parents=True)
    ft.save(path, format="seqlab")
    yield ft
    recipes.load_vectors.cache_clear()


def test_recipe_vectors_cover_unseen_words_through_ngrams(cached_recipe):
    kv, from_ngrams = recipes.vectors_for_words(["good", "awful", "zzzz"], cached_recipe)
    assert kv.index_to_key == ["good", "awful"]  # awful: from its n-grams; zzzz: none
    assert from_ngrams == 1
    np.testing.assert_allclose(kv["good"], cached_recipe["good"])


def test_classifier_starts_from_recipe_vectors(cached_recipe, capsys):
    data = tiny_data()
    config = ClassifierConfig(**{**TINY, "vectors": "enwiki-fasttext"})
    clf = Classifier.untrained([t for t, _ in data.train], data.labels, config)
    assert "pretrained vectors cover" in capsys.readouterr().out
    row = clf.model.embedding.weight[clf.vocab.stoi["good"]].detach().numpy()
    np.testing.assert_allclose(row, cached_recipe["good"], rtol=1e-6)
    assert clf.model.embedding.embedding_dim == 8  # the vectors' size, not embed_dim


def test_missing_recipe_names_the_command_that_builds_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path))
    recipes.load_vectors.cache_clear()
    train = tmp_path / "t.tsv"
    train.write_text("".join(f"{t}\t{y}\n" for t, y in tiny_data().train), encoding="utf-8")
    args = ["classify", "train", "--train-file", str(train), "--vectors", "enwiki-fasttext"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "m")])
    assert result.exit_code != 0
    assert "seqlab classify vectors enwiki-fasttext" in result.output


def test_vectors_option_refuses_unknown_names(tmp_path):
    args = ["classify", "train", "mr", "--vectors", "nonsense", "--out", str(tmp_path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "neither a vectors file nor" in result.output


def test_imdb_length_experiment_on_tiny_reviews(tmp_path, monkeypatch):
    small = replace(imdb_length.QUICK.config, embed_dim=8, hidden=8, batch_size=32)
    monkeypatch.setattr(imdb_length, "QUICK", imdb_length.Setting(128, 64, small))
    monkeypatch.setattr(imdb_length, "EDGES", (4, 6))
    result = imdb_length.run(tmp_path, quick=True, data=tiny_data())
    assert [row[0] for row in result["rows"]] == ["rnn", "lstm", "gru", "reviews"]
    assert sum(result["rows"][-1][2:]) == 64
    assert Path(result["png"]).is_file() and len(result["checks"]) == 2


def test_demo_section_trains_and_explains(tmp_path, monkeypatch):
    monkeypatch.setattr(demo_classify, "CONFIG", ClassifierConfig(**TINY))
    monkeypatch.setattr(demo_classify, "EXAMPLES", ("a great film", "a dull plot"))
    report = Report("t")
    figures = demo_classify.section(
        report, DemoSettings(out=tmp_path, quick=True), lambda *_: None, data=tiny_data()
    )
    assert [p["label"] for p in figures["predictions"]] == ["positive", "negative"]
    assert Path(figures["html"]).is_file()
    assert "sentiment" in report.sections[0].title
