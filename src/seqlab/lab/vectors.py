"""The word vectors of the lab: which corpus, how much of it, how trained, and the lecture's
queries (nearest words, analogies) answered without failing on words the corpus lacks.

Training goes through :class:`seqlab.embeddings.Word2Vec` (skip-gram, negative sampling); this
module only chooses its inputs and reads its output.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from seqlab import data
from seqlab.embeddings import Word2Vec

#: the lecture's nearest-word probes
PROBES = ("study", "skill")
#: the lecture's analogies, each (a, b, c) read as a − b + c
ANALOGIES = (("king", "man", "woman"), ("woman", "queen", "king"), ("korea", "seoul", "tokyo"))
#: corpora to train on, best first: text8 itself when a user has it, else its stand-in
CORPORA = ("text8", "wiki_text8")
#: the corpora are read in chunks of this many tokens (``seqlab.data`` Corpus.sentences)
CHUNK_TOKENS = 10_000


class NoCorpusError(RuntimeError):
    """None of the training corpora is available locally."""


@dataclass
class TrainedVectors:
    """Vectors plus how they were made (for the report)."""

    kv: Any  # seqlab.embeddings.KeyedVectors
    corpus: str
    tokens: int | None  # tokens trained on; None = the whole corpus
    epochs: int
    seconds: float
    settings: dict = field(default_factory=dict)


def best_corpus() -> str:
    """``text8`` when available locally, else ``wiki_text8`` (built from the mirror)."""
    local = set(data.available())
    for name in CORPORA:
        if name in local:
            return name
    if "enwiki_extract" in local:
        return "wiki_text8"  # built from enwiki_extract on first use
    raise NoCorpusError(
        "no embedding corpus found: set SEQLAB_DATA to the dataset mirror (it holds "
        "enwiki_extract, from which wiki_text8 is built) or run `seqlab data fetch text8` "
        "(needs internet)"
    )


def train_vectors(
    corpus: str | None = None,
    tokens: int | None = None,
    epochs: int = 1,
    vector_size: int = 100,
    workers: int = 2,
    seed: int = 1,
    progress: bool = True,
) -> TrainedVectors:
    """Skip-gram vectors on ``corpus`` (default :func:`best_corpus`), on its first ``tokens``
    tokens (None: all of it), for ``epochs`` passes.

    Examples
    --------
    >>> tv = train_vectors(tokens=200_000, epochs=1, progress=False)  # doctest: +SKIP
    >>> tv.kv.vector_size  # doctest: +SKIP
    100
    """
    name = corpus or best_corpus()
    source = data.load(name, progress=progress)
    if tokens is None:
        text = source.path  # the trainer reads the file itself: fastest
    else:
        # the first `tokens` tokens, streamed: the file is never read further than that
        text = list(itertools.islice(source.sentences(), max(1, tokens // CHUNK_TOKENS)))
    # negatives shared across each window: a third less time for the demo's few epochs
    model = Word2Vec(
        algo="skipgram",
        vector_size=vector_size,
        epochs=epochs,
        workers=workers,
        seed=seed,
        shared_negatives=True,
    )
    started = time.perf_counter()
    kv = model.train(text, progress=progress)
    return TrainedVectors(
        kv=kv,
        corpus=name,
        tokens=tokens,
        epochs=epochs,
        seconds=time.perf_counter() - started,
        settings={
            **model.hyperparameters(),
            "workers": workers,
            "loss_history": model.loss_history,
        },
    )


def missing(kv, words) -> list[str]:
    """The words of ``words`` that ``kv`` does not know."""
    return [w for w in words if w not in kv]


def nearest_words(kv, probes=PROBES, topn: int = 10) -> dict[str, Any]:
    """For each probe: its ``topn`` nearest words as [word, cosine], or a note that it is missing.

    Examples
    --------
    >>> import numpy as np
    >>> from seqlab.embeddings import KeyedVectors
    >>> kv = KeyedVectors(["study", "learn", "eat"], np.array([[1, 0], [1, .1], [0, 1]]))
    >>> out = nearest_words(kv, ("study", "skill"), topn=1)
    >>> out["study"]["nearest"][0][0], out["skill"]["missing"]
    ('learn', ['skill'])
    """
    out: dict[str, Any] = {}
    for word in probes:
        if word in kv:
            out[word] = {"nearest": [[w, float(c)] for w, c in kv.most_similar(word, topn=topn)]}
        else:
            out[word] = {"missing": [word], "note": f"the corpus lacks {word!r}"}
    return out


def analogies(kv, questions=ANALOGIES, topn: int = 5) -> list[dict[str, Any]]:
    """Answer each a − b + c; a missing word is reported in plain words instead of raising.

    Examples
    --------
    >>> import numpy as np
    >>> from seqlab.embeddings import KeyedVectors
    >>> kv = KeyedVectors(["king", "man", "woman", "queen"],
    ...                   np.array([[1, 1], [1, 0], [0, 0.1], [0.1, 1]]))
    >>> analogies(kv, [("king", "man", "woman"), ("korea", "seoul", "tokyo")], topn=1)[1]["note"]
    "the corpus lacks 'korea', 'seoul', 'tokyo'"
    """
    out = []
    for a, b, c in questions:
        entry: dict[str, Any] = {"query": f"{a} − {b} + {c}"}
        lacking = missing(kv, (a, b, c))
        if lacking:
            entry["missing"] = lacking
            entry["note"] = "the corpus lacks " + ", ".join(repr(w) for w in lacking)
        else:
            entry["answers"] = [[w, float(s)] for w, s in kv.analogy(a, b, c, topn=topn)]
        out.append(entry)
    return out
