"""``summarize`` figures and the ``seqlab data`` commands (list, info, fetch, --help)."""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner

from seqlab import data
from seqlab.cli.main import main
from seqlab.data import registry
from seqlab.data.spec import RemoteArchive


def test_summarize_counts_from_the_files(on_mirror, cache):
    ptb = data.summarize("ptb")
    assert [ptb["splits"][s]["tokens"] for s in ("train", "valid", "test")] == [
        929_589,
        73_760,
        82_430,
    ]
    assert ptb["splits"]["train"]["vocab"] == 10_000  # 9,999 words + <eos>
    sst2 = data.summarize("sst2")
    assert sst2["splits"]["dev"]["examples"] == 872
    assert sum(sst2["splits"]["train"]["balance"].values()) == 67_349
    assert data.summarize("multi30k")["splits"]["train"]["pairs"] == 29_000
    assert data.summarize("google_analogy")["questions"] == 19_544
    assert data.summarize("flickr8k")["captions"] == 40_460
    assert data.summarize("tinyshakespeare")["characters"] == 1_115_394
    assert (cache / "summaries" / "ptb.json").is_file()
    assert data.summarize("ptb") == ptb  # answered from the cached figures


def test_cli_list_shows_every_dataset_and_where(on_mirror):
    result = CliRunner().invoke(main, ["data", "list"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[-1] for line in result.output.splitlines()[2:]}
    assert set(rows) == set(registry.REGISTRY)
    assert rows["sst2"] == "mirror" and rows["text8"] == "missing"


def test_cli_info_prints_source_license_and_figures(on_mirror):
    result = CliRunner().invoke(main, ["data", "info", "rt_polarity"])
    assert result.exit_code == 0, result.output
    assert "cornell.edu" in result.output and "Pang & Lee" in result.output
    assert "splits.test: examples=1,066" in result.output
    assert "where:    mirror" in result.output


def test_cli_fetch_offline_prints_a_message_not_a_traceback(on_mirror, monkeypatch):
    spec = registry.get("text8")
    dead = RemoteArchive("http://127.0.0.1:9/text8.zip", spec.remote[0].members)
    monkeypatch.setitem(registry.REGISTRY, "text8", dataclasses.replace(spec, remote=(dead,)))
    result = CliRunner().invoke(main, ["data", "fetch", "text8"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert "'text8'" in result.output and "http://127.0.0.1:9/text8.zip" in result.output
    assert "SEQLAB_DATA" in result.output


def test_cli_unknown_name_is_a_clear_error():
    result = CliRunner().invoke(main, ["data", "info", "nope"])
    assert result.exit_code != 0 and "unknown dataset 'nope'" in result.output


@pytest.mark.parametrize("command", [[], ["list"], ["info"], ["fetch"]])
def test_every_command_has_help(command):
    result = CliRunner().invoke(main, ["data", *command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    assert len(result.output.splitlines()) > 4
