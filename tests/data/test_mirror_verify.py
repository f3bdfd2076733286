"""Local dataset files are checked before use: a file cut short or damaged is named, with the fix;
``SEQLAB_DATA`` pointing nowhere is said, not silently taken for "every dataset missing".

Each test builds a tiny fake mirror in tmp_path; the shared mirror is never modified.
"""

import hashlib
import importlib
import json

import pytest
from click.testing import CliRunner

import seqlab.lab
import seqlab.lab.demo
from seqlab import data
from seqlab.cli.main import main
from seqlab.data import verify as verify_module
from seqlab.data.errors import CorruptFileError, DatasetNotFoundError
from seqlab.data.manifest import FILE_SIZES, MIRROR_CHECKSUMS
from seqlab.data.registry import REGISTRY
from seqlab.data.verify import expected

WORDS = "the cat sat on the mat\n"
# The module, not the function of the same name that seqlab.data exports.
fetch_module = importlib.import_module("seqlab.data.fetch")


@pytest.fixture
def fake_mirror(tmp_path, monkeypatch):
    """A mirror holding ``ptb`` whose registered sizes and digests are those of tiny files."""
    root = tmp_path / "mirror"
    (root / "ptb").mkdir(parents=True)
    (root / "README.md").write_text("fake mirror\n")
    sizes, sums = {}, {}
    for split in ("train", "valid", "test"):
        body = (WORDS * (3 if split == "train" else 1)).encode()
        (root / "ptb" / f"ptb.{split}.txt").write_bytes(body)
        sizes[f"ptb.{split}.txt"] = len(body)
        sums[f"ptb.{split}.txt"] = "sha256:" + hashlib.sha256(body).hexdigest()
    monkeypatch.setitem(FILE_SIZES, "ptb", sizes)
    monkeypatch.setitem(MIRROR_CHECKSUMS, "ptb", sums)
    monkeypatch.setenv("SEQLAB_DATA", str(root))
    return root


def test_registered_figures_cover_every_mirror_file():
    """Every file a loader reads has a registered size, and a digest from the registry or the
    manifest (wiki_text8 is built locally, text8 is not in the mirror)."""
    for name, spec in REGISTRY.items():
        if name in ("wiki_text8", "text8"):
            continue
        for relative in spec.files:
            size, checksum = expected(name, spec, relative)
            assert size is not None and size > 0, (name, relative)
            assert checksum is not None, (name, relative)


def test_intact_mirror_loads_and_is_hashed_once(fake_mirror, cache, monkeypatch):
    assert data.load("ptb").train is not None
    record = json.loads((cache / "verified.json").read_text())
    assert len(record) == 3
    hashed = []
    original = verify_module._hash
    monkeypatch.setattr(verify_module, "_hash", lambda *a: hashed.append(a) or original(*a))
    data.fetch("ptb")
    assert hashed == []  # same size and mtime: not hashed again


def test_a_file_cut_short_is_named_with_the_fix(fake_mirror):
    train = fake_mirror / "ptb" / "ptb.train.txt"
    train.write_bytes(train.read_bytes()[:10])
    with pytest.raises(CorruptFileError) as info:
        data.load("ptb")
    message = str(info.value)
    assert str(train) in message
    assert "10 bytes, but ptb's ptb.train.txt has 69 bytes" in message
    assert f"SEQLAB_DATA={fake_mirror}" in message and "seqlab data fetch ptb" in message


def test_a_damaged_file_of_the_right_size_fails_its_checksum(fake_mirror):
    valid = fake_mirror / "ptb" / "ptb.valid.txt"
    valid.write_bytes(valid.read_bytes().replace(b"cat", b"dog"))
    with pytest.raises(CorruptFileError, match=r"ptb\.valid\.txt: its sha256 is [0-9a-f]+, but"):
        data.fetch("ptb")


def test_a_file_changed_after_verification_is_hashed_again(fake_mirror, cache):
    data.fetch("ptb")
    test = fake_mirror / "ptb" / "ptb.test.txt"
    test.write_bytes(test.read_bytes().replace(b"mat", b"hat"))  # same size, new mtime
    with pytest.raises(CorruptFileError, match=r"ptb\.test\.txt: its sha256"):
        data.fetch("ptb")


def test_a_damaged_cache_file_says_to_fetch_again(cache, monkeypatch, tmp_path):
    monkeypatch.delenv("SEQLAB_DATA", raising=False)
    (cache / "google_analogy").mkdir()
    (cache / "google_analogy" / "questions-words.txt").write_text(": capital\na b c d\n")
    with pytest.raises(CorruptFileError, match=r"Fix: delete it and run `seqlab data fetch"):
        data.fetch("google_analogy")


def test_cli_reports_the_damaged_file(fake_mirror):
    (fake_mirror / "ptb" / "ptb.train.txt").write_bytes(b"x")
    result = CliRunner().invoke(main, ["data", "info", "ptb"])
    assert result.exit_code == 1
    assert "ptb.train.txt: 1 bytes, but ptb's ptb.train.txt has 69 bytes" in result.output
    assert "Traceback" not in result.output


def test_missing_mirror_folder_is_said(monkeypatch, tmp_path):
    nowhere = tmp_path / "nowhere"
    monkeypatch.setenv("SEQLAB_DATA", str(nowhere))
    result = CliRunner().invoke(main, ["data", "list"])
    assert result.exit_code == 0
    assert f"warning: SEQLAB_DATA={nowhere} does not exist" in result.stderr
    info = CliRunner().invoke(main, ["data", "info", "ptb"])
    assert f"SEQLAB_DATA={nowhere} does not exist" in info.output


def test_mirror_that_is_a_file_is_said(monkeypatch, tmp_path):
    afile = tmp_path / "data.txt"
    afile.write_text("x")
    monkeypatch.setenv("SEQLAB_DATA", str(afile))
    assert "is not a folder" in fetch_module.mirror_warning()


def test_lookup_through_a_missing_mirror_warns_and_says_so(monkeypatch, tmp_path):
    nowhere = tmp_path / "nowhere"
    monkeypatch.setenv("SEQLAB_DATA", str(nowhere))

    def offline(*args, **kwargs):
        raise DatasetNotFoundError("dataset 'ptb' is not available locally (offline).")

    monkeypatch.setattr(fetch_module, "fetch_remote", offline)
    with (
        pytest.warns(UserWarning, match=r"SEQLAB_DATA=.*nowhere does not exist"),
        pytest.raises(DatasetNotFoundError, match=r"Note: SEQLAB_DATA=.*nowhere does not exist"),
    ):
        data.fetch("ptb")


def test_real_mirror_passes_verification(on_mirror, cache):
    for name in ("ptb", "google_analogy", "names"):
        data.fetch(name)
    assert len(json.loads((cache / "verified.json").read_text())) == 3 + 1 + 18


def test_an_unwritable_cache_is_said_before_downloading(monkeypatch, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    monkeypatch.setenv("SEQLAB_CACHE", str(blocker / "cache"))  # a path under a regular file
    monkeypatch.delenv("SEQLAB_DATA", raising=False)
    downloads = []
    monkeypatch.setattr(fetch_module, "fetch_remote", lambda *a, **k: downloads.append(a))
    with pytest.raises(DatasetNotFoundError, match=r"cannot be stored in the cache.*SEQLAB_CACHE"):
        data.fetch("ptb")
    assert not downloads


def test_data_list_flags_a_file_of_the_wrong_size(fake_mirror):
    (fake_mirror / "ptb" / "ptb.valid.txt").write_bytes(b"cut")
    result = CliRunner().invoke(main, ["data", "list"])
    assert result.exit_code == 0
    row = next(line for line in result.output.splitlines() if line.startswith("ptb "))
    assert "mirror, DAMAGED: ptb.valid.txt has the wrong size" in row


def test_a_misspelt_dataset_name_gets_a_suggestion():
    result = CliRunner().invoke(main, ["data", "info", "PTB"])
    assert result.exit_code == 1
    assert "unknown dataset 'PTB'; did you mean 'ptb'?" in result.output


@pytest.mark.parametrize("command", [["lab", "relu-explosion", "--quick"], ["demo", "--quick"]])
def test_lab_and_demo_say_when_the_mirror_is_missing(monkeypatch, tmp_path, command):
    monkeypatch.setattr(seqlab.lab, "run", lambda *a, **k: None)
    monkeypatch.setattr(seqlab.lab.demo, "run_demo", lambda *a, **k: None)
    monkeypatch.setenv("SEQLAB_DATA", str(tmp_path / "nowhere"))
    result = CliRunner().invoke(main, [*command, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "nowhere does not exist" in result.stderr
