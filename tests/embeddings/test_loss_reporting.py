"""The loss a trainer reports per epoch measures the model, not how recently it was updated."""

import numpy as np
import pytest

from seqlab.embeddings.fasttext import FastText
from seqlab.embeddings.training import EmptyCorpusError
from seqlab.embeddings.word2vec import Word2Vec


def bursty_corpus(documents=200, length=150, names=500, common=20, cast=3, seed=0):
    """Documents about a few "names" each, among common words, as in Wikipedia articles: which
    names occur together is local to a document, so a model that has just trained on the
    first lines of a document predicts the rest of it far better than the model at the end of
    the epoch does."""
    rng = np.random.default_rng(seed)
    corpus = []
    for _ in range(documents):
        names_here = rng.choice(names, cast, replace=False)
        corpus.append(
            [
                f"n{names_here[rng.integers(cast)]}"
                if rng.random() < 0.5
                else f"c{rng.integers(common)}"
                for _ in range(length)
            ]
        )
    return corpus


def bursty_model(algo="skipgram", **kwargs):
    settings = dict(
        vector_size=16, window=3, min_count=1, epochs=5, workers=1, seed=1, sample=0, alpha=0.05
    )
    return Word2Vec(algo, **(settings | kwargs))


def test_the_epoch_loss_falls_while_the_model_improves():
    # The loss measured on each example just before its update (word2vec's and gensim's
    # figure, reported per epoch until now) benefits from the updates of the lines just
    # before it, and that benefit shrinks with the decaying learning rate: on this corpus it
    # rises in the last epoch, as it did on text8 and Korean Wikipedia, while the model
    # keeps improving on the training text and on held-out text.
    held_out = bursty_corpus(documents=40, seed=1)
    held_out_losses = []
    model = bursty_model()
    model.train(
        bursty_corpus(),
        progress=False,
        callbacks=[lambda m, epoch, loss: held_out_losses.append(m.evaluate_loss(held_out))],
    )
    assert model.online_loss_history[-1] > min(model.online_loss_history)  # the old figure
    assert np.all(np.diff(model.loss_history) < 0), model.loss_history
    assert np.all(np.diff(held_out_losses) < 0), held_out_losses
    # the online figure is far below the model's loss early on: the recency benefit
    assert model.online_loss_history[0] < model.loss_history[0] - 0.5


def test_evaluate_loss_changes_nothing_and_repeats_exactly():
    model = bursty_model(epochs=1)
    text = bursty_corpus(documents=30)
    model.train(text, progress=False)
    before = {k: v.copy() for k, v in model.weights.items()}
    first = model.evaluate_loss(text)
    assert model.evaluate_loss(text) == first
    assert model.evaluate_loss(text, seed=5) != first  # other examples, same model
    for name, matrix in model.weights.items():
        np.testing.assert_array_equal(matrix, before[name])
    # the epoch's reported loss is this measure on (a sample of) the training corpus
    assert first == pytest.approx(model.loss_history[-1])


def test_fasttext_and_cbow_report_the_same_measure():
    text = bursty_corpus(documents=60)
    for model in (
        bursty_model("cbow", epochs=3),
        FastText(vector_size=8, min_count=1, epochs=3, workers=1, sample=0, bucket=5000),
    ):
        model.train(text, progress=False)
        assert len(model.loss_history) == len(model.online_loss_history) == 3
        assert model.evaluate_loss(text) == pytest.approx(model.loss_history[-1])


def test_the_loss_sample_is_spread_over_a_large_corpus(monkeypatch):
    from seqlab.embeddings import word2vec

    sampled = {}
    real = word2vec.loss_sample

    def spy(corpus):
        sampled["part"] = real(corpus, words=1000)
        return sampled["part"]

    monkeypatch.setattr(word2vec, "loss_sample", spy)
    model = bursty_model(epochs=2)
    text = bursty_corpus(documents=100, length=50)
    model.train(text, progress=False)
    part = sampled["part"]
    assert 1000 <= len(part.ids) < 1100  # whole sentences of 50 words
    assert model.loss_history[-1] == pytest.approx(model.evaluate_loss(part))


def test_resumed_runs_keep_both_histories(tmp_path):
    text = bursty_corpus(documents=30)
    straight = bursty_model(epochs=3)
    straight.train(text, progress=False)
    first = bursty_model(epochs=3)

    def stop_after_two(model, epoch, loss):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        first.train(text, checkpoint=tmp_path / "ckpt", progress=False, callbacks=[stop_after_two])
    resumed = bursty_model(epochs=3)
    resumed.train(text, checkpoint=tmp_path / "ckpt", progress=False)
    assert resumed.loss_history == straight.loss_history
    assert resumed.online_loss_history == straight.online_loss_history


def test_evaluation_needs_a_model_and_known_words():
    model = bursty_model(epochs=1)
    with pytest.raises(RuntimeError, match="build"):
        model.evaluate_loss([["n1", "c1"]])
    model.train(bursty_corpus(documents=10), progress=False)
    with pytest.raises(EmptyCorpusError, match="vocabulary"):
        model.evaluate_loss([["never", "seen"]])


def test_build_then_train_starts_from_the_built_state_once():
    text = bursty_corpus(documents=20)
    fresh = bursty_model(epochs=1)
    fresh.train(text, progress=False)
    model = bursty_model(epochs=1)
    corpus = model.build(text)
    model.weights["syn1neg"][:] = 0.1
    model.train(corpus, progress=False)
    assert not np.array_equal(model.weights["syn0"], fresh.weights["syn0"])
    model.train(corpus, progress=False)  # a second train starts afresh
    np.testing.assert_array_equal(model.weights["syn0"], fresh.weights["syn0"])


@pytest.mark.parametrize(
    ("table", "message"),
    [([3, 3, 3], "at least 2 distinct"), ([[0, 1]], "1-D"), ([0, 10_000], "vocabulary has")],
)
def test_a_bad_negative_table_is_refused(table, message):
    model = bursty_model(epochs=1)
    model.build(bursty_corpus(documents=5))
    with pytest.raises(ValueError, match=message):
        model.negative_table = table


def test_the_pytorch_trainer_reports_the_same_two_figures():
    from seqlab.embeddings.torch_trainers import TorchWord2Vec

    text = bursty_corpus(documents=40)
    model = TorchWord2Vec(
        vector_size=8, window=3, min_count=1, epochs=2, sample=0, batch_size=64, device="cpu"
    )
    model.train(text, progress=False)
    assert len(model.loss_history) == len(model.online_loss_history) == 2
    before = {k: v.clone() for k, v in model.weights.items()}
    assert model.evaluate_loss(text) == model.evaluate_loss(text)
    assert model.evaluate_loss(text) == pytest.approx(model.loss_history[-1])
    for name, tensor in model.weights.items():
        assert tensor.equal(before[name])
