"""Which tokens pushed a prediction: gradient × input on the embeddings.

For a text with embedded tokens e_1 … e_T and the logit z_c of class c, the attribution of token
t is ``(∂z_c/∂e_t) · e_t``: the first-order change of z_c if token t's embedding were removed
(set to zero). Positive scores argue for class c, negative ones against it. It is cheap (one
backward pass) and local, so read it as a hint, not a proof. A classifier whose vote includes
a bag-of-n-grams model (``ngram_weight``) names the class of the whole vote, and the scores
explain its recurrent models' logit.

`attribute` computes the scores; `terminal_line` colours the tokens for a terminal (green for,
red against c) and `html_page` draws the same as highlighted text in an HTML file.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import torch

from seqlab.io import atomic_write
from seqlab.tasks.classify import Classifier


@dataclass
class Attribution:
    """Tokens of a text, each with its score for ``label`` (the predicted class by default)."""

    text: str
    tokens: list[str]
    scores: np.ndarray
    label: str
    probability: float
    level: str = "word"


def attribute(clf: Classifier, text: str, label: str | None = None) -> Attribution:
    """Gradient × input of each token of ``text`` for ``label`` (default: the predicted class).

    Raises ``ClassifyInputError`` for empty or all-unknown texts, ``ValueError`` for an unknown
    ``label``.
    """
    tokens, ids = clf.encode(text)
    model = clf.model
    model.eval()
    ids_t = torch.as_tensor(ids, device=next(model.parameters()).device)[None, :]
    embedded = model.embedding(ids_t).detach().requires_grad_(True)  # (1, T, E)
    with torch.enable_grad():
        logits = model.from_embedded(embedded, torch.tensor([len(ids)]))[0]
        # the class and probability of the whole vote (with an n-gram model's, if any); the
        # scores explain the recurrent models' part of it
        probs = clf.probabilities([text])[0]
        if label is None:
            target = int(probs.argmax())
        elif label in clf.labels:
            target = clf.labels.index(label)
        else:
            raise ValueError(f"label {label!r} is not one of the model's classes {clf.labels}")
        (grad,) = torch.autograd.grad(logits[target], embedded)
    scores = (grad * embedded).sum(-1)[0].detach().cpu().numpy()
    return Attribution(
        text, tokens, scores, clf.labels[target], float(probs[target]), clf.tokenizer.level
    )


def _strengths(scores: np.ndarray) -> np.ndarray:
    """Scores scaled into [-1, 1] by the largest magnitude (all zero stays zero)."""
    peak = float(np.abs(scores).max()) if scores.size else 0.0
    return scores / peak if peak > 0 else np.zeros_like(scores)


def terminal_line(attr: Attribution, color: bool = True) -> str:
    """The tokens on one line, backgrounds green (for the class) or red (against), by strength.

    Without ``color`` each token is followed by its score in brackets.

    Examples
    --------
    >>> a = Attribution("good bad", ["good", "bad"], np.array([1.0, -0.5]), "pos", 0.9)
    >>> terminal_line(a, color=False)
    'good[+1.00] bad[-0.50]'
    """
    sep = " " if attr.level == "word" else ""
    if not color:
        return sep.join(f"{t}[{s:+.2f}]" for t, s in zip(attr.tokens, attr.scores, strict=True))
    parts = []
    for token, s in zip(attr.tokens, _strengths(attr.scores), strict=True):
        level = round(abs(s) * 4)  # 0..4 steps of a 256-colour ramp
        if level == 0:
            parts.append(token)
            continue
        code = (22, 28, 34, 40)[level - 1] if s > 0 else (52, 88, 124, 160)[level - 1]
        parts.append(f"\x1b[48;5;{code}m\x1b[97m{token}\x1b[0m")
    return sep.join(parts)


def html_page(attrs: list[Attribution], title: str = "seqlab classify: attributions") -> str:
    """A self-contained HTML page: each text with its tokens highlighted by attribution."""
    rows = []
    for attr in attrs:
        sep = " " if attr.level == "word" else ""
        spans = []
        for token, s, raw in zip(attr.tokens, _strengths(attr.scores), attr.scores, strict=True):
            rgb = "0,150,60" if s > 0 else "200,30,30"
            spans.append(
                f'<span style="background:rgba({rgb},{abs(s):.2f})" '
                f'title="{raw:+.4f}">{html.escape(token)}</span>'
            )
        rows.append(
            f"<p><b>{html.escape(attr.label)}</b> ({attr.probability:.1%})<br>"
            f'<span class="text">{sep.join(spans)}</span></p>'
        )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        ".text{font-size:1.2em;line-height:1.8}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>Gradient × input on the embeddings: green tokens "
        "push towards the predicted class, red ones away from it; hover for the score.</p>"
        + "\n".join(rows)
        + "</body></html>"
    )


def write_html(path, attrs: list[Attribution]) -> None:
    """Write `html_page` atomically to ``path``."""
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write(html_page(attrs))
