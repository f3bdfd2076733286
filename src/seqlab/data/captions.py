"""Image-caption text (one-to-many): Flickr8k's five captions per image and its 6k/1k/1k split.

Images and image features are not part of the dataset here; pair the captions with your own
features through the image id (the Flickr file name, e.g. ``"1000268201_693b08cb0e.jpg"``).
"""

from __future__ import annotations

from dataclasses import dataclass

from seqlab.data import registry
from seqlab.data.fetch import fetch, resolve
from seqlab.data.reading import read_lines


@dataclass(frozen=True)
class Captions:
    """Captions by image id, and the official image-id splits.

    Attributes
    ----------
    captions : dict of str -> list of str
        Every image id of the caption file (8,092 for Flickr8k, including the known bogus id
        ``2258277193_586949ec62.jpg.1``) with its captions in ``#0 .. #4`` order.
    train, dev, test : list of str
        Image ids of the official splits (6,000 / 1,000 / 1,000).
    """

    name: str
    captions: dict[str, list[str]]
    train: list[str]
    dev: list[str]
    test: list[str]

    def pairs(self, split: str) -> list[tuple[str, str]]:
        """``(image id, caption)`` for every caption of the images of ``split``."""
        ids = {"train": self.train, "dev": self.dev, "test": self.test}[split]
        return [(image, caption) for image in ids for caption in self.captions.get(image, ())]


def load_flickr8k(progress: bool = True) -> Captions:
    """Flickr8k: 40,460 captions of 8,092 image ids; splits from the official lists."""
    tokens, train, dev, test = resolve(fetch("flickr8k", progress), registry.get("flickr8k"))
    captions: dict[str, list[str]] = {}
    for line in read_lines(tokens):
        key, caption = line.split("\t", 1)
        captions.setdefault(key.rsplit("#", 1)[0], []).append(caption)
    ids = [[i for i in read_lines(path) if i] for path in (train, dev, test)]
    return Captions("flickr8k", captions, *ids)
