"""The demo's translation section, in quick mode on a made-up language pair."""

import pytest

from seqlab.lab import demo_translate
from seqlab.lab.demo import DemoSettings
from seqlab.lab.report import Report
from seqlab.tasks import translate_run

WORDS = {"Ein": "A", "Mann": "man", "fährt": "rides", "Fahrrad": "bike", "Zwei": "Two"}


@pytest.fixture
def toy_multi30k(monkeypatch):
    pairs = [
        (" ".join(words) + ".", " ".join(WORDS[w] for w in words) + ".")
        for words in (list(WORDS)[i:] + list(WORDS)[:i] for i in range(len(WORDS)))
    ] * 20
    monkeypatch.setattr(translate_run, "load_split", lambda *args, **kw: pairs)


def test_the_section_translates_and_draws_the_attention(tmp_path, toy_multi30k):
    report, lines = Report("t"), []
    settings = DemoSettings(out=tmp_path, quick=True, workers=1)
    figures = demo_translate.section(report, settings, lines.append)
    assert set(figures["translations"]) == set(demo_translate.EXAMPLES)
    assert 0 <= figures["valid_bleu_greedy"] <= 100
    assert (tmp_path / "translate_attention.png").stat().st_size > 0
    assert [s.title for s in report.sections] == ["Many-to-many with a delay: translation"]
