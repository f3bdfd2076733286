"""Korean morphemes: tags and their classes, token forms, and the cached corpus builder."""

import gzip

import pytest

from seqlab.text.korean import (
    SEJONG_TO_CLASS,
    KoreanTokenizer,
    NoHangulError,
    coarse_class,
    format_token,
)
from seqlab.text.korean_corpus import build_korean_corpus, read_paragraphs
from seqlab.text.reader import TextDecodeError


def test_sejong_tags_map_to_the_slide_classes():
    assert [coarse_class(t) for t in ("NNG", "NNP", "NNB", "NP", "NR")] == ["Noun"] * 5
    assert coarse_class("VV") == "Verb" and coarse_class("VV-I") == "Verb"  # irregular mark
    assert coarse_class("VA-R") == "Adjective"
    assert coarse_class("JKO") == "Josa" and coarse_class("EF") == "Eomi"
    assert coarse_class("MAG") == "Adverb" and coarse_class("SL") == "Alpha"
    assert coarse_class("UN") == "Unknown"
    assert set(SEJONG_TO_CLASS.values()) >= {"Noun", "Verb", "Adjective", "Josa", "Eomi"}


def test_token_forms():
    assert format_token("여왕", "NNG", "form") == "여왕"
    assert format_token("여왕", "NNG", "form/tag") == "여왕/NNG"
    assert format_token("여왕", "NNG", "form/class") == "여왕/Noun"
    assert format_token("을", "JKO", "content") is None
    assert format_token("먹", "VV", "content") == "먹"
    assert format_token("New York", "SL", "form") == "New_York"  # one token, no space
    with pytest.raises(ValueError, match="form/class"):
        KoreanTokenizer("lemma")


def test_the_analyser_splits_particles_and_tags_nouns():
    assert KoreanTokenizer()("한국은 서울에서") == ["한국", "은", "서울", "에서"]
    assert KoreanTokenizer("form/class")("여왕과 왕") == ["여왕/Noun", "과/Josa", "왕/Noun"]
    content = KoreanTokenizer("content")("밥을 먹었습니다.")
    assert content == ["밥", "먹"]


def test_mixed_scripts_and_no_hangul():
    assert "Seoul" in KoreanTokenizer()("서울(Seoul)은 수도이다")
    with pytest.raises(NoHangulError, match="no Hangul"):
        KoreanTokenizer()("only English here")


def test_tokenize_many_streams_in_order():
    texts = ["한국", "Seoul 2024", "도쿄"]
    assert list(KoreanTokenizer(workers=1).tokenize_many(iter(texts))) == [
        ["한국"],
        ["Seoul", "2024"],
        ["도쿄"],
    ]


def _write(path, text, gz=False):
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


DOC = '<doc id="1" url="u" title="t">\n서울\n\n한국의 수도는 서울이다.\n</doc>\n'


def test_markup_and_blank_lines_are_skipped(tmp_path):
    path = _write(tmp_path / "a.txt.gz", DOC, gz=True)
    assert list(read_paragraphs(path)) == ["서울", "한국의 수도는 서울이다."]


def test_corpus_is_built_once_and_every_form_reuses_the_analysis(tmp_path, monkeypatch):
    a = _write(tmp_path / "a.txt", DOC)
    b = _write(tmp_path / "b.txt", "도쿄는 일본의 수도이다.\n")
    build = build_korean_corpus([a, b], tmp_path / "cache", progress=False, workers=1)
    assert build.characters_analysed > 0 and build.lines == 3
    assert build.path.read_text(encoding="utf-8").splitlines()[2].startswith("도쿄 는 일본 의")
    assert not list((tmp_path / "cache").glob("*.part")) and not list(
        (tmp_path / "cache").glob(".*")
    )

    import seqlab.text.korean_corpus as kc

    def no_analysis(*args):
        raise AssertionError("analysed again")

    monkeypatch.setattr(kc, "_analyse", no_analysis)
    again = build_korean_corpus([a, b], tmp_path / "cache", progress=False, workers=1)
    assert again.path == build.path and again.characters_analysed == 0
    tagged = build_korean_corpus(
        [a, b], tmp_path / "cache", token="form/class", progress=False, workers=1
    )
    assert "서울/Noun" in tagged.path.read_text(encoding="utf-8").split()


def test_an_interrupted_build_keeps_finished_parts(tmp_path, monkeypatch):
    a = _write(tmp_path / "a.txt", DOC)
    b = _write(tmp_path / "b.txt", "도쿄는 일본의 수도이다.\n")
    build_korean_corpus([a], tmp_path / "cache", progress=False, workers=1)
    import seqlab.text.korean_corpus as kc

    analysed = []
    real = kc._analyse
    monkeypatch.setattr(kc, "_analyse", lambda s, *rest: analysed.append(s.name) or real(s, *rest))
    build_korean_corpus([a, b], tmp_path / "cache", progress=False, workers=1)
    assert analysed == ["b.txt"]


def test_bad_corpora_are_named(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes("한국\n".encode() + b"\xff\xfe\n")
    with pytest.raises(TextDecodeError, match=r"bad\.txt:2"):
        build_korean_corpus([bad], tmp_path / "cache", progress=False, workers=1)
    english = _write(tmp_path / "en.txt", "only English text\n" * 10)
    with pytest.raises(NoHangulError, match="no Hangul"):
        build_korean_corpus([english], tmp_path / "cache", progress=False, workers=1)
    with pytest.raises(FileNotFoundError):
        build_korean_corpus(
            [tmp_path / "missing.txt"], tmp_path / "cache", progress=False, workers=1
        )
    assert not list((tmp_path / "cache").glob("*")) if (tmp_path / "cache").exists() else True
