"""Captioning runs: the data of each set, training from the command line, BLEU, pictures.

- `load_data`: the shapes scenes (generated, `seqlab.data.shapes`) or Flickr8k (captions from
  the registry, pictures from the user's archive, `seqlab.data.caption_images`), as pictures
  and reference captions per split.
- `bleu`: BLEU-1 … BLEU-4 with sacrebleu, each caption against **all** its references,
  corpus-level, on the words as `seqlab.tasks.caption.words` reads them; reported in [0, 1].
- `evaluate`: a saved model on a split, greedy and beam search; on shapes also on the scenes
  with seen and with held-out colour-shape pairs separately.
- `draw_captions`, `draw_attention`: the pictures with their captions, and where the model
  looked for each word.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from seqlab.io import atomic_write
from seqlab.tasks import run_record
from seqlab.tasks.caption import (
    CaptionConfig,
    Captioner,
    CaptionInputError,
    train,
    words,
)

DATASETS = ("shapes", "flickr8k")
#: settings that differ from `CaptionConfig`'s defaults for one data set: Flickr8k's photographs
#: are read at 64 × 64 and its rare words (seen fewer than 5 times) become <unk>
DATASET_DEFAULTS = {"flickr8k": {"side": 64, "min_freq": 5, "channels": 48, "max_words": 24}}
CONFIG_DEFAULTS = run_record.defaults_of(CaptionConfig)


def load_data(dataset: str, side: int, options: dict) -> tuple[dict, dict, dict, dict]:
    """``(pictures, captions, info, unseen)`` by split (train, valid, test) for ``dataset``.

    ``unseen[split]`` marks the shapes scenes with a held-out colour-shape pair (empty for
    Flickr8k).

    ``options``: for shapes ``scenes`` (training scenes), ``valid`` and ``test`` (scenes of
    those splits) and ``data_seed``; for Flickr8k ``images`` (the archive or folder) and
    ``limit`` (first N pictures of each split).
    """
    if dataset == "shapes":
        from seqlab.data.shapes import load_shapes

        data = load_shapes(
            train=options.get("scenes") or 8000,
            valid=options.get("valid") or 500,
            test=options.get("test") or 1000,
            side=side,
            seed=options.get("data_seed") or 0,
        )
        splits = {"train": data.train, "valid": data.valid, "test": data.test}
        pictures = {k: v.images for k, v in splits.items()}
        captions = {k: v.captions for k, v in splits.items()}
        info = {"dataset": "shapes", "data_settings": data.settings}
        return pictures, captions, info, {k: v.unseen for k, v in splits.items()}
    if dataset == "flickr8k":
        from seqlab.data.caption_images import Flickr8kImages, load_split
        from seqlab.data.captions import load_flickr8k

        images = Flickr8kImages.locate(options.get("images"))
        limit = options.get("limit")
        text = load_flickr8k(progress=False)
        pictures, captions = {}, {}
        for split, official in (("train", "train"), ("valid", "dev"), ("test", "test")):
            pictures[split], captions[split], _ = load_split(text, official, side, images, limit)
        where = str(Path(images.source).resolve())
        info = {"dataset": "flickr8k", "data_settings": {"images": where, "limit": limit}}
        return pictures, captions, info, {}
    raise CaptionInputError(f"unknown dataset {dataset!r}: choose {' or '.join(DATASETS)}")


def train_run(dataset: str, out, options: dict, data_options: dict, quiet: bool = False):
    """Train on ``dataset`` with its defaults under ``options``; resumable on the same ``out``."""
    out = Path(out)
    config = CaptionConfig(**{**DATASET_DEFAULTS.get(dataset, {}), **options})
    run = {"dataset": dataset, "config": dataclasses.asdict(config), "data": data_options}
    run_record.check(out, run, CaptionInputError, defaults=CONFIG_DEFAULTS)
    started = time.perf_counter()
    pictures, captions, info, _ = load_data(dataset, config.side, data_options)
    prepare_s = time.perf_counter() - started
    run_record.write(out, run)
    cap, summary = train(pictures, captions, config, out, info, quiet=quiet)
    return cap, {**summary, "prepare_s": prepare_s}


def bleu(hypotheses: list[str], references: list[list[str]]) -> dict:
    """BLEU-1 … BLEU-4 in [0, 1] of ``hypotheses``, each against all of its ``references``.

    sacrebleu wants one stream per reference position: pictures with fewer references repeat
    their last one, which changes neither the clipped counts nor the closest length.

    Examples
    --------
    >>> refs = ["a red circle left of a blue square", "a blue square right of a red circle"]
    >>> scores = bleu(["a blue square right of a red circle"], [refs])
    >>> round(scores["bleu4"], 6), round(bleu(["a blue circle"], [refs])["bleu1"], 3)
    (1.0, 0.189)
    """
    import sacrebleu  # loads only when captions are scored

    if len(hypotheses) != len(references) or not hypotheses:
        raise CaptionInputError("BLEU needs one hypothesis per reference list, at least one")
    refs = [[" ".join(words(r)) for r in rs] or [""] for rs in references]
    hyps = [" ".join(words(h)) for h in hypotheses]
    width = max(len(r) for r in refs)
    streams = [[r[min(k, len(r) - 1)] for r in refs] for k in range(width)]
    scores = {}
    for n in range(1, 5):
        metric = sacrebleu.metrics.BLEU(max_ngram_order=n, tokenize="none")
        scores[f"bleu{n}"] = metric.corpus_score(hyps, streams).score / 100
    return scores


def evaluate(path, split: str = "test", beam: int = 3, images=None, png=None) -> dict:
    """BLEU of greedy and beam-search captions of ``split`` of the model's data.

    ``png``: also draw the first eight pictures with their beam-search captions (on shapes,
    four with seen colour-shape pairs and four with held-out ones).
    """
    cap = Captioner.load(path)
    dataset = cap.info.get("dataset")
    settings = dict(cap.info.get("data_settings") or {})
    if dataset == "shapes":
        options = {
            "scenes": settings.get("train"),
            "valid": settings.get("valid"),
            "test": settings.get("test"),
            "data_seed": settings.get("seed"),
        }
    elif dataset == "flickr8k":
        options = {"images": images or settings.get("images"), "limit": settings.get("limit")}
    else:
        raise CaptionInputError(f"{path}: the model does not say which data it was trained on")
    pictures, captions, _, unseen = load_data(dataset, cap.config.side, options)
    pictures, references = pictures[split], captions[split]
    groups = {"all": np.ones(len(references), dtype=bool)}
    if split in unseen:
        groups.update(seen=~unseen[split], unseen=unseen[split])
    result = {"dataset": dataset, "split": split, "pictures": len(references), "beam": beam}
    started = time.perf_counter()
    for mode, width in (("greedy", 1), ("beam", beam)):
        found = [c.text for c in cap.caption(pictures, beam=width)]
        for group, mask in groups.items():
            if mask.any():
                chosen = np.flatnonzero(mask)
                scores = bleu([found[i] for i in chosen], [references[i] for i in chosen])
                result[f"{mode}_{group}"] = {**scores, "pictures": int(mask.sum())}
        result[f"{mode}_examples"] = [
            {"caption": found[i], "references": references[i][:2]}
            for i in range(min(4, len(found)))
        ]
        if mode == "beam" and png is not None:
            shown = _shown(groups)
            titles = [_group_of(groups, i) for i in shown]
            draw_captions(pictures[shown], [found[i] for i in shown], png, titles=titles)
    result["time_s"] = time.perf_counter() - started
    return result


def _shown(groups: dict) -> list[int]:
    """Eight pictures to draw: four seen and four unseen scenes, or the first eight."""
    if "unseen" not in groups:
        return list(range(min(8, len(groups["all"]))))
    return [int(i) for g in ("seen", "unseen") for i in np.flatnonzero(groups[g])[:4]]


def _group_of(groups: dict, index: int) -> str:
    if "unseen" not in groups:
        return ""
    return "held-out pair" if groups["unseen"][index] else "seen pairs"


# --- pictures ---


def draw_captions(pictures, captions: list[str], path, columns: int = 4, titles=None) -> None:
    """The pictures in a grid, each with its caption under it, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = -(-len(pictures) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 3.3 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, (picture, caption) in enumerate(zip(pictures, captions, strict=True)):
        ax = axes.flat[i]
        ax.imshow(picture, interpolation="nearest")
        words_per_line, parts = 5, caption.split()
        lines = [" ".join(parts[j : j + words_per_line]) for j in range(0, len(parts), 5)]
        title = "\n".join(lines)
        if titles is not None:
            title = f"{titles[i]}\n{title}"
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=100)
    plt.close(fig)


def draw_attention(picture: np.ndarray, caption: str, weights: np.ndarray, path) -> None:
    """The picture once per word, the attention weights of that word's step laid over it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tokens = [*caption.split(), "<eos>"]
    grid = round(weights.shape[1] ** 0.5)
    side = picture.shape[0]
    columns = min(len(tokens), 6)
    rows = -(-len(tokens) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.4 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, token in enumerate(tokens):
        ax = axes.flat[i]
        ax.imshow(picture, interpolation="nearest")
        heat = weights[i].reshape(grid, grid)
        ax.imshow(
            heat, cmap="magma", alpha=0.6, extent=(0, side, side, 0), interpolation="bilinear"
        )
        ax.set_title(token, fontsize=9)
    fig.tight_layout()
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=100)
    plt.close(fig)
