"""seqlab.tasks.run_record: one rule for resuming a run on the same ``out``, for every task."""

import dataclasses
import json

import pytest

from seqlab.tasks import run_record


@dataclasses.dataclass
class Config:
    hidden: int = 16
    epochs: int = 3
    patience: int | None = None


def run_of(**settings) -> dict:
    return {"config": dataclasses.asdict(Config(**settings)), "source": "ptb"}


def test_nothing_to_check_on_a_new_out(tmp_path):
    run_record.check(tmp_path / "new", run_of(), ValueError)


def test_same_run_resumes_and_resumable_settings_may_change(tmp_path):
    run_record.write(tmp_path, run_of())
    run_record.check(tmp_path, run_of(epochs=9), ValueError)
    run_record.check(tmp_path, run_of(patience=2), ValueError, ("epochs", "patience"))


def test_other_settings_or_data_are_named(tmp_path):
    run_record.write(tmp_path, run_of())
    with pytest.raises(ValueError, match=r"hidden: 16 -> 8.*only --epochs may change"):
        run_record.check(tmp_path, run_of(hidden=8), ValueError)
    with pytest.raises(ValueError, match=r"source: ptb -> wiki"):
        run_record.check(tmp_path, {**run_of(), "source": "wiki"}, ValueError)
    with pytest.raises(ValueError, match=r"only --epochs and --patience may change"):
        run_record.check(tmp_path, run_of(hidden=8), ValueError, ("epochs", "patience"))


def test_a_setting_added_since_counts_as_its_default(tmp_path):
    old = run_of()
    del old["config"]["patience"]  # saved before the setting existed
    run_record.write(tmp_path, old)
    defaults = run_record.defaults_of(Config)
    run_record.check(tmp_path, run_of(), ValueError, defaults=defaults)
    with pytest.raises(ValueError, match="patience: None -> 4"):
        run_record.check(tmp_path, run_of(patience=4), ValueError, defaults=defaults)


def test_an_unreadable_record_says_so(tmp_path):
    (tmp_path / run_record.RUN_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="cannot be read"):
        run_record.check(tmp_path, run_of(), ValueError)
    (tmp_path / run_record.RUN_FILE).write_text(json.dumps([1]), encoding="utf-8")
    with pytest.raises(ValueError, match="not a run record"):
        run_record.check(tmp_path, run_of(), ValueError)
