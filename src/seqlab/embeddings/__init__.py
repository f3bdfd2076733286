"""Word embeddings: query and store vectors (KeyedVectors), evaluate them, train them."""

from seqlab.embeddings.fasttext import FastText, FastTextKeyedVectors
from seqlab.embeddings.formats import EmbeddingFormatError
from seqlab.embeddings.glove import GloVe
from seqlab.embeddings.keyedvectors import KeyedVectors, UnknownWordError
from seqlab.embeddings.word2vec import Word2Vec

__all__ = [
    "EmbeddingFormatError",
    "FastText",
    "FastTextKeyedVectors",
    "GloVe",
    "KeyedVectors",
    "UnknownWordError",
    "Word2Vec",
]
