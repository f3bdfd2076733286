"""The numba token table agrees with bytes.split + Counter, including while it grows."""

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab.text.token_table import TokenTable

WORDS = st.lists(st.sampled_from([b"a", b"b", b"ab", b"ba", b"\xed\x95\x9c", b"xyz" * 5]))


@settings(max_examples=60, deadline=None)
@given(pieces=st.lists(st.lists(WORDS.map(b" ".join), max_size=4).map(b"\n".join), max_size=5))
def test_counts_match_counter_in_first_occurrence_order(pieces):
    table = TokenTable(slots=16, arena=4)  # tiny: forces the table and the arena to grow
    n = sum(table.count(p + b" ") for p in pieces)
    reference = Counter(t for p in pieces for t in p.split())
    assert n == sum(reference.values())
    assert table.words() == list(reference)
    assert table.counts.tolist() == list(reference.values())


def test_many_distinct_words_grow_the_table():
    words = [f"w{i}".encode() for i in range(5000)]
    table = TokenTable(slots=16, arena=8)
    table.count(b" ".join(words + words[::-1]))
    assert table.n_words == 5000 and table.words() == words
    assert table.find(b"w4321") == 4321 and table.find(b"w5000") == -1 and table.find(b"") == -1
    assert (table.counts == 2).all()


def test_encode_drops_unmapped_and_marks_line_starts():
    table = TokenTable()
    table.count(b"the cat mat")
    ids_of = np.array([10, -1, 12], dtype=np.int32)  # "cat" is not emitted
    ids, starts, line_open, n = table.encode(b"the dog\ncat\n\nmat the", ids_of, False)
    assert ids.tolist() == [10, 12, 10] and starts.tolist() == [0, 1]
    assert line_open and n == 5
    ids, starts, line_open, _ = table.encode(b"mat\n", ids_of, line_open)  # continues the line
    assert ids.tolist() == [12] and starts.tolist() == [] and not line_open
