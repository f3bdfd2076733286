"""Korean morphemes: a tokenizer on kiwipiepy, and the coarse word classes the lecture prints.

Korean glues particles and endings to its words (한국은, 한국의, 서울에서), so whitespace words
are sparse; word vectors are trained on morphemes instead. :class:`KoreanTokenizer` runs the
Kiwi analyser (kiwipiepy, Apache-2.0; its model ships in the ``kiwipiepy-model`` package, so it
works offline), which tags with the Sejong tag set (한국/NNP, 여왕/NNG, 먹/VV). The lecture's
slide prints KoNLPy-Okt classes instead (``일본/Noun``); :data:`SEJONG_TO_CLASS` maps one to the
other, so results can be shown that way without a Java VM.

What a token is, ``token=``:

``"form"``      the morpheme as written (한국, 은, 먹, 었)
``"form/tag"``  with its Sejong tag (한국/NNP, 은/JX)
``"form/class"`` with its coarse class (한국/Noun, 은/Josa)
``"content"``   forms of content morphemes only (nouns, verbs, adjectives, adverbs, roots,
                foreign words): particles, endings, suffixes and punctuation are dropped

Corpora are tokenised by :mod:`seqlab.text.korean_corpus` (streamed, parallel, cached).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator

#: Sejong tag (as Kiwi prints it, without its ``-R``/``-I`` conjugation mark) -> Okt class.
SEJONG_TO_CLASS: dict[str, str] = {
    "NNG": "Noun",  # common noun
    "NNP": "Noun",  # proper noun
    "NNB": "Noun",  # bound noun
    "NR": "Noun",  # numeral
    "NP": "Noun",  # pronoun
    "XR": "Noun",  # root (Okt tags 깨끗 of 깨끗하다 as a noun)
    "VV": "Verb",
    "VX": "Verb",  # auxiliary verb
    "VA": "Adjective",
    "VCP": "Adjective",  # copula 이다 (Okt: Adjective)
    "VCN": "Adjective",  # 아니다
    "MM": "Determiner",
    "MAG": "Adverb",
    "MAJ": "Conjunction",
    "IC": "Exclamation",
    "JKS": "Josa",
    "JKC": "Josa",
    "JKG": "Josa",
    "JKO": "Josa",
    "JKB": "Josa",
    "JKV": "Josa",
    "JKQ": "Josa",
    "JX": "Josa",
    "JC": "Josa",
    "EP": "PreEomi",
    "EF": "Eomi",
    "EC": "Eomi",
    "ETN": "Eomi",
    "ETM": "Eomi",
    "XPN": "Prefix",
    "XSN": "Suffix",
    "XSV": "Suffix",
    "XSA": "Suffix",
    "XSM": "Suffix",
    "SF": "Punctuation",
    "SP": "Punctuation",
    "SS": "Punctuation",
    "SSO": "Punctuation",
    "SSC": "Punctuation",
    "SE": "Punctuation",
    "SO": "Punctuation",
    "SW": "Punctuation",
    "SL": "Alpha",  # Latin letters
    "SH": "Foreign",  # Hanja
    "SN": "Number",
    "SB": "Number",  # list bullet (가., 1.)
    "W_URL": "URL",
    "W_EMAIL": "Email",
    "W_HASHTAG": "Hashtag",
    "W_MENTION": "ScreenName",
    "W_SERIAL": "Number",
    "W_EMOJI": "Punctuation",
}
#: Classes whose morphemes carry meaning (``token="content"``).
CONTENT_CLASSES = frozenset({"Noun", "Verb", "Adjective", "Adverb", "Alpha", "Foreign"})
TOKEN_FORMS = ("form", "form/tag", "form/class", "content")

_HANGUL = re.compile("[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_SPACE = re.compile(r"\s")


class NoHangulError(ValueError):
    """A text to analyse as Korean holds no Hangul at all."""


def coarse_class(tag: str) -> str:
    """The Okt-style class of a Sejong tag (``"Unknown"`` for tags outside the table).

    Examples
    --------
    >>> coarse_class("NNP"), coarse_class("VV-R"), coarse_class("JKO"), coarse_class("UN")
    ('Noun', 'Verb', 'Josa', 'Unknown')
    """
    return SEJONG_TO_CLASS.get(tag.split("-", 1)[0], "Unknown")


def has_hangul(text: str) -> bool:
    """True when ``text`` holds at least one Hangul syllable or letter.

    Examples
    --------
    >>> has_hangul("서울 Seoul"), has_hangul("Seoul")
    (True, False)
    """
    return _HANGUL.search(text) is not None


def format_token(form: str, tag: str, token: str) -> str | None:
    """One analysed morpheme written as ``token`` asks (None: dropped by ``"content"``).

    Whitespace inside a form (rare: Kiwi keeps some Latin phrases whole) becomes ``_``, so that
    a token is always one whitespace-free word in a corpus file.

    Examples
    --------
    >>> [format_token("한국", "NNP", t) for t in TOKEN_FORMS]
    ['한국', '한국/NNP', '한국/Noun', '한국']
    >>> format_token("은", "JX", "content") is None
    True
    """
    form = _SPACE.sub("_", form)
    if token == "form":
        return form
    if token == "form/tag":
        return f"{form}/{tag}"
    klass = coarse_class(tag)
    if token == "form/class":
        return f"{form}/{klass}"
    return form if klass in CONTENT_CLASSES else None


def check_token_form(token: str) -> None:
    """Reject a ``token`` setting outside :data:`TOKEN_FORMS`, naming the valid ones."""
    if token not in TOKEN_FORMS:
        valid = ", ".join(TOKEN_FORMS)
        raise ValueError(f"unknown Korean token form {token!r}: use one of {valid}")


class KoreanTokenizer:
    """Morphemes of Korean text, by Kiwi (kiwipiepy), written as ``token`` asks.

    Parameters
    ----------
    token : {"form", "form/tag", "form/class", "content"}
        What a token is (see the module docstring).
    workers : int
        Threads Kiwi uses when a whole iterable of texts is given (:meth:`tokenize_many`).

    The Kiwi model (about 3 s to load) is loaded on first use and shared by every tokenizer of
    the process with the same ``workers``.

    Examples
    --------
    >>> tok = KoreanTokenizer()                   # doctest: +SKIP
    >>> tok("한국은 서울에서")                      # doctest: +SKIP
    ['한국', '은', '서울', '에서']
    >>> KoreanTokenizer("form/class")("여왕과 왕")  # doctest: +SKIP
    ['여왕/Noun', '과/Josa', '왕/Noun']
    """

    def __init__(self, token: str = "form", workers: int = 1):
        check_token_form(token)
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.token = token
        self.workers = workers

    def __repr__(self) -> str:
        return f"KoreanTokenizer(token={self.token!r}, workers={self.workers})"

    def analyse(self, text: str) -> list[tuple[str, str]]:
        """``(form, Sejong tag)`` of each morpheme of ``text``.

        Raises
        ------
        NoHangulError
            When ``text`` has no Hangul (an English word given to the Korean analyser, say);
            mixed scripts are fine: Latin runs come back tagged ``SL``, digits ``SN``.
        """
        if not has_hangul(text):
            raise NoHangulError(
                f"{text[:40]!r} holds no Hangul: the Korean analyser needs Korean text "
                "(for other languages use WordTokenizer)"
            )
        return [(t.form, t.tag) for t in kiwi(self.workers).tokenize(text)]

    def __call__(self, text: str) -> list[str]:
        """The tokens of ``text`` (see :meth:`analyse` for what is rejected)."""
        tokens = (format_token(f, t, self.token) for f, t in self.analyse(text))
        return [t for t in tokens if t is not None]

    def tokenize_many(self, texts: Iterable[str]) -> Iterator[list[str]]:
        """Tokens of each text, in order, analysed by ``workers`` threads as they stream in.

        Texts without Hangul are analysed too (a corpus has Latin-only lines), not rejected.
        """
        for morphemes in kiwi(self.workers).tokenize(texts):
            tokens = (format_token(t.form, t.tag, self.token) for t in morphemes)
            yield [t for t in tokens if t is not None]


def word_classes(word: str, candidates: int = 5) -> list[str]:
    """The class(es) of ``word`` analysed on its own: one class when some of Kiwi's
    ``candidates`` best analyses reads it as a single morpheme (a vector's word is one), else
    the classes of the best analysis (an eojeol: 밥을 -> Noun, Josa). ``_`` stands for a space
    inside a morpheme (as :func:`format_token` writes it).

    Examples
    --------
    >>> word_classes("여왕"), word_classes("밥을")     # doctest: +SKIP
    (['Noun'], ['Noun', 'Josa'])
    """
    text = word.replace("_", " ")
    if not has_hangul(text):
        raise NoHangulError(f"{word!r} holds no Hangul: no Korean class to give it")
    analyses = kiwi().analyze(text, top_n=candidates)
    for tokens, _score in analyses:
        if len(tokens) == 1 and tokens[0].form == text:
            return [coarse_class(tokens[0].tag)]
    return [coarse_class(t.tag) for t in analyses[0][0]]


_KIWI: dict[int, object] = {}
_KIWI_LOCK = threading.Lock()


def kiwi(workers: int = 1):
    """The process's Kiwi analyser for ``workers`` threads (loaded once, about 3 s)."""
    with _KIWI_LOCK:
        if workers not in _KIWI:
            try:
                from kiwipiepy import Kiwi  # 3 s and 100 MB: loaded only for Korean
            except ImportError as e:  # pragma: no cover - a dependency of seqlab
                raise ImportError(
                    "Korean tokenisation needs kiwipiepy: pip install kiwipiepy kiwipiepy-model"
                ) from e
            _KIWI[workers] = Kiwi(num_workers=workers)
        return _KIWI[workers]


def analyser_version() -> str:
    """``kiwipiepy <version> / model <version>``: part of every corpus cache key."""
    import kiwipiepy
    import kiwipiepy_model

    return f"kiwipiepy {kiwipiepy.__version__} / model {kiwipiepy_model.__version__}"
