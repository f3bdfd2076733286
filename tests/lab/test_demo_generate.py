"""The demo's one-to-many section, in quick mode on a tiny names set."""

from seqlab.lab import demo_generate
from seqlab.lab.demo import DemoSettings
from seqlab.lab.report import Report
from seqlab.tasks.classify_data import ClassificationData


def test_the_section_samples_names_and_draws_captioned_scenes(tmp_path):
    rows = [("Kim", 0), ("Park", 0), ("Lee", 0), ("Ivanov", 1), ("Petrov", 1), ("Rossi", 2)]
    names = ClassificationData("names", ("Korean", "Russian", "Italian"), rows, rows, None, "char")
    report = Report("t")
    lines = []
    settings = DemoSettings(out=tmp_path, quick=True, workers=1)
    figures = demo_generate.section(report, settings, lines.append, names=names)
    assert set(figures["names"]["samples"]) == {"Korean", "Russian", "Italian"}
    assert 0 <= figures["shapes"]["bleu"]["bleu4"] <= 1
    assert (tmp_path / "captions.png").stat().st_size > 0
    assert [s.title for s in report.sections] == [
        "One-to-many: a name from a language",
        "One-to-many: a caption of a picture",
    ]
