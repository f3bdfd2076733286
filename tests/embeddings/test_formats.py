"""Vector files: every format round-trips (Hangul too), gensim reads ours and we read gensim's."""

import os

import numpy as np
import pytest
from gensim.models import KeyedVectors as GensimKV
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab.embeddings import EmbeddingFormatError, KeyedVectors
from seqlab.embeddings.formats import FORMATS, sniff_format

WORDS = ["king", "queen", "한국", "서울", "日本", "café", "naïve", "</s>"]
TEXT_FORMATS = ["word2vec-txt", "fasttext-vec", "glove"]


@pytest.fixture
def kv():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(WORDS), 7)).astype(np.float32)
    vectors[0, 0] = 1e-30  # extreme magnitudes must survive the text formats too
    vectors[1, 1] = 3.4e38
    return KeyedVectors(WORDS, vectors, counts=np.arange(len(WORDS), 0, -1))


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_is_exact(kv, tmp_path, fmt):
    path = tmp_path / f"vectors.{fmt}"
    kv.save(path, format=fmt)
    assert sniff_format(path) in (fmt, "word2vec-txt" if fmt == "fasttext-vec" else fmt)
    for loaded in (KeyedVectors.load(path), KeyedVectors.load(path, format=fmt)):
        assert loaded.index_to_key == WORDS
        np.testing.assert_array_equal(loaded.vectors, kv.vectors)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_native_format_keeps_counts_and_memory_maps(kv, tmp_path):
    path = tmp_path / "vectors.safetensors"
    kv.save(path)
    mapped = KeyedVectors.load(path, mmap=True)
    # a read-only view of the mapped file, not a copy
    assert not mapped.vectors.flags.owndata and not mapped.vectors.flags.writeable
    np.testing.assert_array_equal(mapped.vectors, kv.vectors)
    np.testing.assert_array_equal(mapped.counts, kv.counts)
    assert mapped.most_similar("king", topn=3) == kv.most_similar("king", topn=3)
    assert KeyedVectors.load(path, limit=3).index_to_key == WORDS[:3]


@pytest.mark.parametrize("fmt", ["word2vec-bin", "word2vec-txt", "glove"])
def test_gensim_reads_our_files(kv, tmp_path, fmt):
    path = tmp_path / "v"
    kv.save(path, format=fmt)
    theirs = GensimKV.load_word2vec_format(
        str(path), binary=fmt == "word2vec-bin", no_header=fmt == "glove"
    )
    assert theirs.index_to_key == WORDS
    np.testing.assert_array_equal(theirs.vectors, kv.vectors)


@pytest.mark.parametrize("binary", [True, False])
def test_we_read_gensim_files(kv, tmp_path, binary):
    theirs = GensimKV(kv.vector_size)
    theirs.add_vectors(WORDS, kv.vectors)
    path = tmp_path / "gensim.w2v"
    theirs.save_word2vec_format(str(path), binary=binary)
    loaded = KeyedVectors.load(path)
    assert sniff_format(path) == ("word2vec-bin" if binary else "word2vec-txt")
    assert loaded.index_to_key == WORDS
    np.testing.assert_array_equal(loaded.vectors, kv.vectors)


def test_suffix_picks_the_format(kv, tmp_path):
    for name, fmt in [
        ("a.bin", "word2vec-bin"),
        ("a.txt", "word2vec-txt"),
        ("a.vec", "fasttext-vec"),
    ]:
        kv.save(tmp_path / name)
        assert sniff_format(tmp_path / name) == fmt


words_strategy = st.lists(
    st.text(
        st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=8
    ),
    min_size=1,
    max_size=6,
    unique=True,
)


@settings(max_examples=25, deadline=None)
@given(words=words_strategy, fmt=st.sampled_from(["word2vec-bin", "word2vec-txt", "glove"]))
def test_any_unicode_word_round_trips(tmp_path_factory, words, fmt):
    path = tmp_path_factory.mktemp("rt") / "v"
    vectors = np.random.default_rng(len(words)).normal(size=(len(words), 3)).astype(np.float32)
    KeyedVectors(words, vectors).save(path, format=fmt)
    loaded = KeyedVectors.load(path, format=fmt)
    assert loaded.index_to_key == words
    np.testing.assert_array_equal(loaded.vectors, vectors)


def test_words_with_whitespace_cannot_be_written(tmp_path):
    kv = KeyedVectors(["new york", "b"], np.eye(2, dtype=np.float32))
    with pytest.raises(EmbeddingFormatError, match=r"'new york'.*format='seqlab'"):
        kv.save(tmp_path / "v.txt")
    assert list(tmp_path.iterdir()) == []  # nothing half-written
    kv.save(tmp_path / "v.safetensors")
    assert KeyedVectors.load(tmp_path / "v.safetensors").index_to_key == ["new york", "b"]


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        (b"", None, "empty file"),
        (
            b"2 3\na 1 2 3\nb 1 2\n",
            None,
            r":3: the header says 2 words x 3 dims, but row 2 \('b'\) has 2 values",
        ),
        (b"2 3\na 1 2 3\nb 1 x 3\n", "word2vec-txt", r":3: expected a number .*'x'"),
        (b"3 3\na 1 2 3\nb 1 2 3\n", None, r":4: the header promises 3 words"),
        (b"1 3\na 1 2 3\nb 1 2 3\n", "word2vec-txt", r":3: the header says 1 words but more"),
        (b"a 1 2\nb 1 2 3\n", "glove", r":2: row 1 \('a'\) has 2 values, but row 2 \('b'\) has 3"),
        (b"2 3\n\xff\xfe 1 2 3\nb 1 2 3\n", "word2vec-txt", r":2: word is not valid UTF-8"),
        (b"a b\nc 1 2\n", "word2vec-txt", r":1: expected the header"),
        (
            b"2 3\nab " + np.ones(3, np.float32).tobytes(),
            "word2vec-bin",
            r"word #2 .*expected a word",
        ),
        (b"1 3\nab " + np.ones(2, np.float32).tobytes(), "word2vec-bin", r"expected 3 float32"),
    ],
)
def test_malformed_files_name_the_place(tmp_path, content, fmt, message):
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(EmbeddingFormatError, match=message):
        KeyedVectors.load(path, format=fmt)


def test_undecodable_words_can_be_replaced(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("1 2\ncaf\xe9 1 2\n".encode("latin-1"))
    assert KeyedVectors.load(path, errors="replace").index_to_key == ["caf\ufffd"]


def test_limit_reads_only_the_first_words(kv, tmp_path):
    for fmt in ("word2vec-bin", "word2vec-txt", "glove"):
        kv.save(tmp_path / fmt, format=fmt)
        assert KeyedVectors.load(tmp_path / fmt, format=fmt, limit=2).index_to_key == WORDS[:2]


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="no such vector file"):
        KeyedVectors.load(os.devnull + "-missing")


def test_sniffs_long_text_lines(tmp_path):
    kv = KeyedVectors(["a", "b"], np.random.default_rng(0).normal(size=(2, 9000)))
    kv.save(tmp_path / "wide.txt")  # lines of ~100 kB
    assert sniff_format(tmp_path / "wide.txt") == "word2vec-txt"
    kv.save(tmp_path / "wide.bin")
    assert sniff_format(tmp_path / "wide.bin") == "word2vec-bin"


def test_sniffs_binary_whose_first_vector_begins_with_a_newline_byte(tmp_path):
    # 0x0a, the first byte of this float32, ends the "second line" right after the first word
    first = np.frombuffer(b"\x0a\x1d\x37\xbe", np.float32)[0]
    vectors = np.array([[first, 0.5, -1.0], [0.25, 2.0, 0.0]], np.float32)
    KeyedVectors(["이", "서울"], vectors).save(tmp_path / "v.bin")
    assert sniff_format(tmp_path / "v.bin") == "word2vec-bin"
    kv = KeyedVectors.load(tmp_path / "v.bin")
    assert kv.index_to_key == ["이", "서울"]
    np.testing.assert_array_equal(kv.vectors, vectors)


def test_fasttext_vec_with_trailing_spaces_and_crlf(tmp_path):
    # fastText's own .vec writer ends every line with a space; Windows tools add CR.
    path = tmp_path / "ft.vec"
    path.write_bytes("2 3\r\n</s> 0.1 0.2 0.3 \r\n공부 -1 0 1e-3 \r\n".encode())
    kv = KeyedVectors.load(path)
    assert sniff_format(path) == "fasttext-vec" and kv.index_to_key == ["</s>", "공부"]
    np.testing.assert_array_equal(kv["공부"], np.array([-1, 0, 1e-3], np.float32))
