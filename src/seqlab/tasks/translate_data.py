"""Sentence pairs for a translator: the splits of a direction, tokenisation and batches.

**Splits.** ``multi30k`` (English-German, either direction) has its official ``train``, ``val``
and the test sets ``test_2016_flickr`` (in the mirror), ``test_2017_flickr``,
``test_2017_mscoco`` and ``test_2018_flickr`` (downloaded, verified, when asked for).
``tatoeba_eng_fra`` has no official split: a pair goes to ``val`` or ``test`` by a hash of its
English sentence (1 % each), so every translation of one English sentence lands in the same
split and none of them leaks from training into evaluation.

**Tokenisation** is a `Codec` per language, a sentencepiece model trained on that language's
training sentences: ``level="subword"`` is a unigram model of ``vocab_size`` pieces (any word can
be spelled in pieces, so nothing is unknown but unseen characters); ``level="word"`` first splits
words from punctuation (`seqlab.text.WordTokenizer`), then keeps the ``vocab_size`` most frequent
words and maps the others to ``<unk>``. `Codec.decode` detokenises, so scores are computed on
plain text against the raw references. Ids 0-3 are ``<pad>``, ``<unk>``, ``<bos>``, ``<eos>``.

**Batches** are ``(source (B, S), source_lengths (B,), target (B, T), index (B,))``, padded with
0; a target is ``<bos> … <eos>``, a source has neither. ``index`` points back to the pair, so
validation can compare its translations with the raw references.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

import numpy as np
import sentencepiece as spm
import torch

from seqlab.text import WordTokenizer
from seqlab.text.vocab import BOS, EOS, PAD, UNK, Vocab
from seqlab.train import ResumableBatchSampler

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
SPECIALS = (PAD, UNK, BOS, EOS)
LEVELS = ("subword", "word")
DATASETS = {"multi30k": ("en", "de"), "tatoeba_eng_fra": ("en", "fr")}
TATOEBA_SPLITS = ("train", "val", "test")


class TranslateDataError(ValueError):
    """A dataset, direction, split or sentence a translator cannot use; says which and the fix."""


# --- splits ---


def check_direction(dataset: str, src: str, tgt: str) -> None:
    """Raise `TranslateDataError` unless ``src``→``tgt`` is a direction of ``dataset``.

    Examples
    --------
    >>> check_direction("multi30k", "de", "en")
    >>> check_direction("multi30k", "de", "fr")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    seqlab.tasks.translate_data.TranslateDataError: multi30k pairs en and de: give --src en ...
    """
    if dataset not in DATASETS:
        raise TranslateDataError(
            f"no translation dataset {dataset!r}: choose one of {', '.join(DATASETS)}"
        )
    a, b = DATASETS[dataset]
    if {src, tgt} != {a, b}:
        raise TranslateDataError(
            f"{dataset} pairs {a} and {b}: give --src {a} --tgt {b} or --src {b} --tgt {a}"
        )


def split_names(dataset: str) -> tuple[str, ...]:
    """The splits ``load_split`` accepts for ``dataset``."""
    if dataset == "multi30k":
        from seqlab.data.translation import Multi30k

        return ("train", "val", *Multi30k.OFFICIAL_TESTS)
    return TATOEBA_SPLITS


def load_split(dataset: str, src: str, tgt: str, split: str, progress: bool = False):
    """``[(source sentence, target sentence), ...]`` of one split, raw text."""
    check_direction(dataset, src, tgt)
    if split not in split_names(dataset):
        raise TranslateDataError(
            f"{dataset} has no split {split!r}: choose one of {', '.join(split_names(dataset))}"
        )
    from seqlab.data import translation

    if dataset == "multi30k":
        data = translation.load_multi30k(progress)
        pairs = {"train": data.train, "val": data.val}.get(split) or data.test(split)
    else:
        every = translation.load_tatoeba_eng_fra(progress).pairs
        pairs = [p for p in every if _tatoeba_split(p[0]) == split]
    english_first = DATASETS[dataset][0] == src
    return [(a, b) if english_first else (b, a) for a, b in pairs]


def _tatoeba_split(english: str) -> str:
    bucket = int.from_bytes(hashlib.sha256(english.encode("utf-8")).digest()[:4], "big") % 100
    return {0: "val", 1: "test"}.get(bucket, "train")


# --- tokenisation ---


_TOKENS = WordTokenizer()
# spaces that a word-level detokeniser removes: before closing punctuation, after opening
# punctuation, and around apostrophes and hyphens inside words ("woman ' s", "t - shirt")
_DETOKENISE = (
    (re.compile(r" ([.,!?;:%)\]}])"), r"\1"),
    (re.compile(r"([(\[{]) "), r"\1"),
    (re.compile(r"(\w) ([-'’]) (\w)"), r"\1\2\3"),
)


def word_split(text: str) -> str:
    """Words and punctuation separated by single spaces (the input of a word-level codec)."""
    return " ".join(_TOKENS(text))


def detokenise_words(text: str) -> str:
    """Undo `word_split`'s spaces around punctuation.

    Examples
    --------
    >>> detokenise_words("A woman ' s t - shirt , ( red ) .")
    "A woman's t-shirt, (red)."
    """
    for pattern, replacement in _DETOKENISE:
        text = pattern.sub(replacement, text)
    return text


@dataclass
class Codec:
    """Text <-> ids for one language: a trained sentencepiece model (see the module docstring).

    Examples
    --------
    >>> codec = Codec.train(["a cat sat", "a dog sat", "the cat ran"] * 20, 12, "word")
    >>> ids = codec.encode("a cat flew")
    >>> codec.pieces(ids), codec.unknown(ids)
    (['▁a', '▁cat', '<unk>'], 1)
    >>> codec.decode(codec.encode("the dog sat"))
    'the dog sat'
    """

    model: bytes
    level: str

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise TranslateDataError(
                f"level must be one of {', '.join(LEVELS)}, not {self.level!r}"
            )
        self._sp = spm.SentencePieceProcessor(model_proto=self.model)

    @classmethod
    def train(cls, sentences: list[str], vocab_size: int, level: str = "subword") -> Codec:
        """A codec of at most ``vocab_size`` pieces (specials included) learnt from the text."""
        if level not in LEVELS:
            raise TranslateDataError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
        text = [word_split(s) if level == "word" else s for s in sentences if s.strip()]
        if not text:
            raise TranslateDataError("no non-empty training sentences to learn a vocabulary from")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(text),
            model_writer=model,
            model_type="unigram" if level == "subword" else "word",
            vocab_size=vocab_size,
            hard_vocab_limit=False,  # a small corpus may hold fewer pieces: take them all
            character_coverage=1.0,
            pad_id=PAD_ID,
            unk_id=UNK_ID,
            bos_id=BOS_ID,
            eos_id=EOS_ID,
            pad_piece=PAD,
            unk_piece=UNK,
            bos_piece=BOS,
            eos_piece=EOS,
            num_threads=1,  # same pieces on every machine
            minloglevel=2,
        )
        return cls(model.getvalue(), level)

    def __len__(self) -> int:
        return self._sp.get_piece_size()

    def encode(self, text: str) -> list[int]:
        """The ids of ``text`` (no ``<bos>`` / ``<eos>``)."""
        return self._sp.encode(word_split(text) if self.level == "word" else text)

    def decode(self, ids) -> str:
        """Plain text of ``ids``; specials are dropped."""
        text = self._sp.decode([int(i) for i in ids if int(i) > EOS_ID or int(i) == UNK_ID])
        if self.level == "subword":
            return text
        # sentencepiece writes <unk> as " ⁇ " between the spaces of its neighbours
        return detokenise_words(" ".join(text.split()))

    def pieces(self, ids) -> list[str]:
        """The piece of each id, ``▁`` marking a word start (for attention pictures)."""
        return [self._sp.id_to_piece(int(i)) for i in ids]

    @staticmethod
    def unknown(ids) -> int:
        """How many of ``ids`` are ``<unk>``."""
        return sum(1 for i in ids if int(i) == UNK_ID)

    def vocab(self) -> Vocab:
        """The pieces as a `seqlab.text.Vocab` (ids and names; for the model directory)."""
        return Vocab(self.pieces(range(len(self))), specials=SPECIALS)


# --- batches ---


class PairDataset(torch.utils.data.Dataset):
    """Encoded pairs: item i is ``(source ids, <bos> target ids <eos>, i)``."""

    def __init__(self, pairs, source: Codec, target: Codec, max_tokens: int | None = None):
        self.items = []
        self.index = []  # position of each kept pair in ``pairs``
        for i, (s, t) in enumerate(pairs):
            src = np.asarray(source.encode(s), dtype=np.int64)
            tgt = np.asarray([BOS_ID, *target.encode(t), EOS_ID], dtype=np.int64)
            if len(src) == 0 or len(tgt) == 2:
                continue
            if max_tokens is not None and max(len(src), len(tgt) - 2) > max_tokens:
                continue
            self.items.append((src, tgt))
            self.index.append(i)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        src, tgt = self.items[i]
        return src, tgt, i

    def lengths(self) -> list[int]:
        return [len(t) for _, t in self.items]

    def target_tokens(self) -> int:
        """Tokens the decoder predicts in one pass (``<eos>`` included, ``<bos>`` not)."""
        return sum(len(t) - 1 for _, t in self.items)


def collate(items) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pad a list of ``(source, target, index)`` into the batch of the module docstring."""
    sources, targets, index = zip(*items, strict=True)
    src = torch.zeros(len(items), max(len(s) for s in sources), dtype=torch.long)
    tgt = torch.zeros(len(items), max(len(t) for t in targets), dtype=torch.long)
    for row, (s, t) in enumerate(zip(sources, targets, strict=True)):
        src[row, : len(s)] = torch.from_numpy(s)
        tgt[row, : len(t)] = torch.from_numpy(t)
    lengths = torch.tensor([len(s) for s in sources])
    return src, lengths, tgt, torch.tensor(index)


def loader(dataset: PairDataset, batch_size: int, shuffle: bool, seed: int = 0):
    """Length-bucketed batches that resume mid-epoch (`ResumableBatchSampler`)."""
    sampler = ResumableBatchSampler(dataset.lengths(), batch_size, shuffle=shuffle, seed=seed)
    return torch.utils.data.DataLoader(dataset, batch_sampler=sampler, collate_fn=collate)
