"""Korean word vectors: looking words up, printing analogies as the slide does, scoring them.

Vectors trained on Korean morphemes (``seqlab embed train kowiki_extract --lang ko``) hold
morphemes: 한국, 서울, 을, 먹. Three things differ from English:

- **Printing.** The lecture's slide shows each word with its coarse class:
  ``+한국/Noun +도쿄/Noun −서울/Noun → 일본/Noun``. :func:`tagged` finds the class by analysing
  the word alone with Kiwi (:mod:`seqlab.text.korean`); vectors trained on ``form/class`` tokens
  already carry it.
- **Looking up.** A word is found as written; in ``form/class`` vectors by its form (the most
  frequent class wins); in fastText vectors built from subwords an unseen word (an eojeol such as
  밥을) gets a vector from its letters. Otherwise :func:`lookup` says how the analyser splits the
  word, so that its morphemes can be asked for instead.
- **Scoring.** kor2vec's syntactic analogies are whole eojeols (밥 : 밥을 = 물 : 물을), absent
  from a morpheme vocabulary. For vectors with subwords every word of the test set gets a vector
  and joins the candidates (:func:`with_test_words`); the number of questions answered is
  printed with every score.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from seqlab import data
from seqlab.embeddings.evaluate import (
    AnalogyResult,
    PairsResult,
    evaluate_analogies,
    evaluate_pairs,
    evaluation_file,
    read_analogies,
    read_pairs,
)
from seqlab.embeddings.keyedvectors import KeyedVectors, UnknownWordError
from seqlab.text.korean import KoreanTokenizer, NoHangulError, coarse_class, word_classes

#: ``seqlab embed eval --lang ko`` scores these: kor2vec's analogies and WS-353 (in the mirror).
KOREAN_DEFAULT_SETS = ("kor2vec_semantic", "kor2vec_syntactic", "kor2vec_ws353")
#: The slide's analogies, as (a, b, c, expected): a − b + c → expected.
SLIDE_ANALOGIES = (("한국", "서울", "도쿄", "일본"), ("여자", "여왕", "왕", "남자"))
#: The slide's nearest-word queries (공부 "study", 기술 "skill").
SLIDE_NEAREST = ("공부", "기술")


def cached_vectors_path() -> Path:
    """Where the demo looks for the documented recipe's vectors of kowiki_extract.

    ``seqlab embed train kowiki_extract --lang ko --out`` this path puts them there.
    """
    return data.cache_root() / "kowiki_extract" / "vectors" / "ko-skipgram.bin"


def has_subwords(kv: KeyedVectors) -> bool:
    """True when ``kv`` builds vectors for unseen words (fastText with its n-grams)."""
    return len(getattr(kv, "ngram_buckets", ())) > 0


def is_tagged(kv: KeyedVectors) -> bool:
    """True when the vectors' words carry a tag (``일본/Noun``, ``일본/NNP``)."""
    head = kv.index_to_key[:100]
    return bool(head) and sum("/" in w[1:] for w in head) > len(head) // 2


def untagged(kv: KeyedVectors) -> KeyedVectors:
    """``form/tag`` vectors keyed by form: each form takes the row of its most frequent tag.

    Examples
    --------
    >>> kv = KeyedVectors(["이/JKS", "일본/Noun", "이/VCP"], np.eye(3, dtype=np.float32))
    >>> untagged(kv).index_to_key
    ['이', '일본']
    """
    rows: dict[str, int] = {}
    for i, word in enumerate(kv.index_to_key):
        rows.setdefault(word.rpartition("/")[0] or word, i)  # words are ordered by frequency
    index = np.fromiter(rows.values(), np.int64, len(rows))
    counts = None if kv.counts is None else kv.counts[index]
    return KeyedVectors(list(rows), kv.vectors[index], counts, check_finite=False)


def tagged(word: str) -> str:
    """``word/Class`` as the slide prints it (:func:`~seqlab.text.korean.word_classes`; several
    classes joined by ``+`` for an eojeol).

    A word that already carries a tag, or holds no Hangul, is returned as it is.

    Examples
    --------
    >>> tagged("일본/Noun")
    '일본/Noun'
    >>> tagged("도쿄")                                   # doctest: +SKIP
    '도쿄/Noun'
    >>> tagged("밥을")                                   # doctest: +SKIP
    '밥을/Noun+Josa'
    """
    if "/" in word[1:]:
        return word
    try:
        return f"{word}/{'+'.join(word_classes(word))}"
    except NoHangulError:
        return word


def slide_analogy(a: str, b: str, c: str, answers: Sequence[tuple[str, float]]) -> str:
    """The analogy ``a − b + c`` and its best answer, written as the lecture's slide does.

    Examples
    --------
    >>> slide_analogy("한국/Noun", "서울/Noun", "도쿄/Noun", [("일본/Noun", 0.83)])
    '+한국/Noun +도쿄/Noun −서울/Noun → 일본/Noun'
    """
    best = tagged(answers[0][0]) if answers else "(no answer)"
    return f"+{tagged(a)} +{tagged(c)} −{tagged(b)} → {best}"


def lookup(kv: KeyedVectors, word: str) -> str:
    """The key under which ``kv`` answers for ``word`` (see the module docstring).

    Raises
    ------
    UnknownWordError
        With the analyser's split of the word, or a note that it holds no Hangul.
    """
    if word in kv or has_subwords(kv):
        return word
    try:
        morphemes = KoreanTokenizer().analyse(word)
    except NoHangulError:
        raise UnknownWordError([word], len(kv)) from None
    parts = " + ".join(f"{form}/{coarse_class(tag)}" for form, tag in morphemes)
    known = [form for form, _ in morphemes if form in kv]
    hint = (
        f"; ask for its morphemes ({', '.join(known)}) instead"
        if len(morphemes) > 1 and known
        else "; it does not occur often enough in the corpus (lower --min-count when training)"
    )
    raise UnknownWordError(
        [f"{word} (the analyser reads it as {parts}: the vectors hold morphemes{hint})"], len(kv)
    )


def with_test_words(
    kv: KeyedVectors, words: Iterable[str], restrict_vocab: int
) -> tuple[KeyedVectors, int]:
    """The first ``restrict_vocab`` words of ``kv`` plus the test ``words`` outside them.

    The added words take the vectors ``kv`` gives them: from their subwords when unseen, their
    own row when they are further down the vocabulary. Returns the vectors and how many words
    were added.

    Examples
    --------
    >>> kv = KeyedVectors(["밥", "물", "을"], np.eye(3, dtype=np.float32))
    >>> ext, added = with_test_words(kv, ["물", "을", "밥을"], restrict_vocab=1)
    >>> ext.index_to_key, added
    (['밥', '물', '을'], 2)
    """
    keys = list(kv.index_to_key[:restrict_vocab])
    known = set(keys)
    extra, rows = [], []
    for word in dict.fromkeys(words):
        if word in known:
            continue
        try:
            rows.append(kv.get_vector(word))
        except KeyError:
            continue
        extra.append(word)
    vectors = kv.vectors[: len(keys)]
    if extra:
        vectors = np.vstack([vectors, np.stack(rows)])
    return KeyedVectors(keys + extra, vectors, check_finite=False), len(extra)


def evaluate_korean_set(
    kv: KeyedVectors,
    name: str,
    kind: str,
    restrict_vocab: int = 30000,
    case_insensitive: bool = True,
    method: str = "3cosadd",
) -> AnalogyResult | PairsResult:
    """Score ``kv`` on one Korean set (``"kor2vec_semantic"``, ``"kor2vec_ws353"``, or a file).

    ``kind`` is ``"analogies"`` or ``"pairs"``.

    Tagged vectors are looked up by form (:func:`untagged`); vectors with subwords answer every
    test word (:func:`with_test_words`), and the settings printed with the score say how many
    words were added that way.
    """
    path = evaluation_file(name)
    is_pairs = kind == "pairs"
    if is_tagged(kv):
        kv = untagged(kv)
    added = None
    if has_subwords(kv):
        if is_pairs:
            words = [w for w1, w2, _ in read_pairs(path) for w in (w1, w2)]
        else:
            words = [w for _, quads in read_analogies(path) for quad in quads for w in quad]
        kv, added = with_test_words(kv, words, restrict_vocab)
        restrict = len(kv)
    else:
        restrict = restrict_vocab
    if is_pairs:
        result = evaluate_pairs(kv, path, restrict, case_insensitive)
    else:
        result = evaluate_analogies(kv, path, restrict, case_insensitive, method)
    result.settings["restrict_vocab"] = restrict_vocab
    if added is not None:
        result.settings["test_words_from_subwords"] = added
    return result
