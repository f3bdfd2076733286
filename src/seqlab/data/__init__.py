"""Named public datasets: a registry with official URLs and checksums, and typed loaders.

>>> from seqlab import data
>>> ds = data.load("sst2")                          # doctest: +SKIP
>>> ds.train[0]                                     # doctest: +SKIP
('hide new secretions from the parental units', 0)
>>> data.path("wiki_text8")                         # doctest: +SKIP
PosixPath('/root/.cache/seqlab/wiki_text8/wiki_text8.txt')

Datasets are looked up in ``$SEQLAB_DATA`` (a local mirror laid out like ``../shared/data``),
then in the cache (``$SEQLAB_CACHE``, default ``~/.cache/seqlab``), then downloaded from their
official URLs into the cache and verified against the registered checksums.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from seqlab.data import captions, classification, corpora, korean_tests, similarity, translation
from seqlab.data.errors import (
    ChecksumError,
    CorruptArchiveError,
    DatasetError,
    DatasetNotFoundError,
    IncompleteDownloadError,
    UnknownDatasetError,
)
from seqlab.data.fetch import cache_root, fetch, locate, mirror_root, where
from seqlab.data.registry import REGISTRY, get
from seqlab.data.summary import summarize

__all__ = [
    "REGISTRY",
    "ChecksumError",
    "CorruptArchiveError",
    "DatasetError",
    "DatasetNotFoundError",
    "IncompleteDownloadError",
    "UnknownDatasetError",
    "available",
    "cache_root",
    "fetch",
    "load",
    "locate",
    "mirror_root",
    "names",
    "path",
    "summarize",
    "where",
]

LOADERS: dict[str, Callable[..., object]] = {
    "enwiki_extract": lambda progress: corpora.load_wiki("enwiki_extract", progress),
    "kowiki_extract": lambda progress: corpora.load_wiki("kowiki_extract", progress),
    "wiki_text8": lambda progress: corpora.load_text8_like("wiki_text8", progress),
    "text8": lambda progress: corpora.load_text8_like("text8", progress),
    "google_analogy": similarity.load_google_analogy,
    "wordsim353": similarity.load_wordsim353,
    "simlex999": similarity.load_simlex999,
    "men": similarity.load_men,
    "rareword": similarity.load_rareword,
    "kor2vec_tests": korean_tests.load_kor2vec_tests,
    "kor_analogy_park2018": korean_tests.load_park2018,
    "rt_polarity": classification.load_rt_polarity,
    "sst2": classification.load_sst2,
    "imdb": classification.load_imdb,
    "multi30k": translation.load_multi30k,
    "tatoeba_eng_fra": translation.load_tatoeba_eng_fra,
    "tinyshakespeare": corpora.load_tinyshakespeare,
    "ptb": corpora.load_ptb,
    "names": classification.load_names,
    "flickr8k": captions.load_flickr8k,
}


def names() -> list[str]:
    """Every registered dataset name, in registry order."""
    return list(REGISTRY)


def load(name: str, progress: bool = True):
    """Load dataset ``name`` into its typed object (downloading it first if needed).

    Returns
    -------
    Corpus | SplitCorpus | CharCorpus | LabeledTexts | SST2 | Multi30k | SentencePairs |
    WordPairs | Analogies | Captions
        See ``seqlab data info NAME`` for the splits of each dataset. Corpora stream lazily.
    """
    get(name)  # an unknown name raises UnknownDatasetError listing the known ones
    return LOADERS[name](progress=progress)


def path(name: str, progress: bool = True) -> Path:
    """The local path of ``name``: the text file of ``wiki_text8`` / ``text8``, else its folder.

    ``wiki_text8`` is built from ``enwiki_extract`` on first use (about 20 s) and cached at
    ``<cache>/wiki_text8/wiki_text8.txt``; evaluation files live in the folder, e.g.
    ``path("google_analogy") / "questions-words.txt"``.
    """
    if name in ("wiki_text8", "text8"):
        return load(name, progress).path
    return fetch(name, progress)


def available() -> list[str]:
    """Names of the datasets found locally (mirror or cache), without downloading anything."""
    return [name for name in REGISTRY if where(name) != "missing"]
