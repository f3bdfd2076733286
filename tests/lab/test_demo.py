"""`seqlab demo --quick` end to end on the dataset mirror: the report exists, is
self-contained, and its numbers are present and sane."""

import html
import json
import math

import pytest
from click.testing import CliRunner

from seqlab.cli.main import main
from seqlab.lab import EXPERIMENTS
from seqlab.lab.demo_sections import SECTIONS

from .findings import assert_finding_follows_the_table


def stand_in_section(report, settings, echo):
    """A task section as the demo sees one; the real sections have tests of their own."""
    echo("stand-in task trained")
    report.section("Stand-in task", "What a task section adds.").text("It ran.")
    return {"quick": settings.quick, "seed": settings.seed}


@pytest.fixture(scope="module")
def demo_out(mirror, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    # a tiny corpus slice and one stand-in task section keep the test short; the rest is the
    # real quick demo
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "seqlab.lab.demo.SECTIONS", [("stand-in", "a stand-in task", stand_in_section)]
        )
        result = CliRunner().invoke(
            main, ["demo", "--quick", "--tokens", "300000", "--out", str(out)]
        )
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.fixture(scope="module")
def report(demo_out):
    return json.loads((demo_out[0] / "report.json").read_text(encoding="utf-8"))


def test_progress_is_shown(demo_out):
    output = demo_out[1]
    steps = 2 + len(EXPERIMENTS) + 1
    assert f"[1/{steps}] datasets" in output
    assert f"[{2 + len(EXPERIMENTS)}/{steps}] experiment" in output
    assert f"[{steps}/{steps}] a stand-in task\nstand-in task trained" in output
    assert "report.html" in output


def test_task_sections_are_listed_and_reported(report, demo_out):
    assert [key for key, _, _ in SECTIONS] == [
        "classify", "korean", "lm", "generate", "translate"
    ]  # fmt: skip
    assert report["tasks"] == {"stand-in": {"quick": True, "seed": 0}}
    assert "<h2>Stand-in task</h2>" in (demo_out[0] / "report.html").read_text(encoding="utf-8")
    assert "stand-in" in report["seconds"]


def test_report_html_is_self_contained(demo_out):
    page = (demo_out[0] / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == len(EXPERIMENTS)
    assert 'src="http' not in page and "<link" not in page and "<script" not in page


def test_dataset_figures_are_present_and_sane(report, mirror):
    datasets = report["datasets"]
    assert {"ptb", "sst2", "google_analogy"} <= set(datasets)
    assert datasets["ptb"]["splits"]["train"]["tokens"] == 929_589
    balance = datasets["sst2"]["splits"]["train"]["balance"]
    assert sum(balance.values()) == datasets["sst2"]["splits"]["train"]["examples"] == 67_349
    for name, figures in datasets.items():
        assert "error" not in figures, name
        assert figures["bytes"] > 0, name


def test_embeddings_answer_the_lecture_queries(report):
    emb = report["embeddings"]
    assert emb["corpus"] in ("text8", "wiki_text8")
    assert emb["tokens"] == 300_000 and emb["epochs"] == 3
    assert emb["vocab"] > 1000 and emb["vector_size"] == 100
    assert all(math.isfinite(loss) and loss > 0 for loss in emb["loss_history"])
    for word in ("study", "skill"):
        entry = emb["nearest"][word]
        if "missing" in entry:
            assert word in entry["note"]
        else:
            assert len(entry["nearest"]) == 10
            assert all(-1.0 <= c <= 1.0 + 1e-6 and w != word for w, c in entry["nearest"])
    queries = [a["query"] for a in emb["analogies"]]
    assert queries == ["king − man + woman", "woman − queen + king", "korea − seoul + tokyo"]
    for a in emb["analogies"]:
        assert ("answers" in a) != ("missing" in a)  # answered, or said plainly what is missing
    if "google analogy" in emb["benchmarks"]:
        assert 0.0 <= emb["benchmarks"]["google analogy"]["score"] <= 1.0


def test_every_experiment_ran_in_quick_mode(report, demo_out):
    experiments = report["experiments"]
    assert set(experiments) == set(EXPERIMENTS)
    for name, result in experiments.items():
        assert result["quick"] is True, name
        assert result["rows"] and result["checks"], name
        assert (demo_out[0] / "lab" / f"{name}.png").is_file()
    onehot = experiments["onehot-vs-embedding"]["numbers"]
    assert onehot["onehot"]["distinct_distances"] == [1.4142]
    assert onehot["onehot"]["bytes_per_token"] == 4 * onehot["onehot"]["dimensions"]
    assert onehot["onehot"]["dimensions"] >= onehot["model_vocab"]
    assert experiments["relu-explosion"]["checks"][
        "tanh and sigmoid stay bounded (‖h_t‖ ≤ √H at every gain and step)"
    ]
    assert report["seconds"]["total"] > 0


def test_results_come_before_the_dataset_tables(demo_out):
    page = (demo_out[0] / "report.html").read_text(encoding="utf-8")
    headings = [page.index(f"<h2>{h}") for h in ("Results at a glance", "Word embeddings")]
    headings += [page.index(f"<h2>Experiment {name}</h2>") for name in EXPERIMENTS]
    datasets = page.index("<h2>Datasets</h2>")
    assert max(headings) < datasets
    assert page.index("Overview: tokens and examples") > datasets  # the tables follow it


def test_every_experiment_says_what_its_run_showed(report, demo_out):
    page = (demo_out[0] / "report.html").read_text(encoding="utf-8")
    for name, result in report["experiments"].items():
        assert result["finding"], name
        assert html.escape(result["finding"]) in page, name
    long_range_result = report["experiments"]["long-range"]
    assert_finding_follows_the_table(long_range_result)
