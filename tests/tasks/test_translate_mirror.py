"""Every direction the CLI offers, trained for a moment on the mirrored datasets.

The models are tiny and see a few hundred pairs: these tests check that the splits, the
directions and the three commands fit together on real data, not what the models learn.
"""

import json

import pytest
from click.testing import CliRunner

from seqlab.cli.main import main
from seqlab.tasks.translate_data import load_split

TINY = ["--limit", "300", "--epochs", "1", "--vocab-size", "300", "--embed-dim", "16",
        "--hidden", "16", "--decoder-hidden", "16", "--quiet"]  # fmt: skip


@pytest.fixture
def on_mirror(mirror, monkeypatch):
    monkeypatch.setenv("SEQLAB_DATA", str(mirror))
    return mirror


def test_multi30k_directions_swap_the_sides(on_mirror):
    de_en = load_split("multi30k", "de", "en", "val")
    en_de = load_split("multi30k", "en", "de", "val")
    assert len(de_en) == len(en_de) == 1014
    assert en_de[0] == de_en[0][::-1]


def test_tatoeba_splits_are_disjoint_and_small(on_mirror):
    splits = {s: load_split("tatoeba_eng_fra", "en", "fr", s) for s in ("train", "val", "test")}
    english = {s: {a for a, _ in pairs} for s, pairs in splits.items()}
    assert not english["val"] & english["train"] and not english["test"] & english["train"]
    assert not english["val"] & english["test"]
    total = sum(map(len, splits.values()))
    assert 0.005 < len(splits["val"]) / total < 0.02 and 0.005 < len(splits["test"]) / total < 0.02
    fr_en = load_split("tatoeba_eng_fra", "fr", "en", "val")
    assert fr_en[0] == splits["val"][0][::-1]


@pytest.mark.parametrize(
    "dataset, src, tgt, split, sentence",
    [
        ("multi30k", "en", "de", "test_2016_flickr", "A man rides a bike."),
        ("tatoeba_eng_fra", "en", "fr", "test", "I like tea."),
        ("tatoeba_eng_fra", "fr", "en", "test", "J'aime le thé."),
    ],
)
def test_train_eval_and_translate_from_the_cli(on_mirror, tmp_path, dataset, src, tgt, split,
                                               sentence):  # fmt: skip
    out = tmp_path / f"{src}-{tgt}"
    runner = CliRunner()
    trained = runner.invoke(
        main, ["translate", "train", dataset, "--src", src, "--tgt", tgt, *TINY, "--out", str(out)]
    )
    assert trained.exit_code == 0, trained.output
    assert "best epoch 1 of 1" in trained.output
    report = tmp_path / "eval.json"
    scored = runner.invoke(
        main,
        ["translate", "eval", str(out), "--split", split, "--limit", "20", "--json", str(report)],
    )
    assert scored.exit_code == 0, scored.output
    figures = json.loads(report.read_text())
    assert 0 <= figures["bleu"] <= 100 and "tok:13a" in figures["bleu_signature"]
    translated = runner.invoke(main, ["translate", "text", str(out), sentence])
    assert translated.exit_code == 0, translated.output
    assert translated.output.strip()
