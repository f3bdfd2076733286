"""Hangul syllables <-> jamo letters, the subword unit of Korean fastText (Park et al. 2018).

A Hangul syllable block (U+AC00-U+D7A3) is an initial consonant, a vowel and an optional final
consonant: ``한`` = ``ㅎ ㅏ ㄴ``, ``가`` = ``ㄱ ㅏ`` + no final. Park, Byun, Baek, Cho & Oh
("Subword-level Word Vector Representations for Korean", ACL 2018) train fastText on these
letters, writing every syllable as exactly three symbols with a marker for a missing final
(they use ``e``; seqlab uses :data:`EMPTY_FINAL`, which no Korean or Latin text contains), so
that character n-grams of the letters line up with syllables: a 3-gram is one syllable, a
6-gram two. Eojeols that share a stem or a particle (밥을, 물을) then share n-grams.

Letters are written as Hangul *compatibility* jamo (ㄱ, ㅏ: U+3131-U+318E), the form people type
and terminals show. Characters that are not syllable blocks pass through unchanged, so
``compose(decompose(s)) == s`` for every ``s`` without compatibility jamo or the marker in it.
"""

from __future__ import annotations

_SYLLABLE_BASE = 0xAC00
_SYLLABLE_LAST = 0xD7A3
#: Marker for a syllable without a final consonant.
EMPTY_FINAL = "∅"
INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
VOWELS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
FINALS = (EMPTY_FINAL, *"ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ")
_INITIAL_INDEX = {c: i for i, c in enumerate(INITIALS)}
_VOWEL_INDEX = {c: i for i, c in enumerate(VOWELS)}
_FINAL_INDEX = {c: i for i, c in enumerate(FINALS)}


def decompose(text: str) -> str:
    """Each Hangul syllable of ``text`` as three letters (initial, vowel, final or marker).

    Examples
    --------
    >>> decompose("한국어")
    'ㅎㅏㄴㄱㅜㄱㅇㅓ∅'
    >>> decompose("밥을 K-pop")
    'ㅂㅏㅂㅇㅡㄹ K-pop'
    """
    out = []
    for char in text:
        code = ord(char) - _SYLLABLE_BASE
        if 0 <= code <= _SYLLABLE_LAST - _SYLLABLE_BASE:
            initial, rest = divmod(code, 21 * 28)
            vowel, final = divmod(rest, 28)
            out.append(INITIALS[initial] + VOWELS[vowel] + FINALS[final])
        else:
            out.append(char)
    return "".join(out)


def compose(letters: str) -> str:
    """The inverse of :func:`decompose`: every initial-vowel-final triple becomes a syllable.

    Examples
    --------
    >>> compose("ㅎㅏㄴㄱㅜㄱㅇㅓ∅")
    '한국어'
    >>> compose(decompose("여왕과 king")) == "여왕과 king"
    True
    """
    out, i = [], 0
    while i < len(letters):
        triple = letters[i : i + 3]
        if (
            len(triple) == 3
            and triple[0] in _INITIAL_INDEX
            and triple[1] in _VOWEL_INDEX
            and triple[2] in _FINAL_INDEX
        ):
            initial, vowel, final = (
                _INITIAL_INDEX[triple[0]],
                _VOWEL_INDEX[triple[1]],
                _FINAL_INDEX[triple[2]],
            )
            out.append(chr(_SYLLABLE_BASE + (initial * 21 + vowel) * 28 + final))
            i += 3
        else:
            out.append(letters[i])
            i += 1
    return "".join(out)
