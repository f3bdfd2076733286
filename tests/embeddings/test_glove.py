"""GloVe training: it learns, it is reproducible, it resumes, and bad input fails clearly."""

import numpy as np
import pytest

from seqlab.embeddings.glove import GloVe
from seqlab.embeddings.training import CheckpointMismatchError, TrainingDivergedError
from seqlab.io import load_arrays
from seqlab.text import EmptyCorpusError

ANIMALS = ["cat", "dog", "horse", "cow", "sheep"]
METALS = ["iron", "gold", "copper", "silver", "zinc"]


def two_topic_corpus(n_sentences=400, seed=0):
    """Sentences drawn from one of two disjoint topics: words of a topic share contexts."""
    rng = np.random.default_rng(seed)
    sentences = []
    for s in range(n_sentences):
        topic = ANIMALS if s % 2 else METALS
        sentences.append([topic[i] for i in rng.integers(0, len(topic), 8)])
    return sentences


def small_model(**kwargs):
    settings = {"vector_size": 16, "window": 3, "min_count": 1, "epochs": 10, "workers": 1}
    return GloVe(**(settings | kwargs))


def test_loss_decreases_and_topics_separate():
    model = small_model(epochs=25)
    kv = model.train(two_topic_corpus(), progress=False)
    assert model.loss_history[-1] < 0.5 * model.loss_history[0]
    within = np.mean([kv.similarity(a, b) for a in ANIMALS for b in ANIMALS if a != b])
    across = np.mean([kv.similarity(a, m) for a in ANIMALS for m in METALS])
    assert within > across + 0.3
    assert kv.most_similar("cat", topn=4)[0][0] in ANIMALS


def test_saved_vectors_are_word_plus_context(tmp_path):
    model = small_model(epochs=2)
    kv = model.train(two_topic_corpus(40), checkpoint=tmp_path / "ckpt", progress=False)
    arrays, meta = load_arrays(tmp_path / "ckpt")  # the last epoch's parameters
    assert meta["epochs_done"] == 2
    np.testing.assert_array_equal(kv.vectors, arrays["W"] + arrays["C"])


def test_one_worker_and_a_seed_are_reproducible():
    corpus = two_topic_corpus(100)
    a = small_model(seed=3).train(corpus, progress=False)
    b = small_model(seed=3).train(corpus, progress=False)
    c = small_model(seed=4).train(corpus, progress=False)
    np.testing.assert_array_equal(a.vectors, b.vectors)
    assert not np.array_equal(a.vectors, c.vectors)


def test_two_workers_train_too():
    model = small_model(workers=2)
    model.train(two_topic_corpus(100), progress=False)
    assert model.loss_history[-1] < model.loss_history[0]


def test_spilling_cooccurrence_counts_give_the_same_vectors(tmp_path):
    corpus = two_topic_corpus(100)
    a = small_model().train(corpus, progress=False)
    b = small_model(memory_limit=8192).train(corpus, progress=False)
    np.testing.assert_array_equal(a.vectors, b.vectors)


def test_resume_from_checkpoint_equals_uninterrupted_run(tmp_path):
    corpus = two_topic_corpus(100)
    straight = small_model(epochs=4).train(corpus, progress=False)
    checkpoint = tmp_path / "glove.ckpt"
    first = small_model(epochs=2)
    first.train(corpus, checkpoint=checkpoint, progress=False)
    resumed_model = small_model(epochs=4)
    resumed = resumed_model.train(corpus, checkpoint=checkpoint, progress=False)
    np.testing.assert_array_equal(resumed.vectors, straight.vectors)
    assert resumed_model.loss_history[:2] == first.loss_history
    with pytest.raises(CheckpointMismatchError, match="delete the checkpoint"):
        small_model(epochs=4, x_max=10).train(corpus, checkpoint=checkpoint, progress=False)


def test_interrupted_training_keeps_the_last_checkpoint_and_no_partial_file(tmp_path):
    corpus = two_topic_corpus(100)
    checkpoint = tmp_path / "glove.ckpt"
    epochs_seen = []

    def interrupt_after_first_epoch(model, epoch, loss):  # Ctrl-C between two epochs
        epochs_seen.append((epoch, loss))
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        small_model(epochs=3).train(
            corpus, checkpoint=checkpoint, progress=False, callbacks=[interrupt_after_first_epoch]
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["glove.ckpt", "glove.ckpt.json"]
    model = small_model(epochs=3)
    model.train(corpus, checkpoint=checkpoint, progress=False)
    assert len(model.loss_history) == 3
    assert model.loss_history[0] == epochs_seen[0][1]
    straight = small_model(epochs=3).train(corpus, progress=False)
    np.testing.assert_array_equal(model.wv.vectors, straight.vectors)


def test_divergence_names_the_learning_rate():
    with pytest.raises(TrainingDivergedError, match="learning_rate=1e"):
        small_model(learning_rate=1e30).train(two_topic_corpus(40), progress=False)


def test_empty_corpus_and_everything_below_min_count(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(EmptyCorpusError):
        small_model().train(empty, progress=False)
    rare = tmp_path / "rare.txt"
    rare.write_text("every word here is unique\n", encoding="utf-8")
    with pytest.raises(EmptyCorpusError, match="min"):
        small_model(min_count=2).train(rare, progress=False)


def test_a_corpus_without_pairs_is_a_clear_error():
    with pytest.raises(ValueError, match="at least two in-vocabulary words"):
        small_model().train([["lonely"], ["words"]], progress=False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window": 0}, "window=0"),
        ({"learning_rate": 0}, "learning_rate=0"),
        ({"vector_size": 0}, "vector_size=0"),
    ],
)
def test_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GloVe(**kwargs)


def test_trains_from_a_text_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in two_topic_corpus(200)), encoding="utf-8")
    kv = small_model(epochs=15).train(path, progress=False)
    assert set(kv.index_to_key) == set(ANIMALS + METALS)
    assert kv.similarity("gold", "iron") > kv.similarity("gold", "dog")
