"""The classifier on tiny synthetic data: learns, saves, loads, explains, refuses bad input."""

from __future__ import annotations

import dataclasses
import json
import random

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from seqlab.cli.main import main
from seqlab.embeddings import KeyedVectors
from seqlab.tasks import classify_ngrams, model_dir
from seqlab.tasks.classify import (
    Classifier,
    ClassifierConfig,
    ClassifyInputError,
    RNNClassifier,
    evaluate,
    train,
    train_run,
)
from seqlab.tasks.classify_data import (
    ClassificationData,
    DataFileError,
    Tokenizer,
    read_tsv,
    split_by_text,
)
from seqlab.tasks.explain import attribute, html_page, terminal_line

POS, NEG = ["good", "great", "superb"], ["bad", "awful", "dull"]
FILLER = ["the", "a", "film", "movie", "plot", "was", "is", "and", "it", "this"]
TINY = dict(embed_dim=16, hidden=16, batch_size=16, lr=0.02, epochs=6, patience=None)


def sentiment_rows(n: int, seed: int) -> list[tuple[str, int]]:
    """Filler words with one sentiment word; the label is the sentiment word's class."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = i % 2
        words = [*rng.sample(FILLER, rng.randint(2, 6)), rng.choice(POS if label else NEG)]
        rng.shuffle(words)
        rows.append((" ".join(words), label))
    return rows


def tiny_data() -> ClassificationData:
    return ClassificationData(
        "tiny",
        ("negative", "positive"),
        sentiment_rows(256, 0),
        sentiment_rows(64, 1),
        sentiment_rows(64, 2),
        source={"dataset": "tiny"},
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    clf, summary = train(tiny_data(), ClassifierConfig(**TINY), out, Tokenizer(), quiet=True)
    return clf, summary, out


def test_loss_falls_and_the_task_is_learned(trained):
    clf, summary, out = trained
    epochs = json.loads((out / "training" / "history.json").read_text())["epochs"]
    assert epochs[-1]["train_loss"] < 0.5 * epochs[0]["train_loss"]
    assert summary["valid_accuracy"] >= 0.95
    metrics = evaluate(clf, tiny_data().test)
    assert metrics["accuracy"] >= 0.95
    assert np.asarray(metrics["confusion"]).sum() == 64


def test_save_load_round_trip_predicts_the_same_without_the_data(trained):
    clf, _, out = trained
    texts = ["a great film", "the plot was dull", "awful awful movie"]
    loaded = Classifier.load(out)
    np.testing.assert_allclose(loaded.probabilities(texts), clf.probabilities(texts), atol=1e-6)
    assert [p.label for p in loaded.predict(texts)] == ["positive", "negative", "negative"]
    assert loaded.config == clf.config and loaded.vocab.itos == clf.vocab.itos


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("pooling", ["last", "max", "mean", "attention"])
def test_seqlab_and_torch_layers_compute_the_same_model(cell, pooling):
    torch.manual_seed(0)
    config = ClassifierConfig(cell=cell, pooling=pooling, embed_dim=6, hidden=5, layers=2)
    ours = RNNClassifier(30, 3, config).eval()
    theirs = RNNClassifier(30, 3, ClassifierConfig(**{**config.__dict__, "backend": "torch"}))
    theirs.load_state_dict(ours.state_dict())
    ids = torch.randint(1, 30, (4, 7))
    lengths = torch.tensor([7, 2, 5, 1])
    ids[torch.arange(7)[None, :] >= lengths[:, None]] = 0
    torch.testing.assert_close(ours(ids, lengths), theirs.eval()(ids, lengths), atol=1e-5, rtol=0)
    # padding never changes a text's logits
    torch.testing.assert_close(ours(ids[1:2, :2], lengths[1:2]), ours(ids, lengths)[1:2])


def test_attributions_point_at_the_sentiment_word(trained):
    clf, _, _ = trained
    attr = attribute(clf, "the plot was superb")
    assert attr.tokens == ["the", "plot", "was", "superb"] and attr.scores.shape == (4,)
    assert attr.label == "positive" and int(np.argmax(attr.scores)) == 3 and attr.scores[3] > 0
    against = attribute(clf, "the plot was superb", label="negative")
    assert against.scores[3] < 0  # the same word argues against the other class
    assert "superb[+" in terminal_line(attr, color=False)
    assert "\x1b[48;5;" in terminal_line(attr)
    assert html_page([attr]).count("<span style") == 4


def test_bad_texts_are_refused_with_the_reason(trained):
    clf, _, _ = trained
    with pytest.raises(ClassifyInputError, match="empty"):
        clf.predict(["   "])
    with pytest.raises(ClassifyInputError, match=r"no word .* is in the model's vocabulary"):
        clf.predict(["zebra xylophone"])
    with pytest.raises(ValueError, match="not one of the model's classes"):
        attribute(clf, "good", label="neutral")


def test_damaged_or_foreign_model_directories_are_refused(trained, tmp_path):
    clf, _, out = trained
    with pytest.raises(model_dir.ModelDirError, match="does not exist"):
        Classifier.load(tmp_path / "nowhere")
    with pytest.raises(model_dir.ModelDirError, match="not a seqlab model directory"):
        Classifier.load(out / "training")
    other = tmp_path / "lm"
    model_dir.save(other, "lm", {}, clf.model.state_dict(), clf.vocab)
    with pytest.raises(model_dir.ModelDirError, match="holds a 'lm' model, not a 'classify'"):
        Classifier.load(other)
    cut = tmp_path / "cut"
    clf.save(cut)
    weights = cut / model_dir.WEIGHTS
    weights.write_bytes(weights.read_bytes()[:-100])
    with pytest.raises(model_dir.ModelDirError, match="truncated"):
        Classifier.load(cut)


def test_tsv_files_are_checked(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_bytes("caf\xe9 film\tpos\n".encode("cp1252"))
    with pytest.raises(DataFileError, match=r"line 1 .* not UTF-8"):
        read_tsv(bad)
    bad.write_text("no tab here\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="line 1 has no tab"):
        read_tsv(bad)
    good = tmp_path / "good.tsv"
    good.write_text("nice film\tpos\nbad film\tneg\n\n", encoding="utf-8")
    assert read_tsv(good) == ([("nice film", 0), ("bad film", 1)], ["pos", "neg"])


def test_names_split_keeps_every_name_in_one_split():
    rows = [(f"Name{i}", i % 3) for i in range(300)] * 2 + [("Abel", 0), ("Abel", 1)]
    train_rows, valid_rows, test_rows = split_by_text(rows)
    assert len(train_rows) + len(valid_rows) + len(test_rows) == 302  # repeats dropped
    names = [{t for t, _ in split} for split in (train_rows, valid_rows, test_rows)]
    assert not (names[0] & names[2]) and not (names[0] & names[1]) and not (names[1] & names[2])


def test_tokenizer_removes_review_markup():
    assert Tokenizer()("Fine.<br /><br />BAD") == ["fine", ".", "bad"]
    assert Tokenizer("char", lowercase=False, strip_markup=False)("Ng") == ["N", "g"]


def test_cli_trains_resumes_evaluates_and_predicts(tmp_path):
    for name, seed, n in (("train", 0, 200), ("valid", 1, 60), ("test", 2, 60)):
        rows = sentiment_rows(n, seed)
        text = "".join(f"{t}\t{'pos' if y else 'neg'}\n" for t, y in rows)
        (tmp_path / f"{name}.tsv").write_text(text, encoding="utf-8")
    out = tmp_path / "model"
    base = ["classify", "train", "--train-file", str(tmp_path / "train.tsv")]
    base += ["--valid-file", str(tmp_path / "valid.tsv"), "--test-file", str(tmp_path / "test.tsv")]
    base += ["--embed-dim", "16", "--hidden", "16", "--lr", "0.02", "--out", str(out), "--quiet"]
    runner = CliRunner()
    result = runner.invoke(main, [*base, "--epochs", "2"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, [*base, "--epochs", "5"])  # resumes: 3 more epochs
    assert result.exit_code == 0, result.output
    history = json.loads((out / "training" / "history.json").read_text())
    assert [r["epoch"] for r in history["epochs"]] == [1, 2, 3, 4, 5]
    result = runner.invoke(main, [*base, "--hidden", "8"])
    assert result.exit_code == 1 and "other settings (hidden: " in result.output

    metrics_file = tmp_path / "m.json"
    result = runner.invoke(main, ["classify", "eval", str(out), "--json", str(metrics_file)])
    assert result.exit_code == 0, result.output
    metrics = json.loads(metrics_file.read_text())
    assert metrics["accuracy"] > 0.9 and set(metrics) >= {"macro_f1", "confusion", "labels"}
    assert (out / "confusion_test.png").read_bytes()[:4] == b"\x89PNG"

    html = tmp_path / "why.html"
    args = ["classify", "predict", str(out), "a superb film", "--explain", "--html", str(html)]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("pos\t") and "superb[+" in result.output
    assert "superb</span>" in html.read_text(encoding="utf-8")

    result = runner.invoke(main, ["classify", "predict", str(out), ""])
    assert result.exit_code == 1 and "empty" in result.output
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("tr\xe8s bien\n".encode("latin-1"))
    result = runner.invoke(main, ["classify", "predict", str(out), "--file", str(latin)])
    assert result.exit_code == 1 and "not UTF-8" in result.output


def test_pretrained_vectors_start_the_embedding_and_stay_frozen(tmp_path, capsys):
    words = ["good", "bad", "film", "the"]
    vectors = np.arange(len(words) * 16, dtype=np.float32).reshape(len(words), 16) / 100
    path = tmp_path / "vectors.txt"
    KeyedVectors(words, vectors).save(path, format="word2vec-txt")
    config = ClassifierConfig(**{**TINY, "epochs": 1, "vectors": str(path), "freeze": True})
    clf, _ = train(tiny_data(), config, tmp_path / "run", Tokenizer(), quiet=True)
    assert "pretrained vectors cover 4 of" in capsys.readouterr().out
    weight = clf.model.embedding.weight
    assert not weight.requires_grad
    np.testing.assert_array_equal(weight[clf.vocab.stoi["good"]].detach().numpy(), vectors[0])
    path.unlink()  # the model directory does not need the vectors file any more
    loaded = Classifier.load(tmp_path / "run")
    assert loaded.predict(["good film"])[0].label in ("negative", "positive")


def test_embedding_learning_rate_scale(tmp_path):
    """At scale 0 the embedding keeps its initial vectors while the other weights learn."""
    config = ClassifierConfig(**{**TINY, "epochs": 1, "embed_lr_scale": 0.0, "weight_decay": 0})
    start = Classifier.untrained([t for t, _ in tiny_data().train], ("n", "p"), config, Tokenizer())
    clf, _ = train(tiny_data(), config, tmp_path / "run", Tokenizer(), quiet=True)
    assert torch.equal(clf.model.embedding.weight, start.model.embedding.weight)
    assert not torch.equal(clf.model.out.weight, start.model.out.weight)
    with pytest.raises(ValueError, match="embed_lr_scale"):
        ClassifierConfig(embed_lr_scale=2.0)


def test_learning_rate_decays_each_epoch_and_resumes_alike(tmp_path):
    """Epoch e trains at lr · decay^(e-1); one epoch, then a second on resume, ends as two do."""
    config = ClassifierConfig(**{**TINY, "epochs": 2, "lr_decay": 0.5})
    straight, _ = train(tiny_data(), config, tmp_path / "straight", Tokenizer(), quiet=True)
    history = json.loads((tmp_path / "straight" / "training" / "history.json").read_text())
    assert [r["lr"] for r in history["epochs"]] == pytest.approx([0.02, 0.01])
    once = dataclasses.replace(config, epochs=1)
    train(tiny_data(), once, tmp_path / "resumed", Tokenizer(), quiet=True)
    resumed, _ = train(tiny_data(), config, tmp_path / "resumed", Tokenizer(), quiet=True)
    for a, b in zip(straight.model.parameters(), resumed.model.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="lr_decay"):
        ClassifierConfig(lr_decay=0.0)


def test_sentence_repeat_adds_the_whole_sentences_of_a_phrase_split(tmp_path):
    """Parse-tree phrases: each sentence (contained in no other phrase) is trained on N times."""
    sentences = sentiment_rows(64, 0)
    phrases = [(" ".join(t.split()[1:]), y) for t, y in sentences]  # each inside its sentence
    data = dataclasses.replace(tiny_data(), train=sentences + phrases)
    config = ClassifierConfig(**{**TINY, "epochs": 1, "sentence_repeat": 3})
    _, summary = train(data, config, tmp_path / "run", Tokenizer(), quiet=True)
    assert summary["train_examples"] == 128 + 2 * 64
    with pytest.raises(ValueError, match="sentence_repeat"):
        ClassifierConfig(sentence_repeat=0)


def test_ngram_vote_is_averaged_saved_and_loaded(tmp_path):
    data = tiny_data()
    out = tmp_path / "run"
    clf, summary = train_run(data, out, {**TINY, "ngram_weight": 0.4}, level="word", quiet=True)
    assert summary["valid_accuracy"] >= 0.9 and clf.ngrams is not None
    texts = ["the plot was superb", "a dull film"]
    tokens = [clf.tokenizer(t) for t in texts]
    recurrent = Classifier(clf.model, clf.tokenizer, clf.vocab, clf.labels, clf.config)
    expected = 0.6 * recurrent.probabilities(texts) + 0.4 * clf.ngrams.probabilities(tokens)
    np.testing.assert_allclose(clf.probabilities(texts), expected, rtol=1e-6)
    np.testing.assert_allclose(Classifier.load(out).probabilities(texts), expected, rtol=1e-6)
    explained = attribute(clf, texts[0])  # names the class and probability of the whole vote
    assert explained.probability == pytest.approx(float(expected[0].max()), rel=1e-5)
    with pytest.raises(ValueError, match="ngram_weight"):
        ClassifierConfig(ngram_weight=1.0)
    three = dataclasses.replace(data, labels=("a", "b", "c"))
    with pytest.raises(ClassifyInputError, match="two"):
        train_run(three, tmp_path / "three", {**TINY, "ngram_weight": 0.4}, level="word")


def test_auto_ngram_share_is_the_validation_log_loss_minimum(tmp_path):
    data = tiny_data()
    out = tmp_path / "auto"
    clf, summary = train_run(data, out, {**TINY, "ngram_weight": "auto"}, level="word", quiet=True)
    share = clf.config.ngram_weight
    assert summary["ngram_weight"] == share
    assert share in classify_ngrams.VOTE_SHARES.tolist()
    texts = [t for t, _ in data.valid]
    gold = np.array([y for _, y in data.valid])
    recurrent = Classifier(clf.model, clf.tokenizer, clf.vocab, clf.labels, clf.config)
    recurrent = recurrent.probabilities(texts)
    ngrams = classify_ngrams.fit_ngrams(clf, data).probabilities([clf.encode(t)[0] for t in texts])
    assert share == classify_ngrams.vote_share(recurrent, ngrams, gold)

    def loss(w):
        p = (1 - w) * recurrent.astype(np.float64) + w * ngrams.astype(np.float64)
        return -np.log(p[np.arange(len(gold)), gold]).mean()

    assert all(loss(share) <= loss(w) * (1 + 1e-6) for w in classify_ngrams.VOTE_SHARES)
    loaded = Classifier.load(out)  # the chosen share is saved; the run record keeps "auto"
    assert loaded.config.ngram_weight == share
    assert json.loads((out / "run.json").read_text())["config"]["ngram_weight"] == "auto"
    again, _ = train_run(data, out, {**TINY, "ngram_weight": "auto"}, level="word", quiet=True)
    np.testing.assert_allclose(again.probabilities(texts), loaded.probabilities(texts))
    with pytest.raises(ValueError, match="ngram_weight"):
        ClassifierConfig(ngram_weight="half")
    with pytest.raises(ValueError, match="finite"):
        classify_ngrams.vote_share(np.full((2, 2), np.nan), np.full((2, 2), 0.5), [0, 1])
    result = CliRunner().invoke(main, ["classify", "train", "mr", "--ngram-weight", "most"])
    assert result.exit_code == 2 and "'most' is neither a number nor 'auto'" in result.output


def test_ngram_model_learns_phrases_and_needs_two_classes():
    texts = [["not", "good"], ["good"], ["bad"], ["not", "bad"]] * 8
    model = classify_ngrams.fit(texts, [0, 1, 0, 1] * 8)
    probs = model.probabilities([["not", "good"], ["not", "bad"], ["unseen"]])
    assert probs[0, 0] > 0.6 and probs[1, 1] > 0.6  # only the word pairs tell them apart
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-6)
    shrunk = classify_ngrams.fit(texts, [0, 1, 0, 1] * 8, c=0.01)  # a stronger penalty
    assert shrunk.weight.abs().sum() < model.weight.abs().sum()
    with pytest.raises(ValueError, match="two classes"):
        classify_ngrams.fit(texts, [0, 1, 2, 1] * 8)
    with pytest.raises(ValueError, match="ngram_c"):
        ClassifierConfig(ngram_c=0.0)
