"""Shapes scenes: a synthetic captioning set, generated here, deterministic from a seed.

Each scene is a small RGB picture (40 × 40 by default) of two shapes on a dark, slightly noisy
background; each shape has a kind (circle, square, triangle), a colour (red, green, blue,
yellow, white) and a size (small, large), and the two stand side by side or one above the
other. Every scene has four reference captions, two with sizes and two without, seen from
either shape::

    a small red circle left of a large blue square
    a large blue square right of a small red circle
    a red circle to the left of a blue square
    a blue square to the right of a red circle

**Held-out combinations.** Three colour-shape pairs (`HELD_OUT`: red triangle, green circle,
blue square) never occur in the training or validation scenes; half of the test scenes hold at
least one of them (``unseen``), the other half only pairs seen in training. A model that has
learned colour and shape as separate attributes names the unseen pairs right; one that has
learned whole "colour shape" words does not.

What it shows, honestly: that an image encoder and a recurrent decoder can be trained and
scored end to end on a machine without GPUs or downloads, and how they generalise to new
attribute combinations. What it does not show: anything about real photographs — the pictures
are clean, the vocabulary has 20 words, and the captions follow four templates, so BLEU is far
higher than on Flickr8k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHAPES = ("circle", "square", "triangle")
COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 190, 60),
    "blue": (50, 90, 230),
    "yellow": (230, 210, 40),
    "white": (235, 235, 235),
}
SIZES = {"small": 0.13, "large": 0.21}  # radius as a share of the picture's side
#: (colour, shape) pairs absent from training and validation scenes
HELD_OUT = (("red", "triangle"), ("green", "circle"), ("blue", "square"))
#: relation name, its inverse, and the wordier variants of the captions without sizes
RELATIONS = {
    "horizontal": ("left of", "right of", "to the left of", "to the right of"),
    "vertical": ("above", "below", "on top of", "under"),
}


@dataclass(frozen=True)
class Shape:
    """One shape: kind, colour, size and centre (as shares of the picture's side)."""

    kind: str
    colour: str
    size: str
    x: float
    y: float

    def words(self, with_size: bool = True) -> str:
        return (
            f"{self.size} {self.colour} {self.kind}" if with_size else f"{self.colour} {self.kind}"
        )


@dataclass(frozen=True)
class Scene:
    """Two shapes; ``first`` is left of (or above) ``second``."""

    first: Shape
    second: Shape
    relation: str

    def captions(self) -> list[str]:
        """The four reference captions (module docstring)."""
        near, far, near_long, far_long = RELATIONS[self.relation]
        a, b = self.first, self.second
        return [
            f"a {a.words()} {near} a {b.words()}",
            f"a {b.words()} {far} a {a.words()}",
            f"a {a.words(False)} {near_long} a {b.words(False)}",
            f"a {b.words(False)} {far_long} a {a.words(False)}",
        ]

    def unseen(self) -> bool:
        """Whether a shape of the scene has a held-out colour-shape pair."""
        return any((s.colour, s.kind) in HELD_OUT for s in (self.first, self.second))


@dataclass(frozen=True)
class ShapesSplit:
    """Pictures ``(N, H, W, 3)`` uint8, the scenes, and their reference captions."""

    images: np.ndarray
    scenes: list[Scene]

    @property
    def captions(self) -> list[list[str]]:
        return [scene.captions() for scene in self.scenes]

    @property
    def unseen(self) -> np.ndarray:
        return np.array([scene.unseen() for scene in self.scenes], dtype=bool)


@dataclass(frozen=True)
class ShapesData:
    name: str
    train: ShapesSplit
    valid: ShapesSplit
    test: ShapesSplit
    settings: dict


def random_scene(rng: np.random.Generator, held_out: str) -> Scene:
    """A scene with both shapes clearly on either side; ``held_out``: "avoid" or "include"."""
    while True:
        relation = ("horizontal", "vertical")[rng.integers(2)]
        shapes = []
        for slot in (0, 1):
            size = ("small", "large")[rng.integers(2)]
            along = (0.27, 0.73)[slot] + rng.uniform(-0.04, 0.04)
            across = rng.uniform(0.3, 0.7)
            x, y = (along, across) if relation == "horizontal" else (across, along)
            kind = SHAPES[rng.integers(len(SHAPES))]
            colour = list(COLOURS)[rng.integers(len(COLOURS))]
            shapes.append(Shape(kind, colour, size, float(x), float(y)))
        scene = Scene(shapes[0], shapes[1], relation)
        if scene.unseen() == (held_out == "include"):
            return scene


def render(scene: Scene, side: int, rng: np.random.Generator) -> np.ndarray:
    """The picture of ``scene``: ``(side, side, 3)`` uint8.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> picture = render(random_scene(rng, "avoid"), 40, rng)
    >>> picture.shape, picture.dtype
    ((40, 40, 3), dtype('uint8'))
    """
    background = rng.uniform(15, 45)
    image = background + rng.normal(0, 6, size=(side, side, 3))
    yy, xx = np.mgrid[0:side, 0:side] + 0.5
    for shape in (scene.first, scene.second):
        r = SIZES[shape.size] * side
        dx, dy = xx - shape.x * side, yy - shape.y * side
        if shape.kind == "circle":
            mask = dx**2 + dy**2 <= r**2
        elif shape.kind == "square":
            half = r * 0.85
            mask = (np.abs(dx) <= half) & (np.abs(dy) <= half)
        else:  # an upright triangle: apex on top, base at the bottom
            top, bottom = -r, r * 0.8
            inside_height = (dy >= top) & (dy <= bottom)
            half_width = (dy - top) / (bottom - top) * r * 1.05
            mask = inside_height & (np.abs(dx) <= half_width)
        image[mask] = np.asarray(COLOURS[shape.colour]) + rng.normal(0, 6, size=(mask.sum(), 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def make_split(n: int, side: int, rng: np.random.Generator, unseen_share: float) -> ShapesSplit:
    n_unseen = round(n * unseen_share)
    scenes = [random_scene(rng, "include" if i < n_unseen else "avoid") for i in range(n)]
    order = rng.permutation(n)
    scenes = [scenes[i] for i in order]
    images = (
        np.stack([render(scene, side, rng) for scene in scenes])
        if n
        else np.zeros((0, side, side, 3), np.uint8)
    )
    return ShapesSplit(images, scenes)


def load_shapes(
    train: int = 8000, valid: int = 500, test: int = 1000, side: int = 40, seed: int = 0
) -> ShapesData:
    """The three splits, the same for the same arguments on every machine.

    Each split has its own random stream (seeded from ``seed`` and the split's name), so the
    test scenes do not change when the training set is made larger.

    Examples
    --------
    >>> data = load_shapes(train=20, valid=4, test=10, seed=1)
    >>> data.train.images.shape, bool(data.train.unseen.any()), int(data.test.unseen.sum())
    ((20, 40, 40, 3), False, 5)
    >>> again = load_shapes(train=20, valid=4, test=10, seed=1)
    >>> data.train.captions == again.train.captions, (data.test.images == again.test.images).all()
    (True, np.True_)
    """
    if min(train, valid, test) < 1:
        raise ValueError("every split needs at least one scene")
    if side < 16:
        raise ValueError(f"side must be >= 16 pixels, got {side}")
    splits = {}
    for index, (name, n, unseen_share) in enumerate(
        (("train", train, 0.0), ("valid", valid, 0.0), ("test", test, 0.5))
    ):
        rng = np.random.default_rng([seed, index])
        splits[name] = make_split(n, side, rng, unseen_share)
    settings = {"train": train, "valid": valid, "test": test, "side": side, "seed": seed}
    return ShapesData("shapes", splits["train"], splits["valid"], splits["test"], settings)
