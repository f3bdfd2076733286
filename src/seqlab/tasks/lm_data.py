"""Token streams for language models: tinyshakespeare (characters), PTB (words), a user's text.

A language model reads its data as one long stream of token ids per split:

- ``tinyshakespeare``: characters; the dataset's contiguous split, train the first 90 %,
  valid the last 10 % (nanoGPT's). It has no test split.
- ``ptb``: words of the official train / valid / test files, one ``<eos>`` per line (Mikolov's
  and Zaremba's setup; 10,000 words with the file's own ``<unk>``).
- ``--text FILE``: any UTF-8 file, characters or words (whitespace-separated, ``<eos>`` at each
  line end). Held-out tail: train the first 90 % of the tokens, valid the next 5 %, test the
  last 5 %.

Character vocabularies are the set of characters of the whole text (as nanoGPT does: a
character only in the held-out tail gets an id but no training), so every character of the
validation text can be scored. Word vocabularies come from the training split only, with
``<unk>`` for the rest (the ``max_vocab`` most frequent words; PTB is already cut to 10,000).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import numpy as np

from seqlab import data as datasets
from seqlab.text import Vocab
from seqlab.text.vocab import EOS, UNK

#: Fractions of a user's text for train / valid; the rest is test.
TEXT_SPLIT = (0.90, 0.05)
DATASETS = {"tinyshakespeare": "char", "ptb": "word"}
WORD_SPECIALS = (UNK, EOS)


class LMDataError(ValueError):
    """A text that cannot train a language model (missing, empty, too short, not UTF-8)."""


@dataclass
class LMData:
    """Token-id streams of each split, their vocabulary, and where they came from.

    ``source`` is JSON-ready and is saved with the model, so that ``seqlab lm eval`` can load
    the same splits again: ``{"dataset": "ptb"}`` or ``{"text": path, "bytes": n, "sha256": h}``.
    """

    name: str
    level: str
    vocab: Vocab
    splits: dict[str, np.ndarray]
    source: dict = field(default_factory=dict)


def tokenize(text: str, level: str) -> list[str]:
    """Characters, or whitespace-separated words with ``<eos>`` after each line.

    Examples
    --------
    >>> tokenize("to be\\nor not", "word")
    ['to', 'be', '<eos>', 'or', 'not', '<eos>']
    >>> tokenize("ab\\n", "char")
    ['a', 'b', '\\n']
    """
    if level == "char":
        return list(text)
    if level == "word":
        return list(chain.from_iterable([*line.split(), EOS] for line in text.splitlines()))
    raise LMDataError(f"level must be 'char' or 'word', got {level!r}")


def load_dataset(name: str, max_vocab: int | None = None) -> LMData:
    """``tinyshakespeare`` or ``ptb`` from the dataset layer (``SEQLAB_DATA``, the cache)."""
    if name not in DATASETS:
        raise LMDataError(
            f"unknown language-model dataset {name!r}: use one of {', '.join(DATASETS)}, "
            "or --text FILE for your own text"
        )
    corpus = datasets.load(name, progress=False)
    if name == "tinyshakespeare":
        vocab = Vocab.from_iterable([list(corpus.text)])
        splits = {s: vocab.encode(list(getattr(corpus, s))) for s in ("train", "valid")}
        return LMData(name, "char", vocab, splits, {"dataset": name})
    parts = {s: list(chain.from_iterable(getattr(corpus, s))) for s in ("train", "valid", "test")}
    vocab = Vocab.from_iterable([parts["train"]], max_size=max_vocab, specials=WORD_SPECIALS)
    splits = {s: vocab.encode(tokens) for s, tokens in parts.items()}
    return LMData(name, "word", vocab, splits, {"dataset": name})


def read_text(path: str | os.PathLike) -> tuple[str, dict]:
    """The text of a UTF-8 file and its identity (path, size, SHA-256); clear errors else."""
    path = Path(path)
    if not path.exists():
        raise LMDataError(f"{path} does not exist: give the path of a UTF-8 text file")
    if not path.is_file():
        raise LMDataError(f"{path} is not a file: give the path of a UTF-8 text file")
    blob = path.read_bytes()
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError as e:
        raise LMDataError(
            f"{path} is not UTF-8 text (byte {e.start} is {blob[e.start : e.start + 1]!r}): "
            "convert it, e.g. `iconv -f latin1 -t utf-8`"
        ) from None
    identity = {
        "text": str(path.resolve()),
        "bytes": len(blob),
        "sha256": hashlib.sha256(blob).hexdigest(),
    }
    return text, identity


def load_text(
    path: str | os.PathLike, level: str = "char", max_vocab: int | None = 10_000
) -> LMData:
    """A user's text file as train / valid / test streams (held-out tail, see the module)."""
    text, identity = read_text(path)
    tokens = tokenize(text, level)
    parts = _cut(tokens)
    if min(len(p) for p in parts.values()) < 2:
        what = "characters" if level == "char" else "tokens (words and line ends)"
        raise LMDataError(
            f"{path} has {len(tokens)} {what}: too short to hold out a validation and a test "
            "tail (5 % each, at least 2 each): give a text of at least 40 "
            f"{'characters' if level == 'char' else 'words'}"
        )
    if level == "char":
        vocab = Vocab.from_iterable([tokens])
    else:
        vocab = Vocab.from_iterable([parts["train"]], max_size=max_vocab, specials=WORD_SPECIALS)
    splits = {s: vocab.encode(t) for s, t in parts.items()}
    return LMData(Path(path).name, level, vocab, splits, {**identity, "level": level})


def reload_split(source: dict, vocab: Vocab, split: str) -> np.ndarray:
    """The ids of ``split`` of the data a model was trained on (for ``seqlab lm eval``)."""
    if "dataset" in source:
        name = source["dataset"]
        if name == "tinyshakespeare" and split == "test":
            raise LMDataError(
                "tinyshakespeare has no test split (train 90 % / valid 10 %, as in nanoGPT): "
                "use --split valid"
            )
        corpus = datasets.load(name, progress=False)
        if name == "tinyshakespeare":
            return vocab.encode(list(getattr(corpus, split)))
        return vocab.encode(list(chain.from_iterable(getattr(corpus, split))))
    text, identity = read_text(source["text"])
    if identity["sha256"] != source["sha256"]:
        raise LMDataError(
            f"{source['text']} changed since the model was trained on it ({identity['bytes']:,} "
            f"bytes, trained on {source['bytes']:,}): its held-out tail is no longer the one "
            "held out; score a file with `seqlab lm eval DIR --text FILE` instead"
        )
    return encode_known(vocab, _cut(tokenize(text, source["level"]))[split])


def _cut(tokens: list[str]) -> dict[str, list[str]]:
    n_train = int(len(tokens) * TEXT_SPLIT[0])
    n_valid = int(len(tokens) * TEXT_SPLIT[1])
    return {
        "train": tokens[:n_train],
        "valid": tokens[n_train : n_train + n_valid],
        "test": tokens[n_train + n_valid :],
    }


def encode_known(vocab: Vocab, tokens: list[str]) -> np.ndarray:
    """Ids of ``tokens``; unknown ones map to ``<unk>`` (words) or raise `LMDataError` (chars)."""
    if vocab.unk_id is not None:
        return vocab.encode(tokens)
    unknown = sorted({t for t in tokens if t not in vocab})
    if unknown:
        raise LMDataError(
            f"the text holds {len(unknown)} character(s) the model has no id for: "
            f"{', '.join(map(repr, unknown[:20]))}; score a text written in the model's alphabet"
        )
    return vocab.encode(tokens)
