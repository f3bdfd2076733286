"""``onehot-vs-embedding``: why words are fed to networks as learned vectors, not one-hots.

- A one-hot vector has one dimension per vocabulary word: at the corpus's vocabulary size V it
  costs 4·V bytes per token as float32 input, and every two different words are exactly √2 apart
  (cosine 0) — "cat" is as far from "dog" as from "democracy".
- A learned skip-gram embedding (:class:`seqlab.embeddings.Word2Vec`) has d ≪ V dimensions
  (4·d bytes) and puts related words together: king near queen, paris near france.

Both sides are measured on the same sample words; the one-hot vectors are really built.

Run it: ``seqlab lab onehot-vs-embedding`` (trains small vectors first; ``seqlab demo`` passes
its own).
"""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from seqlab import data
from seqlab.lab.experiment import figure, record
from seqlab.lab.vectors import TrainedVectors, train_vectors

#: related word pairs; their words are the sample both representations are measured on
RELATED = (
    ("king", "queen"),
    ("man", "woman"),
    ("paris", "france"),
    ("london", "england"),
    ("dog", "cat"),
    ("study", "learn"),
)
SAMPLE = tuple(word for pair in RELATED for word in pair)

#: (tokens, epochs) of the vectors trained when none are given
TRAINING = {False: (3_000_000, 3), True: (1_000_000, 3)}


def corpus_vocab_size(corpus: str) -> int | None:
    """Distinct words of the whole corpus, from ``seqlab.data.summarize`` (None if unknown)."""
    try:
        return int(data.summarize(corpus)["vocab"])
    except (KeyError, ValueError, OSError, TypeError):
        return None


def onehot(ids: list[int], size: int) -> np.ndarray:
    """Dense float32 one-hot rows, shape (len(ids), size) — what a network would be fed."""
    rows = np.zeros((len(ids), size), dtype=np.float32)
    rows[np.arange(len(ids)), ids] = 1.0
    return rows


def pairwise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distances and cosines between all rows of ``x`` (n, d): two (n, n) arrays."""
    sq = (x * x).sum(1)
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0))
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    return dist, unit @ unit.T


def off_diagonal(m: np.ndarray) -> np.ndarray:
    return m[~np.eye(len(m), dtype=bool)]


def run(
    out_dir: str | Path, quick: bool = False, seed: int = 0, vectors: TrainedVectors | None = None
) -> dict[str, Any]:
    """Measure one-hot size and distances against learned vectors on the same words.

    ``vectors``: word vectors to compare against (the demo passes its own); when None, small
    skip-gram vectors are trained on the first 3M (quick: 1M) tokens of the best corpus
    (3 epochs).

    Examples
    --------
    It writes ``onehot-vs-embedding.png`` and ``onehot-vs-embedding.json`` into ``out_dir``. It
    trains on a corpus of the mirror for tens of seconds, so the example is skipped as a
    doctest; ``tests/lab`` runs the experiment.

    >>> result = run("runs/lab", quick=True)  # doctest: +SKIP
    >>> result["numbers"]["onehot"]["distinct_distances"]  # doctest: +SKIP
    [1.4142]
    """
    started = time.perf_counter()
    if vectors is None:
        tokens, epochs = TRAINING[quick]
        vectors = train_vectors(tokens=tokens, epochs=epochs, seed=seed + 1)
    kv = vectors.kv
    words = [w for w in SAMPLE if w in kv]
    if len(words) < 2:
        raise ValueError(
            f"the vectors know {len(words)} of the sample words {SAMPLE}: train on more text"
        )
    model_vocab = len(kv)
    corpus_vocab = corpus_vocab_size(vectors.corpus)
    vocab = corpus_vocab or model_vocab

    hot = onehot([kv.key_to_index[w] for w in words], vocab)  # (n, V)
    hot_dist, hot_cos = pairwise(hot)
    emb = np.stack([kv[w] for w in words]).astype(np.float32)  # (n, d)
    emb_dist, emb_cos = pairwise(emb)
    d = kv.vector_size
    index = {w: i for i, w in enumerate(words)}
    related = [(a, b) for a, b in RELATED if a in index and b in index]
    related_cos = [float(emb_cos[index[a], index[b]]) for a, b in related]
    pairs = set(related) | {(b, a) for a, b in related}
    unrelated_cos = [
        float(emb_cos[index[a], index[b]])
        for a, b in itertools.combinations(words, 2)
        if (a, b) not in pairs
    ]
    nearest = {
        w: [[n, round(float(c), 4)] for n, c in kv.most_similar(w, topn=5)] for w in words[:6]
    }

    fig, axes = figure(ncols=2, width=5.5, height=5)
    for ax, m, what in (
        (axes[0], hot_cos, f"one-hot (V = {vocab:,})"),
        (axes[1], emb_cos, f"skip-gram embedding (d = {d})"),
    ):
        image = ax.imshow(m, vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set_xticks(range(len(words)), words, rotation=90)
        ax.set_yticks(range(len(words)), words)
        ax.set_title(what)
    fig.suptitle("cosine similarity between the sample words")
    fig.colorbar(image, ax=axes, shrink=0.8)

    hot_distinct = sorted({round(float(v), 4) for v in off_diagonal(hot_dist)})
    headers = [
        "representation",
        "dimensions",
        "bytes/token (float32)",
        "pairwise distance min",
        "max",
        "cosine min",
        "max",
    ]
    rows = [
        [
            f"one-hot, corpus vocabulary ({vectors.corpus})",
            vocab,
            4 * vocab,
            off_diagonal(hot_dist).min(),
            off_diagonal(hot_dist).max(),
            off_diagonal(hot_cos).min(),
            off_diagonal(hot_cos).max(),
        ],
        [
            f"skip-gram embedding (vocabulary {model_vocab:,})",
            d,
            4 * d,
            off_diagonal(emb_dist).min(),
            off_diagonal(emb_dist).max(),
            off_diagonal(emb_cos).min(),
            off_diagonal(emb_cos).max(),
        ],
    ]
    mean_related = float(np.mean(related_cos)) if related_cos else math.nan
    mean_unrelated = float(np.mean(unrelated_cos)) if unrelated_cos else math.nan
    checks = {
        "one-hot: every two words are equally far apart (√2, cosine 0)": (
            hot_distinct == [round(math.sqrt(2), 4)]
            and float(np.abs(off_diagonal(hot_cos)).max()) == 0.0
        ),
        f"one-hot costs over 100× the bytes of a {d}-d embedding": vocab > 100 * d,
        "embedding: related words are closer than the other sample pairs (mean cosine)": (
            mean_related > mean_unrelated
        ),
    }
    numbers = {
        "corpus": vectors.corpus,
        "trained_tokens": vectors.tokens,
        "epochs": vectors.epochs,
        "corpus_vocab": corpus_vocab,
        "model_vocab": model_vocab,
        "sample_words": words,
        "onehot": {
            "dimensions": vocab,
            "bytes_per_token": 4 * vocab,
            "bytes_per_token_as_index": 4,
            "distinct_distances": hot_distinct,
            "cosines": sorted({round(float(v), 4) for v in off_diagonal(hot_cos)}),
        },
        "embedding": {
            "dimensions": d,
            "bytes_per_token": 4 * d,
            "cosine_matrix": np.round(emb_cos, 4).tolist(),
            "related_pairs": [[a, b, c] for (a, b), c in zip(related, related_cos, strict=True)],
            "mean_cosine_related": mean_related,
            "mean_cosine_other": mean_unrelated,
            "nearest": nearest,
        },
    }
    extra = [
        {
            "caption": "nearest words in the learned vectors (cosine)",
            "headers": ["word", "5 nearest words"],
            "rows": [
                [w, ", ".join(f"{n} {c:.2f}" for n, c in near)] for w, near in nearest.items()
            ],
        }
    ]
    return record(
        out_dir,
        name="onehot-vs-embedding",
        title="One-hot vectors vs learned embeddings: size and distances",
        claim="One-hot vectors are huge, sparse and all equally distant; learned vectors are "
        "small and put similar words together.",
        quick=quick,
        seed=seed,
        started=started,
        headers=headers,
        rows=rows,
        numbers=numbers,
        checks=checks,
        fig=fig,
        extra_tables=extra,
    )
