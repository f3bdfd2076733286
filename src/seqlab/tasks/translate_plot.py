"""The attention matrix of one translation as a heatmap PNG: output pieces × source pieces."""

from __future__ import annotations

import numpy as np

from seqlab.io import atomic_write


def attention_heatmap(source: list[str], output: list[str], weights: np.ndarray, path) -> None:
    """Draw ``weights`` (len(output), len(source)), each row summing to 1, into ``path``.

    Row t shows where the decoder looked when it wrote output piece t; ``▁`` marks the pieces
    that start a word.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> png = pathlib.Path(tempfile.mkdtemp()) / "attention.png"
    >>> attention_heatmap(["▁Ein", "▁Mann"], ["▁A", "▁man", "<eos>"], np.full((3, 2), 0.5), png)
    >>> png.read_bytes()[:4]
    b'\\x89PNG'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weights = np.asarray(weights, dtype=float)
    if weights.shape != (len(output), len(source)):
        raise ValueError(
            f"weights have shape {weights.shape}; expected (output, source) = "
            f"({len(output)}, {len(source)})"
        )
    fig, ax = plt.subplots(figsize=(1.5 + 0.45 * len(source), 1.2 + 0.35 * len(output)))
    ax.imshow(weights, cmap="Greys", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(source)), source, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(output)), output, fontsize=8)
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    fig.tight_layout()
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=110)
    plt.close(fig)
