"""Resolution order and verified downloads, against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import io
import socket
import tarfile
import zipfile

import pytest

from seqlab import data
from seqlab.data import registry
from seqlab.data.manifest import MIRROR_CHECKSUMS
from seqlab.data.spec import DatasetSpec, Member, RemoteArchive, RemoteFile

BODY = b"the quick brown fox\njumps over the lazy dog\n" * 2000


def sha256(payload: bytes) -> str:
    return "sha256:" + hashlib.sha256(payload).hexdigest()


def register(monkeypatch, *remote, files=("words.txt",), name="toy") -> DatasetSpec:
    spec = DatasetSpec(name, "corpus", "test", "-", "-", "-", files=files, remote=remote)
    monkeypatch.setitem(registry.REGISTRY, name, spec)
    return spec


def leftovers(cache) -> list[str]:
    """Every file under the cache (temporary ``.part`` files included)."""
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file())


def test_right_checksum_is_cached_and_used(server, cache, monkeypatch):
    server.files["/words.txt"] = BODY
    register(monkeypatch, RemoteFile((server.url("/words.txt"),), "words.txt", sha256(BODY)))
    assert data.where("toy") == "missing"
    folder = data.fetch("toy", progress=False)
    assert (folder / "words.txt").read_bytes() == BODY
    assert folder == cache / "toy"
    assert data.where("toy") == "cache"
    data.fetch("toy", progress=False)
    assert server.requests == ["/words.txt"]  # the second call used the cache


def test_wrong_checksum_is_rejected_and_nothing_is_kept(server, cache, monkeypatch):
    server.files["/words.txt"] = BODY
    register(
        monkeypatch, RemoteFile((server.url("/words.txt"),), "words.txt", "sha256:" + "0" * 64)
    )
    with pytest.raises(data.ChecksumError, match=r"toy: .*words\.txt.*expected 0000"):
        data.fetch("toy", progress=False)
    assert leftovers(cache) == []
    assert data.where("toy") == "missing"


def test_download_cut_off_half_way_leaves_no_partial_file(server, cache, monkeypatch):
    server.files["/words.txt"] = BODY
    register(monkeypatch, RemoteFile((server.url("/cut/words.txt"),), "words.txt", sha256(BODY)))
    with pytest.raises(data.IncompleteDownloadError, match=r"stopped at|broke off"):
        data.fetch("toy", progress=False)
    assert leftovers(cache) == []


def test_corrupt_archive_is_a_clear_error(server, cache, monkeypatch):
    server.files["/toy.zip"] = b"PK\x03\x04 this is not really a zip archive" * 10
    member = Member("words.txt", "words.txt", sha256(BODY))
    register(monkeypatch, RemoteArchive(server.url("/toy.zip"), (member,)))
    with pytest.raises(data.CorruptArchiveError, match=r"toy\.zip.*corrupt"):
        data.fetch("toy", progress=False)
    assert leftovers(cache) == []


@pytest.mark.parametrize(("kind", "algorithm"), [("zip", "sha256"), ("tar.gz", "sha1")])
def test_archive_members_are_extracted_and_verified(server, cache, monkeypatch, kind, algorithm):
    server.files[f"/toy.{kind}"] = _archive(kind, {"toy-1.0/words.txt": BODY, "other": b"x"})
    checksum = f"{algorithm}:{hashlib.new(algorithm, BODY).hexdigest()}"  # text8 publishes sha1
    member = Member("words.txt", "sub/words.txt", checksum)
    register(monkeypatch, RemoteArchive(server.url(f"/toy.{kind}"), (member,)), files=())
    folder = data.fetch("toy", progress=False)
    assert (folder / "sub" / "words.txt").read_bytes() == BODY
    assert leftovers(cache) == ["toy/sub/words.txt"]  # the archive itself is not kept


def test_archive_member_with_wrong_checksum_keeps_nothing(server, cache, monkeypatch):
    server.files["/toy.zip"] = _archive("zip", {"words.txt": BODY[:-1]})
    member = Member("words.txt", "words.txt", sha256(BODY))
    register(monkeypatch, RemoteArchive(server.url("/toy.zip"), (member,)))
    with pytest.raises(data.ChecksumError):
        data.fetch("toy", progress=False)
    assert leftovers(cache) == []


def test_several_urls_are_concatenated_into_one_verified_file(server, monkeypatch):
    server.files["/a"], server.files["/b"] = BODY[:1000], BODY[1000:]
    urls = (server.url("/a"), server.url("/b"))
    register(monkeypatch, RemoteFile(urls, "words.txt", sha256(BODY)))
    assert (data.fetch("toy", progress=False) / "words.txt").read_bytes() == BODY


def test_offline_error_names_dataset_url_and_mirror_option(cache, monkeypatch):
    url = f"http://127.0.0.1:{_closed_port()}/words.txt"
    register(monkeypatch, RemoteFile((url,), "words.txt", sha256(BODY)))
    with pytest.raises(data.DatasetNotFoundError) as err:
        data.fetch("toy", progress=False)
    message = str(err.value)
    assert "'toy'" in message and url in message and "SEQLAB_DATA" in message
    assert "Traceback" not in message
    assert leftovers(cache) == []


def test_mirror_is_preferred_to_cache(tmp_path, cache, monkeypatch):
    register(monkeypatch, RemoteFile(("http://unused.invalid/w",), "words.txt", sha256(BODY)))
    (cache / "toy").mkdir()
    (cache / "toy" / "words.txt").write_bytes(BODY)
    assert data.where("toy") == "cache"
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "words.txt").write_bytes(BODY)
    monkeypatch.setenv("SEQLAB_DATA", str(mirror))
    assert data.where("toy") == "mirror"
    assert data.fetch("toy") == mirror / "toy"
    assert "toy" in data.available()


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(data.UnknownDatasetError, match="sst2"):
        data.load("sst3")


def test_registry_is_complete():
    for spec in registry.REGISTRY.values():
        assert spec.license and spec.source and spec.task
        assert spec.remote or spec.derived_from, spec.name  # every dataset can be obtained
        targets = [t for r in spec.remote for t in r.targets]
        assert spec.derived_from or len(targets) == len(spec.files), spec.name  # aligned
        for remote in spec.remote:
            checksums = [m.checksum for m in getattr(remote, "members", ())]
            checksums.append(getattr(remote, "checksum", None))
            assert any(checksums), f"{spec.name}: {remote.url} has no checksum"


def _archive(kind: str, members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(buffer, "w") as zf:
            for name, payload in members.items():
                zf.writestr(name, payload)
        return buffer.getvalue()
    with tarfile.open(fileobj=buffer, mode="w") as tf:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tf.addfile(info, io.BytesIO(payload))
    return gzip.compress(buffer.getvalue())


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_imdb_official_archive_in_the_cache_is_read(cache, monkeypatch):
    # Online users get the official aclImdb_v1.tar.gz (with train/unsup), not the mirror's repack.
    monkeypatch.delenv("SEQLAB_DATA", raising=False)
    reviews = {
        "aclImdb/train/pos/10_9.txt": b"Great.",
        "aclImdb/train/pos/2_8.txt": b"Good.",
        "aclImdb/train/neg/0_1.txt": b"Bad.",
        "aclImdb/train/unsup/0_0.txt": b"Unlabeled.",
        "aclImdb/test/neg/1_2.txt": b"Dull.",
        "aclImdb/README": b"readme",
    }
    (cache / "imdb").mkdir()
    archive = _archive("tar.gz", reviews)
    (cache / "imdb" / "aclImdb_v1.tar.gz").write_bytes(archive)
    # Cached files are verified before use: register this small archive's digest.
    digest = "sha256:" + hashlib.sha256(archive).hexdigest()
    monkeypatch.setitem(MIRROR_CHECKSUMS, "imdb", {"aclImdb_v1.tar.gz": digest})
    ds = data.load("imdb")
    assert ds.train == [("Bad.", 0), ("Good.", 1), ("Great.", 1)]  # by label, then review id
    assert ds.test == [("Dull.", 0)]
