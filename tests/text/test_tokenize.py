"""Tokenizers: Unicode words, characters, and the text8 normalization."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab.text import CharTokenizer, EmptyCorpusError, Text8Tokenizer, WordTokenizer


def test_word_tokenizer_splits_punctuation_and_digits():
    assert WordTokenizer()("Hello, world! It's 2024.") == [
        "Hello", ",", "world", "!", "It", "'", "s", "2024", ".",
    ]  # fmt: skip


def test_word_tokenizer_korean_and_other_scripts():
    assert WordTokenizer()("한국 서울 도쿄 일본") == ["한국", "서울", "도쿄", "일본"]
    assert WordTokenizer()("서울은 한국의 수도다.") == ["서울은", "한국의", "수도다", "."]
    # combining marks stay inside the word (Devanagari vowel signs, decomposed accents)
    assert WordTokenizer()("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]
    assert WordTokenizer()("e\u0301cole") == ["e\u0301cole"]
    assert WordTokenizer()("Москва—столица") == ["Москва", "—", "столица"]


def test_word_tokenizer_lowercase():
    assert WordTokenizer(lowercase=True)("The CAT Ünï 한국") == ["the", "cat", "ünï", "한국"]


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_word_tokens_cover_all_non_space_characters(text):
    tokens = WordTokenizer()(text)
    assert "".join(tokens) == "".join(text.split())
    assert all(t and not any(c.isspace() for c in t) for t in tokens)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_char_tokenizer_round_trip(text):
    assert "".join(CharTokenizer()(text)) == text
    assert CharTokenizer(lowercase=True)(text) == list(text.lower())


def test_text8():
    t8 = Text8Tokenizer()
    assert t8("Hello, World! Café 42 o'clock\n한국") == ["hello", "world", "caf", "o", "clock"]
    assert t8.normalize("  The END.  ") == "the end"


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_text8_output_is_only_az_words(text):
    tokens = Text8Tokenizer()(text)
    assert all(t and set(t) <= set("abcdefghijklmnopqrstuvwxyz") for t in tokens)


@pytest.mark.parametrize("chunk_size", [1, 3, 1 << 20])
def test_text8_normalize_file(tmp_path, chunk_size):
    text = "The Cat, sat!\nOn the MAT — 한국 42 times.\n"
    src, dst = tmp_path / "in.txt", tmp_path / "out.txt"
    src.write_text(text, encoding="utf-8")
    n = Text8Tokenizer().normalize_file(src, dst, chunk_size=chunk_size)
    assert dst.read_text() == Text8Tokenizer().normalize(text)
    assert n == len(dst.read_text().split())


def test_text8_normalize_file_empty(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("42 한국 !!", encoding="utf-8")
    with pytest.raises(EmptyCorpusError, match="a-z"):
        Text8Tokenizer().normalize_file(src, tmp_path / "out.txt")
    assert not (tmp_path / "out.txt").exists()
