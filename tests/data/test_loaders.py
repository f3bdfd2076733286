"""Every loader on the shared mirror: counts equal the official ones (see each MANIFEST.md)."""

from __future__ import annotations

import dataclasses
import itertools
import types
from collections import Counter
from pathlib import Path

import pytest

from seqlab import data
from seqlab.data import registry
from seqlab.data.spec import RemoteFile


def balance(examples, labels) -> dict[str, int]:
    return dict(Counter(labels[label] for _, label in examples))


def test_sst2(on_mirror):
    ds = data.load("sst2")
    assert (len(ds.train), len(ds.dev), len(ds.test)) == (67_349, 872, 1_821)
    assert ds.train[0] == ("hide new secretions from the parental units", 0)
    assert {label for _, label in ds.train} == {0, 1}
    assert all(isinstance(text, str) and text == text.strip() for text in ds.test)


def test_rt_polarity_has_a_deterministic_stratified_split(on_mirror):
    ds = data.load("rt_polarity")
    everything = ds.train + ds.valid + ds.test
    assert balance(everything, ds.labels) == {"negative": 5_331, "positive": 5_331}
    assert (len(ds.train), len(ds.valid), len(ds.test)) == (8_530, 1_066, 1_066)
    assert balance(ds.test, ds.labels) == {"negative": 533, "positive": 533}
    assert data.load("rt_polarity").test == ds.test  # same split on every call
    assert any(not text.isascii() for text, _ in everything)  # cp1252 characters decoded


def test_imdb(on_mirror):
    ds = data.load("imdb")
    assert (len(ds.train), len(ds.test), ds.valid) == (25_000, 25_000, None)
    assert balance(ds.train, ds.labels) == {"negative": 12_500, "positive": 12_500}
    assert balance(ds.test, ds.labels) == {"negative": 12_500, "positive": 12_500}
    assert any(text.startswith("Bromwell High is a cartoon comedy") for text, _ in ds.train)


def test_names(on_mirror):
    ds = data.load("names")
    everything = ds.train + ds.valid + ds.test
    assert len(everything) == 20_074 and len(ds.labels) == 18
    counts = balance(everything, ds.labels)
    assert counts["Arabic"] == 2_000 and counts["Russian"] == 9_408
    assert ("Nguyen", ds.labels.index("Vietnamese")) in everything
    assert len(ds.test) == sum(round(0.1 * n) for n in counts.values())


def test_multi30k(on_mirror):
    ds = data.load("multi30k")
    assert (len(ds.train), len(ds.val), len(ds.test_2016)) == (29_000, 1_014, 1_000)
    en, de = ds.train[0]
    assert en.startswith("Two young, White males") and de.startswith("Zwei junge weiße Männer")
    assert ds.test("test_2016_flickr") is ds.test_2016


def test_multi30k_withheld_tests_name_their_official_url(on_mirror, monkeypatch):
    # The mirror withholds the 2017/2018 tests: offline the error names the URL and the fix.
    spec = registry.get("multi30k")
    dead = "http://127.0.0.1:9/"  # the discard port: nothing listens there
    extras = dict(spec.extras)
    extras["test_2017_flickr"] = tuple(
        RemoteFile((dead + Path(r.target).name,), r.target, r.checksum)
        for r in extras["test_2017_flickr"]
    )
    monkeypatch.setitem(registry.REGISTRY, "multi30k", dataclasses.replace(spec, extras=extras))
    assert "raw.githubusercontent.com/multi30k" in spec.extras["test_2018_flickr"][0].url
    with pytest.raises(data.DatasetNotFoundError, match=r"test_2017_flickr.*SEQLAB_DATA"):
        data.load("multi30k").test("test_2017_flickr")


def test_tatoeba(on_mirror):
    ds = data.load("tatoeba_eng_fra")
    assert len(ds.pairs) == 142_787
    assert ds.pairs[0] == ("Go.", "Va !")


def test_ptb_tokens_with_eos(on_mirror):
    ds = data.load("ptb")
    counts = [sum(1 for _ in getattr(ds, s).tokens()) for s in ("train", "valid", "test")]
    assert counts == [929_589, 73_760, 82_430]
    first = next(iter(ds.train))
    assert first[-1] == "<eos>" and first[0] == "aer"
    assert ds.path.name == "ptb.train.txt"


def test_tinyshakespeare(on_mirror):
    ds = data.load("tinyshakespeare")
    assert len(ds.text) == 1_115_394
    assert ds.train + ds.valid == ds.text and len(ds.train) == 1_003_854
    assert ds.text.startswith("First Citizen:")


def test_google_analogy(on_mirror):
    ds = data.load("google_analogy")
    assert len(ds.questions) == 19_544 and len(ds.sections) == 14
    assert ds.sections["capital-common-countries"][0] == ("Athens", "Greece", "Baghdad", "Iraq")
    semantic = sum(len(v) for k, v in ds.sections.items() if not k.startswith("gram"))
    assert semantic == 8_869
    assert data.path("google_analogy") / "questions-words.txt" == ds.path


@pytest.mark.parametrize(
    ("name", "pairs", "first"),
    [
        ("wordsim353", 353, ("love", "sex", 6.77)),
        ("simlex999", 999, ("old", "new", 1.58)),
        ("men", 3_000, ("sun", "sunlight", 50.0)),
        ("rareword", 2_034, ("squishing", "squirt", 5.88)),
    ],
)
def test_similarity_sets(on_mirror, name, pairs, first):
    ds = data.load(name)
    assert len(ds.pairs) == pairs and ds.pairs[0] == first
    assert ds.path.is_file() and ds.path.is_relative_to(data.path(name))


def test_men_dev_test_split(on_mirror):
    ds = data.load("men")
    assert (len(ds.dev), len(ds.test)) == (2_000, 1_000)
    assert ds.dev[0] == ("berry", "seed", 37.0)  # POS suffixes removed


def test_flickr8k(on_mirror):
    ds = data.load("flickr8k")
    assert len(ds.captions) == 8_092
    assert sum(len(c) for c in ds.captions.values()) == 40_460
    assert (len(ds.train), len(ds.dev), len(ds.test)) == (6_000, 1_000, 1_000)
    assert len(ds.pairs("dev")) == 5_000
    assert ds.captions["1000268201_693b08cb0e.jpg"][0].startswith("A child in a pink dress")


@pytest.mark.parametrize(
    ("name", "first_tokens"),
    [("enwiki_extract", ["Anarchism"]), ("kowiki_extract", ["지미", "카터"])],
)
def test_wiki_corpora_stream(on_mirror, name, first_tokens):
    corpus = data.load(name)
    sentences = iter(corpus)
    assert isinstance(sentences, types.GeneratorType)  # lazy: nothing read up front
    first = next(sentences)
    assert first == first_tokens  # the <doc ...> line is skipped, the title comes first
    head = list(itertools.islice(corpus.tokens(), 50_000))
    assert len(head) == 50_000 and not any(t.startswith("<doc") for t in head)
    assert next(iter(corpus)) == first  # re-iterable: each pass re-opens the files
    with pytest.raises(data.DatasetError, match="compressed"):
        _ = corpus.path


def test_every_dataset_of_the_mirror_is_available(on_mirror):
    found = set(data.available())
    # not in the mirror (Park et al.'s Korean set is withheld for independent evaluation)
    expected = set(registry.REGISTRY) - {"text8", "wiki_text8", "kor_analogy_park2018"}
    assert expected <= found
    assert "text8" not in found
