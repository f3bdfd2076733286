"""The demo's Korean section: a cached recipe model when present, else a quick one."""

import numpy as np

from seqlab.embeddings import KeyedVectors
from seqlab.embeddings.korean import cached_vectors_path
from seqlab.lab import demo_korean
from seqlab.lab.demo import DemoSettings
from seqlab.lab.report import Report


def test_the_cached_model_answers_the_slide(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "cache"))
    words = ["한국", "서울", "일본", "도쿄", "여자", "여왕", "왕", "남자", "공부", "기술"]
    rows = [[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [0, 0, 2],
            [0, 2, 2], [2, 2, 0], [2, 0, 0.1], [1, 1, 1], [1, 1, 0.9]]  # fmt: skip
    path = cached_vectors_path()
    path.parent.mkdir(parents=True)
    KeyedVectors(words, np.array(rows, np.float32)).save(path)
    report = Report("t")
    figures = demo_korean.section(report, DemoSettings(out=tmp_path), lambda *_: None)
    assert "cached model" in figures["vectors"]
    assert [a["first"] for a in figures["analogies"]] == [True, True]
    assert "Korean" in report.sections[0].title


def test_a_quick_model_is_trained_and_says_so(tmp_path, monkeypatch, mirror):
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "cache"))
    lines = []
    figures = demo_korean.section(
        Report("t"), DemoSettings(out=tmp_path, workers=1), lines.append, tokens=20_000
    )
    assert "quick skip-gram" in figures["vectors"] and "analysed now" in figures["vectors"]
    assert len(figures["analogies"]) == 2  # answered, or the unknown word is named
    assert any("→" in line or "unknown" in line or "not" in line for line in lines)
