"""Training, saving, scoring and translating on a tiny made-up language pair (no dataset)."""

import json
import random

import pytest
import torch
from click.testing import CliRunner

from seqlab.cli.main import main
from seqlab.tasks import model_dir
from seqlab.tasks import translate_run as run
from seqlab.tasks.beam import BeamSearchError
from seqlab.tasks.translate import TranslateConfig, TranslateInputError
from seqlab.tasks.translate_data import (
    Codec,
    PairDataset,
    TranslateDataError,
    collate,
    load_split,
)
from seqlab.text import Vocab

# a "language" whose words map one to one: the translator has to learn a word table
WORDS = {"ein": "a", "mann": "man", "hund": "dog", "rot": "red", "läuft": "runs", "sitzt": "sits"}


def toy_pairs(n, seed):
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        words = [rng.choice(list(WORDS)) for _ in range(rng.randint(2, 5))]
        pairs.append((" ".join(words) + ".", " ".join(WORDS[w] for w in words) + "."))
    return pairs


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    splits = {"train": toy_pairs(300, 0), "val": toy_pairs(20, 1), "test": toy_pairs(20, 2)}
    patch = pytest.MonkeyPatch()
    patch.setattr(run, "load_split", lambda dataset, src, tgt, split, progress=False: splits[split])
    config = TranslateConfig(
        level="word",
        vocab_size=20,
        embed_dim=16,
        hidden=16,
        decoder_hidden=32,
        dropout=0.0,
        epochs=2,
        batch_size=16,
        lr=1e-2,
    )
    out = tmp_path_factory.mktemp("translate") / "model"
    translator, summary = run.train("multi30k", "de", "en", config, out, quiet=True)
    yield out, translator, summary, splits
    patch.undo()


def test_training_saves_a_model_directory_with_its_codecs(trained):
    out, translator, summary, _ = trained
    assert summary["epochs_run"] == 2 and summary["best_epoch"] in (1, 2)
    assert 0 <= summary["valid_bleu_greedy"] <= 100
    for name in ("model.json", "model.safetensors", "source.spm", "target.spm", "run.json"):
        assert (out / name).is_file()
    again = run.Translator.load(out)
    sentences = ["ein mann läuft.", "ein hund sitzt."]
    assert again.translate(sentences, beam=3) == translator.translate(sentences, beam=3)


def test_evaluation_reports_bleu_chrf_and_signatures(trained):
    out, _, _, _ = trained
    figures = run.evaluate(out, "test", beam=2, progress=False)
    assert figures["sentences"] == 20 and 0 <= figures["bleu"] <= 100
    assert figures["bleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a")
    assert "chrf_signature" in figures and figures["examples"]


def test_bleu_of_a_known_pair():
    assert run.score(["a b c d e f"], ["a b c d e f"])["bleu"] == 100.0
    # every n-gram matches, but the output is half as long: brevity penalty exp(1 - 8/4)
    short = run.score(["one two three four"], ["one two three four five six seven eight"])
    assert short["bleu"] == pytest.approx(100 * 2.718281828 ** (1 - 2), abs=0.01)


def test_bad_sentences_are_refused_or_noted(trained):
    _, translator, _, _ = trained
    with pytest.raises(TranslateInputError, match="empty"):
        translator.translate(["   "])
    with pytest.raises(TranslateInputError, match="nothing the model knows"):
        translator.translate(["xyzzy plugh"])
    translator.translate(["ein xyzzy mann."])
    assert any("1 of 4 tokens unknown" in note for note in translator.notes)
    long = " ".join(["ein mann läuft"] * 10) + "."
    (output,) = translator.translate([long], beam=2)
    assert any("more than any training source" in note for note in translator.notes)
    assert isinstance(output, str)


def test_a_directory_of_another_task_is_named(tmp_path):
    model_dir.save(
        tmp_path / "lm", "lm", {}, {"w": torch.zeros(1)}, Vocab(["<pad>"], specials=["<pad>"])
    )
    with pytest.raises(model_dir.ModelDirError, match="holds a 'lm' model"):
        run.Translator.load(tmp_path / "lm")


def test_a_changed_codec_file_is_refused(trained, tmp_path):
    _, translator, _, _ = trained
    translator.save(tmp_path / "copy")
    other = Codec.train(["x y z"] * 10, 10, "word")
    (tmp_path / "copy" / "target.spm").write_bytes(other.model)
    with pytest.raises(model_dir.ModelDirError, match=r"target\.spm is not the file"):
        run.Translator.load(tmp_path / "copy")


def test_resuming_with_other_settings_is_refused(trained):
    out, translator, _, _ = trained
    changed = TranslateConfig(**{**translator.config.__dict__, "hidden": 8})
    with pytest.raises(TranslateInputError, match="hidden: 16 -> 8"):
        run.check_run(
            out, {"dataset": "multi30k", "src": "de", "tgt": "en", "limit": None}, changed
        )


def test_word_codec_detokenises_and_batches_pad_with_zero():
    pairs = [("Ein Mann, rot.", "A man, red."), ("Hund", "Dog")]
    source = Codec.train([s for s, _ in pairs] * 5, 20, "word")
    target = Codec.train([t for _, t in pairs] * 5, 20, "word")
    assert target.decode(target.encode("A man, red.")) == "A man, red."
    assert target.decode(target.encode("A cat, red.")) == "A ⁇, red."  # <unk>, one space
    data = PairDataset([*pairs, ("", "leer")], source, target)
    assert len(data) == 2  # the empty source is left out
    src, lengths, tgt, index = collate([data[0], data[1]])
    assert lengths.tolist() == [5, 1] and src[1, 1:].eq(0).all()
    assert tgt[:, 0].eq(2).all() and index.tolist() == [0, 1]


def test_cli_translates_and_draws_attention(trained, tmp_path):
    out, _, _, _ = trained
    picture = tmp_path / "attention.png"
    result = CliRunner().invoke(
        main, ["translate", "text", str(out), "ein mann läuft.", "--attention", str(picture)]
    )
    assert result.exit_code == 0, result.output
    assert picture.read_bytes()[:4] == b"\x89PNG"
    empty = CliRunner().invoke(main, ["translate", "text", str(out), ""])
    assert empty.exit_code != 0 and "empty" in empty.output


def test_cli_eval_writes_json(trained, tmp_path, monkeypatch):
    out, _, _, splits = trained
    monkeypatch.setattr(run, "load_split", lambda d, s, t, split, progress=False: splits[split])
    report = tmp_path / "eval.json"
    result = CliRunner().invoke(
        main,
        ["translate", "eval", str(out), "--split", "test", "--beam", "2", "--json", str(report)],
    )
    assert result.exit_code == 0, result.output
    assert "BLEU: nrefs:1" in result.output
    assert json.loads(report.read_text())["beam"] == 2


def test_cli_refuses_a_direction_the_dataset_lacks(tmp_path):
    result = CliRunner().invoke(
        main,
        ["translate", "train", "multi30k", "--src", "de", "--tgt", "fr", "--out", str(tmp_path)],
    )
    assert result.exit_code == 2 and "--src de --tgt en" in result.output
    with pytest.raises(TranslateDataError, match="choose one of"):
        load_split("multi30k", "de", "en", "test_2019")


def test_nan_weights_are_named_not_translated(trained):
    out, _, _, _ = trained
    broken = run.Translator.load(out)
    with torch.no_grad():
        broken.model.combine.bias.fill_(float("nan"))
    with pytest.raises(BeamSearchError, match="NaN"):
        broken.translate(["ein mann läuft."])
