"""Shared training pieces: corpus ids, work split, divergence check, checkpoint and resume."""

import threading

import numpy as np
import pytest

from seqlab.embeddings.fasttext import FastText
from seqlab.embeddings.training import (
    CheckpointMismatchError,
    Chunk,
    ChunkQueue,
    TrainingDivergedError,
    check_loss,
    prepare_corpus,
    split_work,
)
from seqlab.embeddings.word2vec import Word2Vec


def sentences(n=300, seed=0):
    rng = np.random.default_rng(seed)
    return [[f"w{j}" for j in rng.zipf(1.5, size=rng.integers(1, 30)) % 50] for _ in range(n)]


def test_file_and_iterable_give_the_same_corpus(tmp_path):
    sents = sentences()
    path = tmp_path / "c.txt"
    path.write_text("\n".join(" ".join(s) for s in sents) + "\n", encoding="utf-8")
    a, b = prepare_corpus(path, 2), prepare_corpus(iter(sents), 2)  # a one-shot generator too
    assert a.vocab.itos == b.vocab.itos
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.starts, b.starts)
    np.testing.assert_array_equal(a.ends, b.ends)
    assert a.raw_words == sum(map(len, sents)) and a.fingerprint == b.fingerprint


def test_long_lines_are_cut_into_sentences():
    corpus = prepare_corpus([["a"] * 25, ["b"] * 3], 1, max_sentence_length=10)
    assert corpus.starts.tolist() == [0, 10, 20, 25]
    assert corpus.ends.tolist() == [10, 20, 25, 28]


@pytest.mark.parametrize("chunk_words", [1, 7, 50, 1000])
def test_split_work_covers_every_sentence_once(chunk_words):
    corpus = prepare_corpus(sentences(), 1)
    chunks = split_work(corpus, chunk_words)
    covered = [s for c in chunks for s in range(c.lo, c.hi)]
    assert covered == list(range(len(corpus.starts)))
    lengths = corpus.ends - corpus.starts
    for c in chunks:
        assert c.words == lengths[c.lo : c.hi].sum()
        assert c.words < chunk_words + lengths.max()
    assert [c.words_before for c in chunks] == list(np.cumsum([0] + [c.words for c in chunks])[:-1])


def test_a_stalled_worker_leaves_its_share_to_the_others():
    # worker "slow" takes one chunk and stalls until "fast" has run out of chunks
    queue = ChunkQueue([Chunk(i, i + 1, i, 1) for i in range(20)])
    taken = {"slow": [], "fast": []}
    slow_has_one, fast_done = threading.Event(), threading.Event()

    def slow():
        taken["slow"].append(next(queue))
        slow_has_one.set()
        fast_done.wait()
        taken["slow"].extend(queue)

    def fast():
        slow_has_one.wait()
        taken["fast"].extend(queue)
        fast_done.set()

    threads = [threading.Thread(target=f) for f in (slow, fast)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [c.lo for c in taken["slow"]] == [0]
    assert [c.lo for c in taken["fast"]] == list(range(1, 20))


def test_check_loss():
    assert check_loss(10.0, 4, 0.1, "epoch 1") == 2.5
    for bad in (np.nan, np.inf, 1e9):
        with pytest.raises(TrainingDivergedError, match=r"alpha=0\.1; lower alpha"):
            check_loss(bad, 1, 0.1, "epoch 1")


class Interrupt(Exception):
    pass


def interrupt_after(epochs):
    def callback(model, done, loss):
        if done == epochs:
            raise Interrupt

    return callback


@pytest.mark.parametrize(
    "model_class,algo", [(Word2Vec, "skipgram"), (Word2Vec, "cbow"), (FastText, "skipgram")]
)
def test_resume_is_bit_identical(tmp_path, model_class, algo):
    corpus = sentences(400)
    settings = dict(algo=algo, vector_size=12, min_count=1, epochs=3, workers=1, seed=4, hs=True)
    if model_class is FastText:
        settings["bucket"] = 5000
    straight = model_class(**settings)
    expected = straight.train(corpus, progress=False)
    checkpoint = tmp_path / "ckpt.safetensors"
    with pytest.raises(Interrupt):
        model_class(**settings).train(
            corpus, checkpoint=checkpoint, progress=False, callbacks=[interrupt_after(2)]
        )
    resumed = model_class(**settings)
    got = resumed.train(corpus, checkpoint=checkpoint, progress=False)
    np.testing.assert_array_equal(got.vectors, expected.vectors)
    assert resumed.loss_history == straight.loss_history


def test_checkpoint_of_another_run_is_refused(tmp_path):
    checkpoint = tmp_path / "ckpt.safetensors"
    Word2Vec(vector_size=8, min_count=1, epochs=1, workers=1).train(
        sentences(), checkpoint=checkpoint, progress=False
    )
    with pytest.raises(CheckpointMismatchError, match=r"vector_size|hyperparameters"):
        Word2Vec(vector_size=16, min_count=1, epochs=1, workers=1).train(
            sentences(), checkpoint=checkpoint, progress=False
        )
    with pytest.raises(CheckpointMismatchError, match="corpus"):
        Word2Vec(vector_size=8, min_count=1, epochs=1, workers=1).train(
            sentences(seed=1), checkpoint=checkpoint, progress=False
        )
