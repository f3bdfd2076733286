"""PyTorch trainers: on the CPU with tiny data they learn; on CUDA (when present) too."""

import numpy as np
import pytest
import torch

from seqlab.embeddings.fasttext import FastTextKeyedVectors
from seqlab.embeddings.torch_trainers import (
    TorchFastText,
    TorchGloVe,
    TorchWord2Vec,
    UnsupportedSettingError,
    resolve_device,
)
from seqlab.embeddings.training import CheckpointMismatchError, TrainingDivergedError
from seqlab.text import EmptyCorpusError

ANIMALS = ["cat", "dog", "horse", "cow", "sheep", "goat"]
METALS = ["iron", "gold", "copper", "silver", "zinc", "tin"]


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors gain nothing from threads, and on a busy machine threads cost seconds."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def two_topic_corpus(n_sentences=300, seed=0):
    """Sentences from one of two disjoint topics: words of a topic share their contexts."""
    rng = np.random.default_rng(seed)
    return [
        [(ANIMALS if s % 2 else METALS)[i] for i in rng.integers(0, 6, 8)]
        for s in range(n_sentences)
    ]


def topic_gap(kv):
    within = np.mean([kv.similarity(a, b) for a in ANIMALS for b in ANIMALS if a != b])
    across = np.mean([kv.similarity(a, m) for a in ANIMALS for m in METALS])
    return within - across


TRAINERS = {
    "skipgram": lambda **kw: TorchWord2Vec("skipgram", **kw),
    "cbow": lambda **kw: TorchWord2Vec("cbow", **kw),
    "fasttext": lambda **kw: TorchFastText(minn=2, maxn=4, bucket=1000, **kw),
    "glove": lambda **kw: TorchGloVe(**({"window": 3, "batch_size": 256} | kw)),
}
COMMON = {"vector_size": 16, "min_count": 1, "epochs": 8, "device": "cpu"}
W2V = {"sample": 0, "batch_size": 8, "window": 3}


def make(name, **kwargs):
    settings = COMMON | ({} if name == "glove" else W2V) | kwargs
    return TRAINERS[name](**settings)


@pytest.mark.parametrize("name", list(TRAINERS))
def test_loss_decreases_and_related_words_end_closer(name):
    model = make(name)
    kv = model.train(two_topic_corpus(), progress=False)
    assert model.loss_history[-1] < model.loss_history[0]
    assert topic_gap(kv) > 0.3


def test_fasttext_answers_unseen_words():
    kv = make("fasttext", epochs=2).train(two_topic_corpus(50), progress=False)
    assert isinstance(kv, FastTextKeyedVectors)
    assert "silvers" not in kv and kv["silvers"].shape == (16,)


@pytest.mark.parametrize("name", ["skipgram", "glove"])
def test_same_seed_same_vectors_and_resume_replays_exactly(name, tmp_path):
    corpus = two_topic_corpus(60)
    straight = make(name, epochs=3).train(corpus, progress=False)
    again = make(name, epochs=3).train(corpus, progress=False)
    np.testing.assert_array_equal(straight.vectors, again.vectors)

    def interrupt(model, epoch, loss):  # Ctrl-C right after the first epoch's checkpoint
        raise KeyboardInterrupt

    checkpoint = tmp_path / "ckpt"
    with pytest.raises(KeyboardInterrupt):
        make(name, epochs=3).train(
            corpus, checkpoint=checkpoint, progress=False, callbacks=[interrupt]
        )
    resumed = make(name, epochs=3).train(corpus, checkpoint=checkpoint, progress=False)
    np.testing.assert_allclose(resumed.vectors, straight.vectors, rtol=1e-5, atol=1e-6)
    with pytest.raises(CheckpointMismatchError):
        make(name, epochs=3, seed=9).train(corpus, checkpoint=checkpoint, progress=False)


@pytest.mark.parametrize(("name", "setting"), [("skipgram", "alpha"), ("glove", "learning_rate")])
def test_divergence_names_the_learning_rate(name, setting):
    with pytest.raises(TrainingDivergedError, match=setting):
        make(name, **{setting: 1e30}).train(two_topic_corpus(60), progress=False)


@pytest.mark.parametrize("name", list(TRAINERS))
def test_empty_corpus_is_a_clear_error(name):
    with pytest.raises(EmptyCorpusError):
        make(name, min_count=5).train([["once"], ["only"]], progress=False)


@pytest.mark.parametrize(
    ("trainer", "kwargs", "message"),
    [
        (TorchWord2Vec, {"hs": True}, "hs=True .*negative sampling.*Word2Vec"),
        (TorchWord2Vec, {"workers": 4}, "workers=4 .*batch_size"),
        (TorchFastText, {"shared_negatives": True}, "shared_negatives=True .*FastText"),
        (TorchGloVe, {"workers": 2}, "workers=2 .*GloVe"),
    ],
)
def test_cpu_only_arguments_are_refused_not_ignored(trainer, kwargs, message):
    with pytest.raises(UnsupportedSettingError, match=message):
        trainer(device="cpu", **kwargs)


@pytest.mark.parametrize(
    ("trainer", "kwargs", "message"),
    [
        (TorchWord2Vec, {"sample": -1}, "sample"),
        (TorchFastText, {"minn": 5, "maxn": 3}, "minn"),
        (TorchGloVe, {"window": 0}, "window=0"),
        (TorchGloVe, {"batch_size": 0}, "batch_size=0"),
    ],
)
def test_bad_arguments_fail_as_in_the_cpu_trainers(trainer, kwargs, message):
    with pytest.raises(ValueError, match=message):
        trainer(device="cpu", **kwargs)


def test_cuda_request_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA is present")
    with pytest.raises(ValueError, match="device='cpu'"):
        resolve_device("cuda")


@pytest.mark.gpu
@pytest.mark.parametrize("name", list(TRAINERS))
def test_trains_on_cuda(name):
    model = make(name, device="cuda")
    kv = model.train(two_topic_corpus(), progress=False)
    assert model.loss_history[-1] < model.loss_history[0]
    assert topic_gap(kv) > 0.3
