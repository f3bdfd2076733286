"""``seqlab embed train``: help as reference, a real run, clean errors, no partial files."""

import numpy as np
import pytest
from click.testing import CliRunner

from seqlab.cli.main import main
from seqlab.embeddings import KeyedVectors
from seqlab.embeddings.fasttext import FastTextKeyedVectors
from seqlab.embeddings.postprocess import all_but_the_top


@pytest.fixture
def corpus(tmp_path):
    rng = np.random.default_rng(0)
    lines = [" ".join(f"w{j}" for j in rng.integers(30, size=12)) for _ in range(200)]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(*args):
    return CliRunner().invoke(main, ["embed", "train", *map(str, args)])


def test_help_lists_every_hyperparameter_with_its_default():
    result = run("--help")
    assert result.exit_code == 0
    for option in (
        "--algo",
        "--vector-size",
        "--window",
        "--min-count",
        "--max-vocab",
        "--epochs",
        "--alpha",
        "--min-alpha",
        "--negative",
        "--hs",
        "--sample",
        "--ns-exponent",
        "--minn",
        "--maxn",
        "--bucket",
        "--x-max",
        "--workers",
        "--seed",
        "--checkpoint",
    ):
        assert option in result.output
    assert result.output.count("[default:") >= 20


@pytest.mark.parametrize(
    "algo,out", [("skipgram", "v.bin"), ("cbow", "v.txt"), ("fasttext", "v.safetensors")]
)
def test_trains_and_writes_vectors(tmp_path, corpus, algo, out):
    out = tmp_path / out
    result = run(
        corpus,
        "--algo",
        algo,
        "--out",
        out,
        "--dim",
        8,
        "--epochs",
        2,
        "--min-count",
        1,
        "--workers",
        1,
        "--no-progress",
        "--bucket",
        1000,
    )
    assert result.exit_code == 0, result.output
    assert "loss per epoch" in result.output
    kv = KeyedVectors.load(out)
    assert len(kv) == 30 and kv.vector_size == 8
    if algo == "fasttext":
        assert FastTextKeyedVectors.load(out)["w12345"].shape == (8,)


def test_bad_inputs_are_one_line_errors(tmp_path, corpus):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine words \xff\n")
    out = tmp_path / "v.bin"
    for args, message in (
        ((empty,), "no tokens"),
        ((corpus, "--min-count", 1000), "--min-count 1000 removes every word"),
        ((bad,), "bad.txt"),
        ((corpus, "--min-count", 1, "--alpha", 1e30), "lower --alpha (e.g. --alpha "),
        ((corpus, "--window", 0), "window"),
    ):
        result = run(*args, "--out", out, "--no-progress", "--workers", 1)
        assert result.exit_code != 0
        assert message in result.output and "Traceback" not in result.output
        assert not out.exists()


def test_interrupted_training_leaves_no_vector_file(tmp_path, corpus, monkeypatch):
    from seqlab.embeddings.word2vec import Word2Vec

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Word2Vec, "train", interrupted)
    out = tmp_path / "v.bin"
    result = run(corpus, "--out", out, "--no-progress")
    assert result.exit_code != 0 and "no vectors written" in result.output
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_all_but_the_top_post_processes_the_written_vectors(tmp_path, corpus):
    common = ("--dim", 8, "--epochs", 1, "--min-count", 1, "--workers", 1, "--no-progress")
    raw, processed = tmp_path / "raw.bin", tmp_path / "abtt.bin"
    assert run(corpus, "--out", raw, *common).exit_code == 0
    result = run(corpus, "--out", processed, "--all-but-the-top", 2, *common)
    assert result.exit_code == 0, result.output
    assert "top 2 principal directions removed" in result.output
    expected = all_but_the_top(KeyedVectors.load(raw), 2)  # the same seed: the same raw vectors
    np.testing.assert_allclose(KeyedVectors.load(processed).vectors, expected.vectors, atol=1e-6)
    too_many = run(corpus, "--out", tmp_path / "x.bin", "--all-but-the-top", 8, *common)
    assert too_many.exit_code != 0 and "--all-but-the-top 8" in too_many.output
    assert "Traceback" not in too_many.output and not (tmp_path / "x.bin").exists()


def test_add_output_vectors_writes_input_plus_output_vectors(tmp_path, corpus):
    from seqlab.embeddings.word2vec import Word2Vec

    out = tmp_path / "wc.bin"
    common = ("--dim", 8, "--epochs", 1, "--min-count", 1, "--workers", 1, "--no-progress")
    result = run(corpus, "--out", out, "--add-output-vectors", *common)
    assert result.exit_code == 0, result.output
    assert "input + output vector" in result.output
    model = Word2Vec("skipgram", vector_size=8, epochs=1, min_count=1, workers=1, seed=1)
    kv = model.train(str(corpus), progress=False)  # the command's settings: the same training
    written = KeyedVectors.load(out)
    assert written.index_to_key == kv.index_to_key
    expected = kv.vectors + model.weights["syn1neg"][: len(kv)]
    np.testing.assert_allclose(written.vectors, expected, atol=1e-6)
    no_negatives = run(corpus, "--out", tmp_path / "x.bin", "--add-output-vectors", "--hs",
                       "--negative", 0, *common)  # fmt: skip
    assert no_negatives.exit_code != 0 and "needs negative sampling" in no_negatives.output
