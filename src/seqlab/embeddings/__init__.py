"""Word embeddings: query and store vectors (KeyedVectors), evaluate them, train them.

:func:`embedding_from_vectors` (pretrained vectors into an ``nn.Embedding``) needs torch and is
imported on first use, so ``import seqlab.embeddings`` does not load torch.
"""

import importlib

from seqlab.embeddings.fasttext import FastText, FastTextKeyedVectors
from seqlab.embeddings.formats import EmbeddingFormatError
from seqlab.embeddings.glove import GloVe
from seqlab.embeddings.keyedvectors import KeyedVectors, UnknownWordError
from seqlab.embeddings.word2vec import Word2Vec

_LAZY = {
    "Coverage": "seqlab.embeddings.pretrained",
    "coverage": "seqlab.embeddings.pretrained",
    "embedding_from_vectors": "seqlab.embeddings.pretrained",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Coverage",
    "EmbeddingFormatError",
    "FastText",
    "FastTextKeyedVectors",
    "GloVe",
    "KeyedVectors",
    "UnknownWordError",
    "Word2Vec",
    "coverage",
    "embedding_from_vectors",
]
