"""Corpus streaming: bounded reads, words cut by the read limit, long lines chunked, <eos>."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab.data import corpora
from seqlab.data.corpora import Corpus

WORDS = st.text(st.sampled_from(list("ab é\t")), max_size=25)


def expected(lines: list[str], eos: str | None, max_len: int) -> list[list[str]]:
    out = []
    for line in lines:
        tokens = line.split() + ([eos] if eos else [])
        out += [tokens[i : i + max_len] for i in range(0, len(tokens), max_len)]
    return out


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(WORDS, max_size=12),
    eos=st.sampled_from([None, "<eos>"]),
    max_len=st.integers(1, 6),
    read=st.integers(1, 9),
    final_newline=st.booleans(),
)
def test_sentences_match_line_split(tmp_path_factory, lines, eos, max_len, read, final_newline):
    path = tmp_path_factory.mktemp("c") / "c.txt"
    text = "\n".join(lines) + ("\n" if final_newline and lines else "")
    path.write_text(text, encoding="utf-8")
    corpus = Corpus("toy", (path,), eos=eos, max_sentence=max_len)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(corpora, "READ_CHARS", read)  # force words cut across reads
        file_lines = text.split("\n")
        if not file_lines[-1]:  # nothing after the last line break: not a line
            file_lines.pop()
        assert list(corpus) == expected(file_lines, eos, max_len)


def test_gzip_parts_are_read_in_order_and_markup_skipped(tmp_path):
    a, b = tmp_path / "a.txt.gz", tmp_path / "b.txt"
    a.write_bytes(gzip.compress(b'<doc id="1">\nTitle\n\nFirst line.\n</doc>\n'))
    b.write_text('<doc id="2">\nSecond one\n</doc>\n')
    corpus = Corpus("toy", (a, b), skip_markup=True)
    assert list(corpus) == [["Title"], ["First", "line."], ["Second", "one"]]
    assert list(corpus.lines()) == ["Title", "", "First line.", "Second one"]
    assert Corpus("one", (b,)).path == b
