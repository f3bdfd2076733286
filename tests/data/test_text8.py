"""wiki_text8: the streamed recipe equals the plain one, and the mirror gives 16,940,015 tokens."""

from __future__ import annotations

import gzip
import hashlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab import data
from seqlab.data import registry, text8


def reference(lines: list[str], limit: int) -> str:
    """The recipe written plainly (whole text in memory), as first used to make wiki_text8."""
    table = {ord(str(d)): f" {w} " for d, w in enumerate(text8.DIGIT_NAMES)}
    kept = [
        re.sub(r"[^a-z]+", " ", line.lower().translate(table))
        for line in lines
        if not line.startswith(("<doc", "</doc>"))
    ]
    text = re.sub(" +", " ", "".join(kept))
    if not text.startswith(" "):
        text = " " + text
    cut = text[:limit]
    if text[limit : limit + 1] not in ("", " "):
        cut = cut[: cut.rfind(" ")]
    return cut


# Letters of both cases, digits, punctuation and characters whose str.lower() is ASCII
# (Kelvin sign -> "k", dotted I -> "i" + combining dot) or changes length.
ALPHABET = st.sampled_from(list("abcXYZ  019.,-'\téÉ\u212a\u0130ßΣ한"))
LINES = st.lists(st.text(ALPHABET, max_size=30).map(lambda s: s + "\n"), max_size=30)


@settings(max_examples=300, deadline=None)
@given(lines=LINES, limit=st.integers(1, 120), block=st.integers(1, 5))
def test_streamed_recipe_equals_the_plain_one(lines, limit, block):
    blocks = ["".join(lines[i : i + block]) for i in range(0, len(lines), block)]
    assert "".join(text8.text8_pieces(blocks, limit)) == reference(lines, limit)


def test_digits_case_and_doc_lines(tmp_path):
    part = tmp_path / "part.txt.gz"
    part.write_bytes(
        gzip.compress('<doc id="1" title="X">\nRoom 101, Kelvin\u212a!\n</doc>\n'.encode())
    )
    blocks = list(text8.wiki_blocks([part]))
    assert (
        "".join(text8.text8_pieces(blocks)) == " room one zero one kelvink "
    )  # text8 ends short: no cut


def test_verify_rejects_a_foreign_file(tmp_path):
    fake = tmp_path / text8.TARGET
    fake.write_text(" not the recipe output")
    with pytest.raises(data.ChecksumError, match="rebuilds it"):
        text8.verify(fake, registry.WIKI_TEXT8_SHA256)


@pytest.mark.slow
def test_wiki_text8_build_gives_the_official_figures(on_mirror, cache):
    path = data.path("wiki_text8", progress=False)  # builds into the empty test cache
    assert path == cache / "wiki_text8" / "wiki_text8.txt"
    payload = path.read_bytes()
    assert len(payload) == 99_999_996
    assert hashlib.sha256(payload).hexdigest() == registry.WIKI_TEXT8_SHA256
    assert len(payload.split()) == 16_940_015
    assert payload.startswith(b" anarchism originated") or payload.startswith(b" anarchism ")
    meta = text8.verify(path, registry.WIKI_TEXT8_SHA256)  # cheap: sidecar + size
    assert meta["tokens"] == 16_940_015
    chunks = data.load("wiki_text8")
    first = next(iter(chunks))
    assert len(first) == 10_000 and first[:2] == ["anarchism", "anarchism"]
    assert data.where("wiki_text8") == "cache"


def test_a_stale_build_in_the_cache_is_built_again(on_mirror, cache, monkeypatch):
    folder = cache / "wiki_text8"
    folder.mkdir()
    (folder / text8.TARGET).write_text(" cut short")
    (folder / f"{text8.TARGET}.json").write_text('{"bytes": 99999996, "tokens": 1, "sha256": ""}')
    built = []

    def build(target_folder, parts, progress=True, limit=text8.LIMIT):
        built.append((target_folder, [p.name for p in parts]))
        (target_folder / text8.TARGET).write_text(" rebuilt")
        (target_folder / f"{text8.TARGET}.json").write_text('{"bytes": 8, "tokens": 1}')
        return target_folder / text8.TARGET

    monkeypatch.setattr(text8, "build", build)
    assert data.path("wiki_text8", progress=False) == folder / text8.TARGET
    assert built == [
        (folder, [p.name for p in data.corpora.wiki_parts(on_mirror / "enwiki_extract")])
    ]
    assert (folder / text8.TARGET).read_text() == " rebuilt"
    assert data.path("wiki_text8", progress=False) == folder / text8.TARGET
    assert len(built) == 1  # the fresh build checks out: not built a second time
