"""Pretrained vectors by name: a recipe trains them once on a public corpus and caches them.

No downloaded vectors (GloVe, fastText's crawl vectors) are available offline, so a classifier
that wants pretrained word vectors gets seqlab's own: ``enwiki-fasttext`` is fastText skip-gram
with character 3..6-grams, trained on all of ``enwiki_extract`` (English Wikipedia, 48.8M
words). The corpus is cut into tokens by the sentiment classifier's tokenizer (lowercased
words, digit runs and single punctuation marks, `seqlab.text.WordTokenizer`), so the tokens of a
review and of the corpus are spelled alike; the n-grams give a vector to words the corpus never
saw (misspellings, rare names).

Everything lands in ``<seqlab cache>/vectors/``: the tokenized corpus, a checkpoint after every
epoch (an interrupted build resumes from it) and the vectors, each written atomically.

Examples
--------
>>> recipe_path("enwiki-fasttext").name
'enwiki-fasttext-100d.safetensors'
>>> wv = load_vectors("enwiki-fasttext")   # doctest: +SKIP
>>> wv.most_similar("film", topn=1)          # doctest: +SKIP
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from seqlab.data import cache_root, load
from seqlab.embeddings.fasttext import FastText, FastTextKeyedVectors
from seqlab.embeddings.keyedvectors import KeyedVectors
from seqlab.io import atomic_write, check_writable
from seqlab.text import WordTokenizer


@dataclass(frozen=True)
class Recipe:
    """A corpus and the fastText settings trained on it."""

    corpus: str
    dim: int = 100
    epochs: int = 3
    min_count: int = 5
    window: int = 5
    minn: int = 3
    maxn: int = 6


#: dim 100 rather than 300 and 3 epochs rather than fastText's 5: the build stays within about
#: half an hour on 2 cores, and the classifiers reading 100-dim vectors are faster too.
RECIPES = {"enwiki-fasttext": Recipe("enwiki_extract")}


class VectorsNotBuiltError(FileNotFoundError):
    """A recipe's vectors are not in the cache yet; the message gives the command that builds
    them."""


def recipe_path(name: str) -> Path:
    """Where the vectors of recipe ``name`` are cached (whether or not they exist yet)."""
    recipe = _recipe(name)
    return cache_root() / "vectors" / f"{name}-{recipe.dim}d.safetensors"


def is_recipe(name: str) -> bool:
    """Whether ``name`` names a recipe (rather than a vectors file)."""
    return str(name) in RECIPES


@functools.lru_cache(maxsize=1)  # a GiB to read: trainings in one process share one copy
def load_vectors(name: str) -> FastTextKeyedVectors:
    """The cached vectors of recipe ``name``; `VectorsNotBuiltError` if not built yet."""
    path = recipe_path(name)
    if not path.is_file():
        raise VectorsNotBuiltError(
            f"the {name} vectors are not built yet ({path} is missing): build them once with "
            f"`seqlab classify vectors {name}` (about half an hour on 2 cores)"
        )
    return FastTextKeyedVectors.load(path)


def vectors_for_words(words, vectors: FastTextKeyedVectors) -> tuple[KeyedVectors, int]:
    """Vectors of ``words`` only: their own, or built from their n-grams when the corpus had
    none; words with neither are left out (and reported missing by the coverage line).

    Returns the vectors and how many of them were built from n-grams.

    Examples
    --------
    >>> ft = FastTextKeyedVectors(["cat"], np.ones((1, 2), np.float32))
    >>> kv, from_ngrams = vectors_for_words(["cat", "zebra"], ft)
    >>> kv.index_to_key, from_ngrams
    (['cat'], 0)
    """
    kept, rows, from_ngrams = [], [], 0
    for word in dict.fromkeys(words):
        if word in vectors.key_to_index:
            rows.append(vectors.vectors[vectors.key_to_index[word]])
        elif (row := vectors._oov_vector(word)) is not None:
            rows.append(row)
            from_ngrams += 1
        else:
            continue
        kept.append(word)
    dim = vectors.vector_size
    kv = KeyedVectors(kept, np.asarray(rows, np.float32).reshape(len(kept), dim))
    return kv, from_ngrams


def build(name: str, progress: bool = True, workers: int = 2) -> Path:
    """Train recipe ``name``'s vectors (resuming an interrupted build) and cache them.

    Returns the path of the vectors. Does nothing when they are already cached.
    """
    recipe, out = _recipe(name), recipe_path(name)
    if out.is_file():
        return out
    folder = check_writable(out.parent, folder=True)
    corpus = folder / f"{name}.tokens.txt"
    if not corpus.is_file():
        write_tokenized(recipe.corpus, corpus, progress)
    model = FastText(
        vector_size=recipe.dim,
        window=recipe.window,
        min_count=recipe.min_count,
        epochs=recipe.epochs,
        minn=recipe.minn,
        maxn=recipe.maxn,
        workers=workers,
    )
    checkpoint = folder / f"{name}.checkpoint.safetensors"
    wv = model.train(corpus, checkpoint=checkpoint, progress=progress)
    wv.save(out, format="seqlab")  # atomic, like every seqlab.io array file
    with atomic_write(out.with_suffix(".recipe.json"), "w", encoding="utf-8") as f:
        summary = {"recipe": asdict(recipe), "words": len(wv), "train_s": model.train_seconds}
        json.dump(summary, f, indent=1)
    # the vectors are safe: the tokenized corpus and the checkpoint (a GiB or so) can go
    for leftover in (corpus, checkpoint, checkpoint.with_name(checkpoint.name + ".json")):
        leftover.unlink(missing_ok=True)
    return out


def write_tokenized(corpus: str, path: Path, progress: bool = True) -> int:
    """Write ``corpus`` (a wiki corpus) one line per paragraph, in the classifier's tokens."""
    tokenize = WordTokenizer(lowercase=True)
    started, tokens = time.perf_counter(), 0
    with atomic_write(path, "w", encoding="utf-8") as f:
        for line in load(corpus, progress=progress).lines():
            words = tokenize(line)
            if words:
                f.write(" ".join(words) + "\n")
                tokens += len(words)
    if progress:
        print(f"{corpus}: {tokens:,} tokens in {time.perf_counter() - started:.0f} s -> {path}")
    return tokens


def _recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise ValueError(f"unknown vectors recipe {name!r}: choose one of {', '.join(RECIPES)}")
    return RECIPES[name]
