"""Vocab: deterministic ids, pruning, specials, encode/decode, JSON, and the streaming file path."""

import json
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab.text import EmptyCorpusError, TextDecodeError, UnknownTokenError, Vocab

CAT = ["the", "cat", "sat", "on", "the", "mat"]


def reference_vocab_order(tokens, min_freq=1):
    """Frequency desc, ties by first occurrence: the order the contract promises."""
    first = {}
    for i, t in enumerate(tokens):
        first.setdefault(t, i)
    counts = Counter(tokens)
    words = [w for w in counts if counts[w] >= min_freq]
    return sorted(words, key=lambda w: (-counts[w], first[w]))


def reference_encode_file(text, vocab, lowercase=False):
    """Plain-Python encode_file: lines by '\\n', tokens by whitespace, unknown words dropped."""
    if lowercase:
        text = text.lower()
    ids, starts = [], []
    for line in text.split("\n"):
        kept = [vocab.stoi[t.decode()] for t in line.encode().split() if t.decode() in vocab.stoi]
        if kept:
            starts.append(len(ids))
            ids.extend(kept)
    return ids, starts


def test_ids_by_frequency_then_first_occurrence():
    v = Vocab.from_iterable([["b", "a", "c", "a"], ["d", "c", "b", "e"]])
    assert v.itos == ["b", "a", "c", "d", "e"]
    assert v.counts.tolist() == [2, 2, 2, 1, 1]
    assert v.counts.dtype == np.int64
    assert v.total == 8
    assert all(v.stoi[w] == i for i, w in enumerate(v.itos))


def test_lecture_vocabulary_is_first_occurrence_order():
    v = Vocab.from_iterable([CAT])
    assert v.itos == ["the", "cat", "sat", "on", "mat"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcdefgh"), max_size=8), min_size=1, max_size=8))
def test_order_matches_reference_and_is_deterministic(sentences):
    flat = [t for s in sentences for t in s]
    if not flat:
        with pytest.raises(EmptyCorpusError):
            Vocab.from_iterable(sentences)
        return
    v = Vocab.from_iterable(sentences)
    assert v.itos == reference_vocab_order(flat)
    assert Vocab.from_iterable(sentences).itos == v.itos


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=30))
def test_decode_encode_round_trip(tokens):
    v = Vocab.from_iterable([tokens], specials=("<pad>", "<unk>", "<bos>", "<eos>"))
    assert v.decode(v.encode(tokens)) == tokens


def test_specials_pad_is_zero_and_counts_zero():
    v = Vocab.from_iterable([CAT], specials=("<unk>", "<eos>", "<pad>"))
    assert v.itos[:3] == ["<pad>", "<unk>", "<eos>"]
    assert v.unk_id == 1
    assert v.counts[:3].tolist() == [0, 0, 0]
    assert v.encode(["dog", "cat"]).tolist() == [1, v.stoi["cat"]]


def test_bos_eos():
    v = Vocab.from_iterable([CAT], specials=("<pad>", "<unk>", "<bos>", "<eos>"))
    ids = v.encode(["the", "cat"], bos=True, eos=True)
    assert v.decode(ids) == ["<bos>", "the", "cat", "<eos>"]
    with pytest.raises(ValueError, match="no <bos>"):
        Vocab.from_iterable([CAT]).encode(["the"], bos=True)


def test_unknown_without_unk_raises_clear_error():
    v = Vocab.from_iterable([CAT])
    with pytest.raises(UnknownTokenError, match=r"dog.*<unk>"):
        v.encode(["the", "dog"])


@pytest.mark.parametrize("from_file", [False, True])
def test_special_in_the_text_stays_special(tmp_path, from_file):
    text = "a <unk> b <unk> a a"  # PTB writes <unk> literally
    if from_file:
        (tmp_path / "ptb.txt").write_text(text, encoding="utf-8")
        v = Vocab.from_file(tmp_path / "ptb.txt", specials=("<pad>", "<unk>"), max_size=3)
    else:
        v = Vocab.from_iterable([text.split()], specials=("<pad>", "<unk>"), max_size=3)
    assert v.itos == ["<pad>", "<unk>", "a"] and v.counts.tolist() == [0, 2, 3]
    assert v.total == 6
    only_specials = Vocab.from_iterable([["<unk>"]], specials=("<unk>",))
    assert only_specials.itos == ["<unk>"] and only_specials.counts.tolist() == [1]


def test_min_freq_and_max_size():
    v = Vocab.from_iterable([CAT], min_freq=2)
    assert v.itos == ["the"] and v.total == 6
    v = Vocab.from_iterable([CAT], max_size=3, specials=("<pad>",))
    assert v.itos == ["<pad>", "the", "cat"]
    with pytest.raises(EmptyCorpusError, match="min_freq"):
        Vocab.from_iterable([CAT], min_freq=3)


def test_empty_and_bad_arguments():
    with pytest.raises(EmptyCorpusError):
        Vocab.from_iterable([])
    with pytest.raises(EmptyCorpusError):
        Vocab.from_iterable([[], []])
    with pytest.raises(TypeError, match="tokenize"):
        Vocab.from_iterable(["a sentence"])
    with pytest.raises(IndexError):
        Vocab.from_iterable([CAT]).decode([99])


def test_korean():
    tokens = ["한국", "서울", "도쿄", "일본", "한국"]
    v = Vocab.from_iterable([tokens], specials=("<pad>", "<unk>"))
    assert v.itos == ["<pad>", "<unk>", "한국", "서울", "도쿄", "일본"]
    assert v.decode(v.encode(tokens)) == tokens


def test_save_load_round_trip(tmp_path):
    v = Vocab.from_iterable([[*CAT, "한국"]], min_freq=1, specials=("<pad>", "<unk>"))
    v.save(tmp_path / "v.json")
    w = Vocab.load(tmp_path / "v.json")
    assert w.itos == v.itos and w.specials == v.specials and w.total == v.total
    assert np.array_equal(w.counts, v.counts) and w.unk_id == v.unk_id
    assert "한국" in (tmp_path / "v.json").read_text(encoding="utf-8")
    (tmp_path / "bad.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="not a seqlab vocabulary"):
        Vocab.load(tmp_path / "bad.json")


# ---------------------------------------------------------------- streaming file path


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 7, 64, 1 << 20])
def test_from_file_matches_from_iterable(tmp_path, chunk_size):
    text = "the cat  sat\n\non the mat\r\n한국 서울\t도쿄 일본 한국\nthe end"
    p = tmp_path / "c.txt"
    p.write_text(text, encoding="utf-8")
    v = Vocab.from_file(p, chunk_size=chunk_size)
    ref = Vocab.from_iterable([text.split()])
    assert v.itos == ref.itos
    assert v.counts.tolist() == ref.counts.tolist()
    assert v.total == len(text.split())


@settings(max_examples=80, deadline=None)
@given(
    text=st.text(alphabet="ab한 \n\t", max_size=60),
    chunk_size=st.integers(1, 9),
    min_freq=st.integers(1, 3),
)
def test_encode_file_matches_reference(tmp_path_factory, text, chunk_size, min_freq):
    text += "\nb"  # at least one known token, else encode_file rightly refuses
    p = tmp_path_factory.mktemp("enc") / "c.txt"
    p.write_text(text, encoding="utf-8")
    vocab_text = text + " ab a b 한" * 3  # ensure a non-empty vocabulary
    q = p.with_name("v.txt")
    q.write_text(vocab_text, encoding="utf-8")
    v = Vocab.from_file(q, min_freq=min_freq, chunk_size=chunk_size)
    ids, starts = v.encode_file(p, chunk_size=chunk_size)
    ref_ids, ref_starts = reference_encode_file(text, v)
    assert ids.dtype == np.int32 and starts.dtype == np.int64
    assert ids.tolist() == ref_ids
    assert starts.tolist() == ref_starts


def test_encode_file_drops_unknown_and_keeps_sentences(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text("The cat sat\nzebra zebra\n\non The mat\n", encoding="utf-8")
    v = Vocab.from_file(p, min_freq=1, lowercase=True)
    assert v.itos[0] == "the" and v.lowercase
    small = Vocab(["the", "cat", "mat"], lowercase=True)
    ids, starts = small.encode_file(p, chunk_size=4)
    assert small.decode(ids) == ["the", "cat", "the", "mat"]
    assert starts.tolist() == [0, 2]


def test_lowercase_is_unicode_aware(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text("ÉCOLE école Straße STRASSE", encoding="utf-8")
    v = Vocab.from_file(p, lowercase=True, chunk_size=3)
    assert v.itos == ["école", "straße", "strasse"] and v.counts.tolist() == [2, 1, 1]


def test_long_single_line_with_tiny_chunks(tmp_path):
    words = [f"w{i % 37}" for i in range(5000)]
    p = tmp_path / "one_line.txt"
    p.write_text(" ".join(words), encoding="utf-8")
    v = Vocab.from_file(p, chunk_size=16)
    assert v.itos == reference_vocab_order(words)
    ids, starts = v.encode_file(p, chunk_size=16)
    assert v.decode(ids) == words and starts.tolist() == [0]


def test_token_longer_than_chunk(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text("a " + "x" * 100 + " b", encoding="utf-8")
    v = Vocab.from_file(p, chunk_size=4)
    assert sorted(v.itos) == sorted(["a", "x" * 100, "b"])


def test_non_utf8_names_file_and_offset(tmp_path):
    p = tmp_path / "latin1.txt"
    p.write_bytes(b"good words here caf\xe9 more")
    with pytest.raises(TextDecodeError, match=r"latin1\.txt.*byte offset 19.*errors='replace'"):
        Vocab.from_file(p, chunk_size=5)
    v = Vocab.from_file(p, errors="replace", chunk_size=5)
    assert "caf\ufffd" in v.stoi
    ids, _ = v.encode_file(p, chunk_size=3)
    assert v.decode(ids)[3] == "caf\ufffd"


def test_empty_file_and_missing_file(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_text(" \n\n\t ", encoding="utf-8")
    with pytest.raises(EmptyCorpusError, match=r"empty\.txt"):
        Vocab.from_file(p)
    with pytest.raises(FileNotFoundError, match="nope"):
        Vocab.from_file(tmp_path / "nope.txt")
    with pytest.raises(ValueError, match="errors="):
        Vocab.from_file(p, errors="ignore")
    v = Vocab(["the"])
    with pytest.raises(EmptyCorpusError, match="no tokens"):
        v.encode_file(p)
    (tmp_path / "other.txt").write_text("cat dog\n", encoding="utf-8")
    with pytest.raises(EmptyCorpusError, match="none of its 2 tokens"):
        v.encode_file(tmp_path / "other.txt")


def test_read_pieces_stay_bounded_on_one_long_line(tmp_path):
    from seqlab.text.reader import read_pieces

    p = tmp_path / "line.txt"
    p.write_bytes(b" ".join(b"word%d" % (i % 100) for i in range(20000)))  # one ~150 kB line
    pieces = list(read_pieces(p, chunk_size=64))
    assert max(map(len, pieces)) <= 64 + len(b"word99")  # a chunk plus at most a carried token
    assert b"".join(pieces) == p.read_bytes()


def test_utf8_bom_is_skipped_and_offsets_stay_true(tmp_path):
    p = tmp_path / "bom.txt"
    p.write_bytes(b"\xef\xbb\xbfhello world \xff")
    v = Vocab.from_file(p, errors="replace")
    assert v.itos == ["hello", "world", "\ufffd"]
    with pytest.raises(TextDecodeError, match="byte offset 15"):
        Vocab.from_file(p, chunk_size=4)
