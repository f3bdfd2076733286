"""Text preprocessing: tokenizers, vocabularies, encodings and batching.

Text flows through it in this order::

    tokenizer(text) -> tokens -> Vocab.encode -> ids -> one_hot / pad / Collate -> model

The torch-based parts (:class:`Collate`, :class:`BucketBatchSampler`) are imported on first
use, so ``import seqlab.text`` stays fast. Pretrained vectors become an ``nn.Embedding`` with
:func:`seqlab.embeddings.embedding_from_vectors`.
"""

import importlib

from seqlab.text.encode import one_hot, one_hot_table, pad
from seqlab.text.reader import EmptyCorpusError, TextDecodeError
from seqlab.text.tokenize import CharTokenizer, Text8Tokenizer, WordTokenizer
from seqlab.text.vocab import UnknownTokenError, Vocab

_LAZY = {
    "BucketBatchSampler": "seqlab.text.batching",
    "Collate": "seqlab.text.batching",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BucketBatchSampler",
    "CharTokenizer",
    "Collate",
    "EmptyCorpusError",
    "Text8Tokenizer",
    "TextDecodeError",
    "UnknownTokenError",
    "Vocab",
    "WordTokenizer",
    "one_hot",
    "one_hot_table",
    "pad",
]
