"""Figures computed from a dataset's files: sizes, tokens, vocabulary, class balance, lengths.

Token counts are whitespace tokens (``str.split``) unless the dataset says otherwise (PTB counts
its ``<eos>`` tokens, Tiny Shakespeare counts characters). Results are cached in
``<cache>/summaries/<name>.json`` keyed by the files' paths, sizes and modification times, so
the big corpora are counted once (about 20 s for enwiki_extract) and then answered at once.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from seqlab.data import registry
from seqlab.data.fetch import cache_root, locate, resolve
from seqlab.data.reading import open_text
from seqlab.io import atomic_write

SUMMARY_VERSION = 1


def summarize(name: str) -> dict:
    """Figures of dataset ``name`` computed from its local files (it must be available).

    Examples
    --------
    >>> summarize("ptb")["splits"]["train"]["tokens"]  # doctest: +SKIP
    929589
    """
    from seqlab.data import load  # seqlab.data imports this module: here to avoid a cycle

    spec = registry.get(name)
    cached = cache_root() / "summaries" / f"{name}.json"
    key = _key(name)
    if key and cached.is_file():
        stored = json.loads(cached.read_text(encoding="utf-8"))
        if stored.get("key") == key and stored.get("version") == SUMMARY_VERSION:
            return stored["summary"]
    dataset = load(name, progress=False)  # fetches (or builds) the files when missing
    key = _key(name)
    files = [Path(path) for path, _, _ in key]
    figures = {"name": name, "task": spec.task, "license": spec.license, "source": spec.source}
    figures["bytes"] = sum(p.stat().st_size for p in files)
    figures.update(FIGURES[type(dataset).__name__](dataset))
    try:
        with atomic_write(cached, "w", encoding="utf-8") as f:
            json.dump({"version": SUMMARY_VERSION, "key": key, "summary": figures}, f, indent=1)
    except OSError:
        pass  # a read-only cache only costs recomputation next time
    return figures


def _key(name: str) -> list:
    """Path, size and mtime of every local file of ``name`` (empty when not found locally)."""
    folder = locate(name)
    if folder is None:
        return []
    files = resolve(folder, registry.get(name))
    return [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in files]


def _corpus(corpus) -> dict:
    tokens = 0
    vocab: set[str] = set()
    lines = docs = 0
    if corpus.skip_markup:
        # WikiExtractor files: count documents and lines too, in one pass over whole lines.
        for line in _raw_lines(corpus.files):
            if line.startswith("<doc"):
                docs += 1
                continue
            if line.startswith("</doc>"):
                continue
            lines += 1
            words = line.split()
            tokens += len(words)
            vocab.update(words)
        return {"tokens": tokens, "vocab": len(vocab), "lines": lines, "docs": docs}
    for sentence in corpus.sentences():
        tokens += len(sentence)
        vocab.update(sentence)
    return {"tokens": tokens, "vocab": len(vocab)}


def _raw_lines(files: Iterable[Path]) -> Iterable[str]:
    for file in files:
        with open_text(file) as f:
            while block := f.readlines(8 << 20):
                yield from block


def _split_corpus(ds) -> dict:
    splits = {}
    for split in ("train", "valid", "test"):
        corpus = getattr(ds, split)
        counts = Counter(corpus.tokens())
        splits[split] = {"tokens": sum(counts.values()), "vocab": len(counts)}
    return {"splits": splits, "eos": "one <eos> token per line, counted"}


def _chars(ds) -> dict:
    return {
        "characters": len(ds.text),
        "vocab": len(set(ds.text)),
        "lines": ds.text.count("\n"),
        "splits": {"train": {"characters": len(ds.train)}, "valid": {"characters": len(ds.valid)}},
    }


def _labeled(examples, labels) -> dict:
    lengths = [len(text.split()) for text, _ in examples]
    balance = Counter(labels[label] for _, label in examples)
    return {
        "examples": len(examples),
        "balance": dict(sorted(balance.items())),
        **_lengths(lengths, "tokens"),
    }


def _labeled_texts(ds) -> dict:
    splits = {"train": ds.train, "valid": ds.valid, "test": ds.test}
    return {
        "classes": len(ds.labels),
        "splits": {k: _labeled(v, ds.labels) for k, v in splits.items() if v is not None},
    }


def _sst2(ds) -> dict:
    return {
        "classes": len(ds.labels),
        "splits": {
            "train": _labeled(ds.train, ds.labels),
            "dev": _labeled(ds.dev, ds.labels),
            "test": {"examples": len(ds.test), "labels": "none (GLUE test)"},
        },
    }


def _pairs(pairs) -> dict:
    return {
        "pairs": len(pairs),
        **_lengths([len(a.split()) for a, _ in pairs], "source_tokens"),
        **_lengths([len(b.split()) for _, b in pairs], "target_tokens"),
        "source_vocab": len({w for a, _ in pairs for w in a.split()}),
        "target_vocab": len({w for _, b in pairs for w in b.split()}),
    }


def _multi30k(ds) -> dict:
    splits = {"train": ds.train, "val": ds.val, "test_2016": ds.test_2016}
    return {"languages": "en-de", "splits": {k: _pairs(v) for k, v in splits.items()}}


def _sentence_pairs(ds) -> dict:
    return {"languages": f"{ds.source_lang}-{ds.target_lang}", **_pairs(ds.pairs)}


def _word_pairs(ds) -> dict:
    scores = [s for _, _, s in ds.pairs]
    figures = {
        "pairs": len(ds.pairs),
        "words": len({w for a, b, _ in ds.pairs for w in (a, b)}),
        "scale": list(ds.scale),
        "score_mean": round(statistics.fmean(scores), 3),
        "score_min": min(scores),
        "score_max": max(scores),
    }
    if ds.dev is not None:
        figures["splits"] = {"dev": {"pairs": len(ds.dev)}, "test": {"pairs": len(ds.test)}}
    return figures


def _analogies(ds) -> dict:
    return {
        "questions": len(ds.questions),
        "sections": {k: len(v) for k, v in ds.sections.items()},
        "words": len({w for q in ds.questions for w in q}),
    }


def _captions(ds) -> dict:
    lengths = [len(c.split()) for cs in ds.captions.values() for c in cs]
    return {
        "images": len(ds.captions),
        "captions": len(lengths),
        **_lengths(lengths, "caption_tokens"),
        "splits": {s: {"images": len(getattr(ds, s))} for s in ("train", "dev", "test")},
    }


def _lengths(lengths: list[int], unit: str) -> dict:
    if not lengths:
        return {}
    return {f"mean_{unit}": round(statistics.fmean(lengths), 2), f"max_{unit}": max(lengths)}


FIGURES: dict[str, Callable[[object], dict]] = {
    "Corpus": _corpus,
    "SplitCorpus": _split_corpus,
    "CharCorpus": _chars,
    "LabeledTexts": _labeled_texts,
    "SST2": _sst2,
    "Multi30k": _multi30k,
    "SentencePairs": _sentence_pairs,
    "WordPairs": _word_pairs,
    "Analogies": _analogies,
    "Captions": _captions,
    "KoreanTests": lambda ds: ds.summary(),
}
