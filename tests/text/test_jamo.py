"""Hangul syllables <-> jamo letters: known decompositions and round trips."""

from hypothesis import given
from hypothesis import strategies as st

from seqlab.text.jamo import EMPTY_FINAL, compose, decompose


def test_every_syllable_is_three_letters():
    assert decompose("한") == "ㅎㅏㄴ"
    assert decompose("가") == "ㄱㅏ" + EMPTY_FINAL
    assert decompose("닭") == "ㄷㅏㄺ"  # a double final consonant is one letter
    assert decompose("밥을") == "ㅂㅏㅂㅇㅡㄹ"


def test_first_and_last_syllables_of_the_block():
    assert decompose("\uac00") == "ㄱㅏ" + EMPTY_FINAL
    assert decompose("\ud7a3") == "ㅎㅣㅎ"
    assert compose(decompose("\uac00\ud7a3")) == "\uac00\ud7a3"


def test_other_characters_pass_through():
    assert decompose("K-pop 2024!") == "K-pop 2024!"
    assert decompose("서울Seoul") == "ㅅㅓ" + EMPTY_FINAL + "ㅇㅜㄹSeoul"


syllables_and_ascii = st.text(
    alphabet=st.one_of(st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),
                       st.characters(min_codepoint=0x20, max_codepoint=0x7E)),
    max_size=30,
)  # fmt: skip


@given(syllables_and_ascii)
def test_round_trip(text):
    letters = decompose(text)
    assert compose(letters) == text
    hangul = sum(0xAC00 <= ord(c) <= 0xD7A3 for c in text)
    assert len(letters) == len(text) + 2 * hangul
