"""Bad input a new user gives seqlab's embedding API and ``seqlab embed``: every case ends in a
clear error naming the problem and the fix, found before any training, with nothing written.

Unwritable paths: the tests run as root, for whom a chmod'ed folder is writable, so they use a
path under a regular file (``file.txt/sub/out.bin``) and a folder under ``/proc``, which no user
can create files in.
"""

import json
import math
import re
import struct

import numpy as np
import pytest
from click.testing import CliRunner

import seqlab.embeddings.training as training
from seqlab.checks import check_int, check_number
from seqlab.cli.embed_checks import OPTION_OF
from seqlab.cli.embed_train import train
from seqlab.cli.main import main
from seqlab.embeddings import KeyedVectors
from seqlab.embeddings.fasttext import FastText, FastTextKeyedVectors
from seqlab.embeddings.formats import EmbeddingFormatError, read_vectors, sniff_format
from seqlab.embeddings.glove import GloVe
from seqlab.embeddings.training import load_checkpoint
from seqlab.embeddings.word2vec import Word2Vec
from seqlab.io import ModelFileError, check_writable, load_arrays, save_arrays


def invoke(*args):
    return CliRunner().invoke(main, [*map(str, args)])


def cli_options() -> set[str]:
    options, stack = set(), [main]
    while stack:
        command = stack.pop()
        for param in command.params:
            options |= set(getattr(param, "opts", ())) | set(getattr(param, "secondary_opts", ()))
        stack += getattr(command, "commands", {}).values()
    return options


def assert_clean_error(result, *patterns):
    """Exit code != 0, one ``Error:`` line (no traceback) matching every pattern, suggesting
    only options that exist."""
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert "Error" in result.output
    for pattern in patterns:
        assert re.search(pattern, result.output, re.S), (pattern, result.output)
    suggested = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9_-]*", result.output)) - {"--help"}
    assert suggested <= cli_options(), suggested - cli_options()


@pytest.fixture
def corpus(tmp_path):
    rng = np.random.default_rng(0)
    lines = [" ".join(f"w{j}" for j in rng.integers(30, size=12)) for _ in range(200)]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def vectors(tmp_path):
    kv = KeyedVectors([f"w{i}" for i in range(20)], np.random.default_rng(1).random((20, 4)))
    path = tmp_path / "v.txt"
    kv.save(path)
    return path


# ------------------------------------------------------------------ numeric arguments, API
@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: Word2Vec(alpha=-1), r"alpha=-1.0: pass a finite number > 0"),
        (lambda: Word2Vec(alpha=math.nan), r"alpha=nan"),
        (lambda: Word2Vec(alpha=math.inf), r"alpha=inf"),
        (lambda: Word2Vec(alpha=0), r"alpha=0.0"),
        (lambda: Word2Vec(min_alpha=-0.1), r"min_alpha=-0.1: pass a finite number >= 0"),
        (lambda: Word2Vec(window=0), r"window=0: pass an integer >= 1"),
        (lambda: Word2Vec(window="5"), r"window='5'"),
        (lambda: Word2Vec(vector_size=2.5), r"vector_size=2.5"),
        (lambda: Word2Vec(vector_size=True), r"vector_size=True"),
        (lambda: Word2Vec(epochs=0), r"epochs=0"),
        (lambda: Word2Vec(negative=-1), r"negative=-1"),
        (lambda: Word2Vec(sample=math.nan), r"sample=nan"),
        (lambda: Word2Vec(ns_exponent=math.nan), r"ns_exponent=nan"),
        (lambda: Word2Vec(max_vocab=0), r"max_vocab=0"),
        (lambda: Word2Vec(workers=0), r"workers=0"),
        (lambda: Word2Vec(seed=-1), r"seed=-1"),
        (lambda: Word2Vec(negative=0, hs=False), r"leave nothing to train"),
        (lambda: FastText(alpha=-1), r"alpha=-1.0"),
        (lambda: FastText(minn=0), r"minn=0"),
        (lambda: FastText(minn=5, maxn=3), r"minn=5 > maxn=3"),
        (lambda: FastText(bucket=0), r"bucket=0"),
        (lambda: GloVe(x_max=0), r"x_max=0.0: pass a finite number > 0"),
        (lambda: GloVe(x_max=math.nan), r"x_max=nan"),
        (lambda: GloVe(learning_rate=-1), r"learning_rate=-1.0"),
        (lambda: GloVe(alpha=math.inf), r"alpha=inf"),
        (lambda: GloVe(window=0), r"window=0"),
        (lambda: GloVe(vector_size=0), r"vector_size=0"),
        (lambda: GloVe(max_vocab=-5), r"max_vocab=-5"),
    ],
)
def test_constructors_refuse_bad_numbers(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_min_alpha_above_alpha_warns():
    with pytest.warns(UserWarning, match=r"min_alpha=0.5 is above alpha=0.1"):
        Word2Vec(alpha=0.1, min_alpha=0.5)


def test_check_helpers_accept_numpy_scalars_and_refuse_the_rest():
    assert check_int("n", np.int64(3), low=1) == 3
    assert check_int("n", 4.0) == 4
    assert check_number("x", np.float32(0.5), low=0, high=1) == 0.5
    with pytest.raises(ValueError, match=r"x=1.5: pass a finite number in \[0, 1\]"):
        check_number("x", 1.5, low=0, high=1)
    with pytest.raises(ValueError, match=r"n=nan"):
        check_int("n", math.nan)


# ------------------------------------------------------------------ numeric options, CLI
@pytest.mark.parametrize(
    "args,message",
    [
        (["--alpha", "-1"], r"--alpha.*-1.0 is not in the range x>0"),
        (["--alpha", "nan"], r"--alpha.*'nan' is not a finite number"),
        (["--lr", "inf"], r"--alpha.*'inf' is not a finite number"),
        (["--min-alpha", "-1"], r"--min-alpha"),
        (["--dim", "0"], r"--vector-size.*0 is not in the range x>=1"),
        (["--window", "0"], r"--window"),
        (["--epochs", "0"], r"--epochs"),
        (["--negative", "-2"], r"--negative"),
        (["--sample", "nan"], r"--sample"),
        (["--workers", "0"], r"--workers"),
        (["--seed", "-1"], r"--seed"),
        (["--algo", "glove", "--x-max", "0"], r"--x-max.*0.0 is not in the range x>0"),
        (["--algo", "glove", "--weight-power", "nan"], r"--weight-power"),
        (["--algo", "glove", "--window", "50"], r"--window 50: pass an integer in \[1, 20\]"),
        (["--algo", "fasttext", "--minn", "5", "--maxn", "3"], r"--minn 5 > --maxn 3"),
        (["--negative", "0", "--no-hs"], r"--negative 0 and --no-hs leave nothing to train"),
    ],
)
def test_train_refuses_bad_numbers_before_any_work(corpus, tmp_path, args, message):
    out = tmp_path / "v.bin"
    result = invoke("embed", "train", corpus, "--out", out, "--no-progress", *args)
    assert_clean_error(result, message)
    assert result.exit_code == 2  # a usage error
    assert not out.exists()


def test_train_warns_about_a_growing_learning_rate(corpus, tmp_path):
    result = invoke(
        "embed", "train", corpus, "--out", tmp_path / "v.bin", "--no-progress",
        "--min-count", "1", "--epochs", "1", "--dim", "8", "--workers", "1",
        "--alpha", "0.01", "--min-alpha", "0.02",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "warning: --min-alpha 0.02 is above --alpha 0.01" in result.output


def test_train_refuses_a_dimension_that_cannot_fit_in_memory(corpus, tmp_path):
    out = tmp_path / "v.bin"
    result = invoke(
        "embed", "train", corpus, "--out", out, "--no-progress", "--min-count", "1",
        "--dim", 10**12,
    )  # fmt: skip
    assert_clean_error(result, r"--dim 1000000000000 for 30 words needs at least .* GiB")
    assert not out.exists()


@pytest.mark.parametrize(
    "command",
    [
        ["nearest", "{v}", "w1", "--topn", "-3"],
        ["nearest", "{v}", "w1", "--topn", "0"],
        ["nearest", "{v}", "w1", "--restrict-vocab", "0"],
        ["analogy", "{v}", "w1", "w2", "w3", "--topn", "-1"],
        ["eval", "{v}", "--pairs", "x.txt", "--restrict-vocab", "0"],
        ["eval", "{v}", "--pairs", "x.txt", "--pairs-restrict-vocab", "-1"],
        ["convert", "{v}", "{v}.bin", "--to", "word2vec-bin", "--limit", "0"],
        ["plot", "{v}", "w1", "--neighbours", "-1"],
    ],
)
def test_query_commands_refuse_counts_below_one(vectors, command):
    result = invoke("embed", *[c.format(v=vectors) for c in command])
    assert_clean_error(result, r"Invalid value for '--")
    assert result.exit_code == 2


def test_api_refuses_negative_topn_and_empty_search():
    kv = KeyedVectors(["a", "b", "c"], np.eye(3, dtype=np.float32))
    with pytest.raises(ValueError, match=r"topn=-3"):
        kv.nearest("a", topn=-3)
    with pytest.raises(ValueError, match=r"restrict_vocab=0"):
        kv.most_similar("a", restrict_vocab=0)
    with pytest.raises(ValueError, match=r"restrict_vocab=0"):
        kv.most_similar_cosmul("a", restrict_vocab=0)
    assert kv.most_similar("a", topn=0) == []  # gensim's convention for zero


# ------------------------------------------------------------------ NaN and inf in vectors
@pytest.mark.parametrize("fmt", ["word2vec-txt", "word2vec-bin", "glove", "seqlab"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_vectors_with_nan_or_inf_do_not_load_silently(tmp_path, fmt, bad):
    vectors = np.ones((4, 3), np.float32)
    vectors[2, 1] = bad
    path = tmp_path / "v.data"
    KeyedVectors(["a", "b", "c", "d"], vectors, check_finite=False).save(path, fmt)
    with pytest.raises(EmbeddingFormatError, match=r"v\.data: the vector of 'c' \(row 3\)"):
        KeyedVectors.load(path)
    kv = KeyedVectors.load(path, check_finite=False)  # the explicit opt-in
    assert not np.isfinite(kv["c"]).all()


def test_nan_in_a_text_file_is_named_by_the_cli(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("2 2\nking 1 0\nqueen nan 1\n", encoding="utf-8")
    result = invoke("embed", "nearest", path, "king")
    assert_clean_error(result, r"v\.txt: the vector of 'queen' \(row 2\) holds NaN or inf")


def test_keyedvectors_from_arrays_with_nan_raise():
    vectors = np.ones((3, 2), np.float32)
    vectors[1, 0] = np.nan
    with pytest.raises(ValueError, match=r"the vector of 'b' \(row 2\) holds NaN"):
        KeyedVectors(["a", "b", "c"], vectors)


def test_finite_check_does_not_flag_large_finite_values():
    vectors = np.full((2, 1000), np.finfo(np.float32).max, np.float32)  # float32 sum overflows
    KeyedVectors(["a", "b"], vectors)


# ------------------------------------------------------------------ what is this file?
def test_header_and_rows_disagree_is_said_plainly(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("3 5\na 1 2 3 4\nb 1 2 3 4\nc 1 2 3 4\n", encoding="utf-8")
    assert sniff_format(path) == "word2vec-txt"  # not binary: the rows are text
    with pytest.raises(
        EmbeddingFormatError, match=r"v\.txt:2: the header says 3 words x 5 dims, but row 1"
    ):
        read_vectors(path)


def test_a_non_numeric_header_is_reported_at_line_1(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("3 x\na 1 2 3\nb 1 2 3\nc 1 2 3\n", encoding="utf-8")
    with pytest.raises(EmbeddingFormatError, match=r"v\.txt:1: the first line '3 x' looks like"):
        read_vectors(path)


def test_random_bytes_are_not_a_vectors_file(tmp_path):
    path = tmp_path / "random.bin"
    path.write_bytes(np.random.default_rng(0).bytes(4096).replace(b"\n", b"\x00"))
    with pytest.raises(EmbeddingFormatError) as info:
        read_vectors(path)
    message = str(info.value)
    assert "this is not a word2vec/GloVe/fastText vectors file" in message
    assert "not text" in message and "errors=" not in message


def test_a_corpus_is_not_a_vectors_file(tmp_path, corpus):
    result = invoke("embed", "eval", corpus, "--pairs", corpus)
    assert_clean_error(
        result, r"corpus\.txt: this is not a word2vec/GloVe/fastText vectors file: line 1 reads"
    )


def test_a_directory_is_not_a_vector_file(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"is a directory, not a vector file"):
        read_vectors(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"no such vector file"):
        read_vectors(tmp_path / "missing.bin")
    assert_clean_error(invoke("embed", "nearest", tmp_path, "w"), r"is a directory")


def test_safetensors_without_its_sidecar_is_named(tmp_path):
    path = tmp_path / "v.safetensors"
    KeyedVectors(["a", "b"], np.eye(2, dtype=np.float32)).save(path)
    (tmp_path / "v.safetensors.json").unlink()
    assert sniff_format(path) == "seqlab"
    with pytest.raises(ModelFileError, match=r"v\.safetensors: this vectors file has no JSON"):
        KeyedVectors.load(path)
    with pytest.raises(ModelFileError, match=r"no JSON sidecar v\.safetensors\.json"):
        KeyedVectors.load(path, mmap=True)


# ------------------------------------------------------------------ checkpoints and model files
def _checkpoint(tmp_path):
    path = tmp_path / "run.ckpt"
    save_arrays(path, {"syn0": np.ones((3, 2), np.float32)}, {"format": "seqlab-checkpoint"})
    return path


def test_truncated_checkpoint_names_file_and_fix(tmp_path):
    path = _checkpoint(tmp_path)
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ModelFileError, match=r"run\.ckpt: this training checkpoint is truncated"):
        load_checkpoint(path, {})


def test_checkpoint_without_sidecar_or_with_garbage_json(tmp_path):
    path = _checkpoint(tmp_path)
    sidecar = tmp_path / "run.ckpt.json"
    sidecar.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelFileError, match=r"run\.ckpt\.json: the JSON sidecar of this training"):
        load_checkpoint(path, {})
    sidecar.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ModelFileError, match=r"holds a list, expected an object"):
        load_checkpoint(path, {})
    sidecar.unlink()
    with pytest.raises(ModelFileError, match=r"run\.ckpt: this training checkpoint has no JSON"):
        load_checkpoint(path, {})


def test_garbage_checkpoint_is_a_clean_cli_error(tmp_path, corpus):
    checkpoint = tmp_path / "run.ckpt"
    checkpoint.write_bytes(b"\x00" * 100)
    checkpoint.with_name("run.ckpt.json").write_text("{}", encoding="utf-8")
    out = tmp_path / "v.bin"
    result = invoke(
        "embed", "train", corpus, "--out", out, "--checkpoint", checkpoint, "--no-progress",
        "--min-count", "1", "--epochs", "1", "--dim", "8",
    )  # fmt: skip
    assert_clean_error(result, r"run\.ckpt: this training checkpoint is truncated")
    assert not out.exists()


def test_truncated_fasttext_model_is_named(tmp_path):
    path = tmp_path / "ft.safetensors"
    words = ["a", "b"]
    FastTextKeyedVectors(words, np.eye(2, dtype=np.float32)).save(path)
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(ModelFileError, match=r"ft\.safetensors: this fastText model is truncated"):
        FastTextKeyedVectors.load(path)


def test_load_arrays_names_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing\.safetensors: no such safetensors"):
        load_arrays(tmp_path / "nothing.safetensors")
    header = json.dumps({"x": {"dtype": "F32", "shape": [9], "data_offsets": [0, 36]}}).encode()
    (tmp_path / "short.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)
    (tmp_path / "short.safetensors.json").write_text("{}")
    with pytest.raises(ModelFileError, match=r"short\.safetensors: this safetensors file is"):
        load_arrays(tmp_path / "short.safetensors")


# ------------------------------------------------------------------ unwritable outputs
def test_check_writable(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(NotADirectoryError, match=r"file\.txt is a file, not a folder"):
        check_writable(blocker / "sub" / "out.bin")
    with pytest.raises(PermissionError, match=r"no file can be created in /proc"):
        check_writable("/proc/seqlab-test/out.bin")
    with pytest.raises(IsADirectoryError, match=r"is a directory"):
        check_writable(tmp_path)
    with pytest.raises(NotADirectoryError, match=r"is a file; pass a folder"):
        check_writable(blocker, folder=True)
    check_writable(tmp_path / "new" / "deeper" / "out.bin")
    assert not (tmp_path / "new").exists()  # checked, nothing created
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


@pytest.mark.parametrize("out", ["{tmp}/file.txt/sub/v.bin", "/proc/seqlab-test/v.bin"])
def test_train_checks_the_output_before_training(corpus, tmp_path, monkeypatch, out):
    (tmp_path / "file.txt").write_text("x")
    trained = []
    monkeypatch.setattr(Word2Vec, "train", lambda *a, **k: trained.append(1))
    result = invoke("embed", "train", corpus, "--out", out.format(tmp=tmp_path))
    assert_clean_error(result, r"cannot write")
    assert not trained


def test_train_checks_the_checkpoint_path_too(corpus, tmp_path):
    (tmp_path / "file.txt").write_text("x")
    result = invoke(
        "embed", "train", corpus, "--out", tmp_path / "v.bin",
        "--checkpoint", tmp_path / "file.txt" / "c.ckpt",
    )  # fmt: skip
    assert_clean_error(result, r"cannot write .*c\.ckpt: .*file\.txt is a file")


@pytest.mark.parametrize(
    "command",
    [
        ["embed", "convert", "{v}", "{tmp}/file.txt/x/v.bin", "--to", "word2vec-bin"],
        ["embed", "plot", "{v}", "w1", "--out", "{tmp}/file.txt/x/p.png"],
        ["embed", "eval", "{v}", "--pairs", "{v}", "--json", "{tmp}/file.txt/x/s.json"],
        ["lab", "relu-explosion", "--quick", "--out", "{tmp}/file.txt/x"],
        ["demo", "--quick", "--out", "{tmp}/file.txt/x"],
        ["lab", "relu-explosion", "--quick", "--out", "/proc/seqlab-test"],
    ],
)
def test_every_writing_command_checks_its_output_first(vectors, tmp_path, command):
    (tmp_path / "file.txt").write_text("x")
    result = invoke(*[c.format(v=vectors, tmp=tmp_path) for c in command])
    assert_clean_error(result, r"cannot write")


# ------------------------------------------------------------------ a new user's other tries
def test_empty_and_undecodable_corpora(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    assert_clean_error(invoke("embed", "train", empty, "--out", tmp_path / "v.bin"), "no tokens")
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    result = invoke("embed", "train", latin, "--out", tmp_path / "v.bin")
    assert_clean_error(result, r"latin1\.txt: not valid UTF-8 at byte offset 3", "iconv")
    assert not (tmp_path / "v.bin").exists()


def test_unknown_word_names_the_option_to_change(vectors):
    result = invoke("embed", "nearest", vectors, "w1", "zebra")
    assert_clean_error(result, r"unknown word 'zebra'.*--min-count")


def test_constructor_messages_name_only_existing_options():
    """Every ``--option`` that a message of ``seqlab embed`` can suggest is an option there."""
    options = {o for p in train.params for o in getattr(p, "opts", [])}
    options |= {o for p in train.params for o in getattr(p, "secondary_opts", [])}
    assert set(OPTION_OF.values()) <= options
    assert {"--alpha", "--weight-power", "--no-hs"} <= options


def test_analogies_with_no_answerable_question_are_not_a_zero_score(vectors, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text(": capitals\nseoul korea tokyo japan\n")
    result = invoke("embed", "eval", vectors, "--analogies", questions)
    assert_clean_error(result, r"q\.txt: not scored: none of its 1 questions", "--restrict-vocab")
    assert "0.00%" not in result.output


def test_lab_seed_out_of_range_names_the_option(tmp_path):
    result = invoke("lab", "relu-explosion", "--quick", "--seed", "-1", "--out", tmp_path)
    assert_clean_error(result, r"Invalid value for '--seed'")


def test_options_of_another_algorithm_are_said_to_be_ignored(corpus, tmp_path):
    result = invoke(
        "embed", "train", corpus, "--out", tmp_path / "g.txt", "--algo", "glove", "--no-progress",
        "--min-count", "1", "--epochs", "1", "--dim", "4", "--workers", "1",
        "--negative", "3", "--minn", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "warning: --negative does not apply to --algo glove" in result.output
    assert "warning: --minn does not apply to --algo glove (only to fasttext)" in result.output
    assert "--window does not apply" not in result.output  # every algorithm uses it


@pytest.mark.parametrize(
    "saved,declared",
    [
        ("word2vec-txt", "word2vec-bin"),
        ("word2vec-bin", "word2vec-txt"),
        ("word2vec-bin", "glove"),
        ("word2vec-txt", "glove"),
        ("seqlab", "word2vec-txt"),
        ("glove", "seqlab"),
    ],
)
def test_a_declared_format_the_content_contradicts_is_refused(tmp_path, saved, declared):
    """Reading text as binary would give garbage words, not an error: refused up front."""
    path = tmp_path / "v.data"
    KeyedVectors(["king", "queen"], np.eye(2, dtype=np.float32)).save(path, saved)
    with pytest.raises(EmbeddingFormatError, match=rf"declared as {declared}, but the content"):
        read_vectors(path, format=declared)
    assert read_vectors(path, format=saved)[0] == ["king", "queen"]


def test_a_typo_in_the_first_row_is_named_not_taken_for_binary(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("2 3\na 1 x 3\nb 1 2 3\n", encoding="utf-8")
    assert sniff_format(path) == "word2vec-txt"
    with pytest.raises(EmbeddingFormatError, match=r"v\.txt:2: expected a number .*'x'"):
        read_vectors(path)


def test_training_messages_name_options_not_arguments(tmp_path):
    window = tmp_path / "window.txt"  # a file name that holds an argument name stays as it is
    window.write_text("a b c\n")
    result = invoke("embed", "train", window, "--out", tmp_path / "v.bin", "--min-count", "3")
    assert_clean_error(
        result, r"window\.txt: --min-count 3 removes every word", "lower --min-count"
    )


def test_checkpoint_and_output_must_differ(corpus, tmp_path):
    out = tmp_path / "v.bin"
    result = invoke("embed", "train", corpus, "--out", out, "--checkpoint", out)
    assert_clean_error(result, r"--checkpoint and --out name the same file")
    assert result.exit_code == 2


def test_a_broken_checkpoint_is_found_before_the_corpus_is_read(corpus, tmp_path, monkeypatch):
    checkpoint = tmp_path / "run.ckpt"
    checkpoint.write_bytes(b"not a checkpoint")
    read = []
    monkeypatch.setattr(training, "prepare_corpus", lambda *a, **k: read.append(1))
    result = invoke(
        "embed", "train", corpus, "--out", tmp_path / "v.bin", "--checkpoint", checkpoint
    )
    assert_clean_error(result, r"run\.ckpt: this training checkpoint has no JSON sidecar")
    assert not read


def test_fasttext_model_with_nan_ngrams_or_missing_arrays(tmp_path):
    path = tmp_path / "ft.safetensors"
    grams = np.ones((2, 2), np.float32)
    grams[1, 0] = np.nan
    model = FastTextKeyedVectors(
        ["a", "b"], np.eye(2, dtype=np.float32), None, grams, np.array([3, 7]), check_finite=False
    )
    model.save(path)
    with pytest.raises(
        EmbeddingFormatError, match=r"ft\.safetensors: the vector of n-gram bucket 7"
    ):
        FastTextKeyedVectors.load(path)
    assert FastTextKeyedVectors.load(path, check_finite=False).ngram_buckets.tolist() == [3, 7]
    arrays, meta = load_arrays(path)
    del arrays["ngram_buckets"]
    save_arrays(path, arrays, meta)
    with pytest.raises(EmbeddingFormatError, match=r"this fastText model lacks ngram_buckets"):
        FastTextKeyedVectors.load(path)


def test_duplicate_words_in_a_file_name_the_file(tmp_path):
    path = tmp_path / "dup.txt"
    path.write_text("3 2\na 1 0\nb 0 1\na 1 1\n", encoding="utf-8")
    assert_clean_error(invoke("embed", "nearest", path, "a"), r"dup\.txt: duplicate words \['a'\]")


def test_a_query_with_nothing_to_rank_says_so(tmp_path):
    path = tmp_path / "one.txt"
    path.write_text("1 2\na 1 2\n", encoding="utf-8")
    result = invoke("embed", "nearest", path, "a")
    assert result.exit_code == 0
    assert "no other word to rank" in result.output


def test_plot_warns_when_the_suffix_is_not_png(vectors, tmp_path):
    result = invoke("embed", "plot", vectors, "w1", "w2", "--out", tmp_path / "p.txt")
    assert result.exit_code == 0, result.output
    assert "is written as a PNG image whatever its suffix" in result.output


def test_more_workers_than_cores_warns(corpus, tmp_path, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    result = invoke(
        "embed", "train", corpus, "--out", tmp_path / "v.bin", "--no-progress",
        "--min-count", "1", "--epochs", "1", "--dim", "4", "--workers", "64",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "warning: --workers 64 is more than the 2 CPU cores" in result.output


@pytest.mark.parametrize(
    "content,message",
    [
        (b"\x1f\x8b\x08\x00" + bytes(40), r"gzip-compressed file, not text; .*gunzip -k"),
        (b"PK\x03\x04" + bytes(40), r"zip-compressed file"),
        ("a b c\n".encode("utf-16"), r"UTF-16 text .*iconv -f utf-16 -t utf-8"),
        (b"2 3\nab " + bytes(12), r"holds NUL bytes, so it is a binary file"),
    ],
)
def test_compressed_or_binary_corpus_is_named(tmp_path, content, message):
    corpus = tmp_path / "corpus.dat"
    corpus.write_bytes(content)
    result = invoke("embed", "train", corpus, "--out", tmp_path / "v.bin")
    assert_clean_error(result, r"corpus\.dat: .*" + message)
    assert "not valid UTF-8" not in result.output


@pytest.mark.parametrize(
    "command",
    [
        ["eval", "{v}", "--pairs", "{v}", "--json", "{v}"],
        ["plot", "{v}", "w1", "--out", "{v}"],
        ["convert", "{v}", "{v}", "--to", "glove"],
    ],
)
def test_outputs_never_overwrite_the_vectors_being_read(vectors, command):
    before = vectors.read_bytes()
    result = invoke("embed", *[c.format(v=vectors) for c in command])
    assert_clean_error(result, r"is the vectors file being read")
    assert vectors.read_bytes() == before


@pytest.mark.parametrize("option", ["--out", "--checkpoint"])
def test_training_never_overwrites_its_corpus(corpus, tmp_path, option):
    before = corpus.read_bytes()
    args = {"--out": tmp_path / "v.bin", option: corpus}
    result = invoke("embed", "train", corpus, *[x for kv in args.items() for x in kv])
    assert_clean_error(result, rf"{option} .*corpus\.txt is the corpus")
    assert corpus.read_bytes() == before
