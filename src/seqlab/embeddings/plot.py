"""Pictures of word vectors: a labelled 2-D projection (PCA or t-SNE), with analogy arrows.

Drawing ``king -> queen`` next to ``man -> woman`` shows the vector offset behind analogies: in a
good embedding the two arrows are roughly parallel and of equal length.
"""

from __future__ import annotations

import os
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.figure import Figure

from seqlab.io import atomic_write

if TYPE_CHECKING:
    from seqlab.embeddings.keyedvectors import KeyedVectors

# Fonts with Hangul/CJK glyphs, tried in order; DejaVu Sans (matplotlib's default) has none.
_CJK_FONTS = (
    "Noto Sans CJK KR",
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans KR",
    "NanumGothic",
    "Malgun Gothic",
    "AppleGothic",
    "Apple SD Gothic Neo",
    "UnDotum",
    "Baekmuk Gulim",
    "Source Han Sans KR",
)


@dataclass
class PlotResult:
    """What was drawn: the PNG path, the words and their 2-D coordinates (k, 2)."""

    path: Path
    words: list[str]
    coords: np.ndarray
    font_fallback: bool  # True when some labels need glyphs no installed font has


def project(vectors: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """2-D coordinates (k, 2) of the rows of ``vectors`` (k, d), by PCA or t-SNE.

    PCA keeps the two directions of largest variance (SVD of the centred rows), so parallel
    offsets stay parallel; t-SNE (scikit-learn) keeps neighbourhoods instead.

    Examples
    --------
    >>> project(np.eye(3, dtype=np.float32)).shape
    (3, 2)
    """
    x = np.asarray(vectors, dtype=np.float64)
    if method == "pca":
        centred = x - x.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)  # vt: (min(k, d), d)
        coords = centred @ vt[:2].T
        return np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
    if method == "tsne":
        from sklearn.manifold import TSNE  # scikit-learn takes seconds to import: t-SNE only

        if len(x) < 3:
            raise ValueError(
                "t-SNE needs at least 3 words; use method='pca' (--method pca) for fewer"
            )
        tsne = TSNE(
            n_components=2, perplexity=min(30.0, len(x) - 1.0), init="pca", random_state=seed
        )
        return tsne.fit_transform(x)
    raise ValueError(f"unknown projection {method!r}: use 'pca' or 'tsne'")


def plot_words(
    kv: KeyedVectors,
    words: Sequence[str] = (),
    out: str | os.PathLike = "words.png",
    neighbours: int = 0,
    method: str = "pca",
    analogies: Sequence[Sequence[str]] = (),
    title: str | None = None,
    seed: int = 0,
) -> PlotResult:
    """Write a PNG of ``words`` (plus each one's ``neighbours`` nearest words) projected to 2-D.

    Parameters
    ----------
    kv : the vectors.
    words : words to show.
    out : PNG path (written atomically).
    neighbours : also show this many nearest neighbours of every word in ``words``.
    method : ``"pca"`` or ``"tsne"``.
    analogies : 4-tuples ``(a, b, c, d)`` drawn as arrows ``a -> b`` and ``c -> d``
        (``("man", "woman", "king", "queen")``); their words are shown too.
    title : figure title (default: the method and the number of words).
    seed : t-SNE random seed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from seqlab.embeddings import KeyedVectors
    >>> kv = KeyedVectors(["man", "woman", "king", "queen", "왕"],
    ...                   np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32))
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "w.png"
    >>> plot_words(kv, ["왕"], out, analogies=[("man", "woman", "king", "queen")]).words
    ['왕', 'man', 'woman', 'king', 'queen']
    """
    chosen = list(dict.fromkeys([*words, *(w for quad in analogies for w in quad)]))
    for quad in analogies:
        if len(quad) != 4:
            raise ValueError(f"an analogy needs 4 words 'a b c d', got {list(quad)}")
    if neighbours > 0 and words:
        for row in kv.nearest(list(words), topn=neighbours):
            chosen += [w for w, _ in row if w not in chosen]
    if not chosen:
        raise ValueError("nothing to plot: give some words or analogies")
    kv._check_known(chosen)
    coords = project(np.stack([kv.get_vector(w, norm=True) for w in chosen]), method, seed)

    font, font_fallback = _font_for(chosen)
    style = {"font.sans-serif": [font, *matplotlib.rcParams["font.sans-serif"]]} if font else {}
    with matplotlib.rc_context(style), warnings.catch_warnings():
        # Without a CJK font matplotlib warns per missing glyph and draws boxes: we report it once.
        warnings.filterwarnings("ignore", message=".*Glyph .* missing from.*")
        _draw(chosen, coords, set(words), analogies, title or "", method, Path(out))
    return PlotResult(Path(out), chosen, coords, font_fallback)


def _draw(chosen, coords, query, analogies, title, method, out: Path) -> None:
    """Scatter, labels and arrows on an Agg figure (no pyplot: no global backend switch)."""
    position = dict(zip(chosen, coords, strict=True))
    fig = Figure(figsize=(8, 6), dpi=120)
    ax = fig.add_subplot()
    ax.scatter(coords[:, 0], coords[:, 1], s=18, c=["C3" if w in query else "C0" for w in chosen])
    for word, (x, y) in position.items():
        ax.annotate(word, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=9)
    for i, (a, b, c, d) in enumerate(analogies):
        for start, end in ((a, b), (c, d)):
            ax.annotate(
                "",
                xy=position[end],
                xytext=position[start],
                arrowprops={"arrowstyle": "->", "color": f"C{(i + 1) % 10}", "lw": 1.5},
            )
    ax.set_title(title or f"{method.upper()} projection of {len(chosen)} words")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    with atomic_write(out, "wb") as f:
        fig.savefig(f, format="png")


def _font_for(labels: Sequence[str]) -> tuple[str | None, bool]:
    """An installed CJK font if the labels need one, and whether we must fall back without one."""
    if all(unicodedata.east_asian_width(ch) in ("Na", "N", "A", "H") for w in labels for ch in w):
        return None, False
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in _CJK_FONTS:
        if name in installed:
            return name, False
    return None, True
