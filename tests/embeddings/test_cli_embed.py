"""`seqlab embed ...` commands end to end on small vector files."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from seqlab.cli.embed import embed
from seqlab.embeddings import KeyedVectors


@pytest.fixture
def vectors(tmp_path):
    words = ["korea", "seoul", "japan", "tokyo", "pizza", "공부"]
    rows = [[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [-1, -1, -1], [0.5, -1, 0.2]]
    path = tmp_path / "v.bin"
    KeyedVectors(words, np.array(rows, np.float32)).save(path)
    return path


def run(*args):
    return CliRunner().invoke(embed, [str(a) for a in args], catch_exceptions=False)


def test_nearest(vectors):
    result = run("nearest", vectors, "korea", "공부", "--topn", "2")
    assert result.exit_code == 0
    assert "korea:" in result.output and "공부:" in result.output
    assert result.output.count("\n") == 6


def test_analogy(vectors):
    result = run("analogy", vectors, "korea", "seoul", "tokyo", "--topn", "1")
    assert result.exit_code == 0 and "japan" in result.output
    result = run("analogy", vectors, "korea", "seoul", "tokyo", "--method", "3cosmul")
    assert "japan" in result.output.splitlines()[1]


def test_unknown_word_is_one_clean_line(vectors):
    result = run("nearest", vectors, "nope", "zilch")
    assert result.exit_code == 1
    assert "Error: unknown words 'nope', 'zilch'" in result.output
    assert "Traceback" not in result.output


def test_convert_round_trip(vectors, tmp_path):
    for fmt in ("word2vec-txt", "glove", "fasttext-vec", "seqlab", "word2vec-bin"):
        out = tmp_path / f"out-{fmt}"
        result = run("convert", vectors, out, "--to", fmt)
        assert result.exit_code == 0 and fmt in result.output
        np.testing.assert_array_equal(
            KeyedVectors.load(out, format=fmt).vectors, KeyedVectors.load(vectors).vectors
        )


def test_malformed_input_is_reported(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("2 3\na 1 2 3\nb 1 2\n")
    result = run("convert", bad, tmp_path / "o.bin", "--to", "word2vec-bin")
    assert result.exit_code == 1 and ":3: the header says 2 words x 3 dims" in result.output
    assert not (tmp_path / "o.bin").exists()


def test_eval_prints_settings_and_writes_json(vectors, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text(": capitals\nseoul korea tokyo japan\nseoul korea paris france\n")
    pairs = tmp_path / "p.tsv"
    pairs.write_text("korea\tseoul\t9\nkorea\tpizza\t1\njapan\ttokyo\t8\n")
    report = tmp_path / "r.json"
    result = run(
        "eval",
        vectors,
        "--analogies",
        questions,
        "--pairs",
        pairs,
        "--restrict-vocab",
        "5",
        "--json",
        report,
    )
    assert result.exit_code == 0, result.output
    assert "restrict_vocab=5" in result.output and "Total accuracy" in result.output
    scores = json.loads(report.read_text())
    assert scores["analogies"][str(questions)]["answered"] == 1
    assert scores["analogies"][str(questions)]["skipped_oov"] == 1
    assert scores["pairs"][str(pairs)]["pairs"] == 3


def test_eval_defaults_to_the_mirror_sets(vectors, mirror, monkeypatch):
    monkeypatch.setenv("SEQLAB_DATA", str(mirror))
    result = run("eval", vectors)
    assert result.exit_code == 1 and "353 of 353 pairs" in result.output  # tiny vocabulary


def test_plot(vectors, tmp_path):
    out = tmp_path / "p.png"
    result = run(
        "plot",
        vectors,
        "공부",
        "--neighbours",
        "2",
        "--analogy",
        "seoul korea tokyo japan",
        "--out",
        out,
    )
    assert result.exit_code == 0 and out.read_bytes()[:4] == b"\x89PNG"


def test_help_is_the_reference():
    result = run("--help")
    for command in ("nearest", "analogy", "eval", "convert", "plot"):
        assert command in result.output
    assert "word2vec-bin" in run("convert", "--help").output
