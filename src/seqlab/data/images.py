"""Pictures in, RGB arrays out: one reader for every image a captioning model sees.

`read_image` opens a file (or bytes) with Pillow and returns ``(side, side, 3)`` uint8:

- **Modes**: grayscale (L, I;16, 1) is repeated over three channels; a palette image is
  expanded; RGBA / LA (transparency) is laid over a **black** background, the background of
  the shapes scenes; CMYK is converted. Every picture ends as RGB.
- **Shape**: the largest centred square is cut out and resized to ``side`` (bilinear, with
  antialiasing), so a wide photograph keeps its proportions.
- **Bad input**: a file that is not an image, a truncated one, or one larger than
  `MAX_PIXELS` (checked from the header before anything is decoded: a decompression bomb or
  a scan of 20,000 × 20,000 pixels) raises `ImageError` naming the file and the fix.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

#: Largest picture read (width × height): 50 megapixels, far above any photograph a captioning
#: model is shown, far below what would exhaust memory when decoded.
MAX_PIXELS = 50_000_000


class ImageError(ValueError):
    """A file that cannot be read as a picture; the message names the file and the fix."""


def read_image(source: str | os.PathLike | bytes, side: int, name: str | None = None) -> np.ndarray:
    """The picture in ``source`` (a path or the file's bytes) as ``(side, side, 3)`` uint8.

    Examples
    --------
    >>> import io
    >>> from PIL import Image
    >>> buffer = io.BytesIO()
    >>> Image.new("LA", (30, 20), (128, 255)).save(buffer, format="PNG")
    >>> picture = read_image(buffer.getvalue(), side=8)
    >>> picture.shape, picture[0, 0].tolist()
    ((8, 8, 3), [128, 128, 128])
    >>> read_image(b"not a picture", side=8, name="notes.txt")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    seqlab.data.images.ImageError: notes.txt is not a picture Pillow can read (PNG, JPEG, ...): ...
    """
    from PIL import Image, UnidentifiedImageError  # Pillow loads only when a picture is read

    label = name or (str(source) if not isinstance(source, bytes) else "the image")
    if not isinstance(source, bytes):
        path = Path(source)
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "does not exist"
            raise ImageError(f"{path} {what}: give the path of an image file")
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageError(
                    f"{label} is {width:,} × {height:,} pixels, more than the {MAX_PIXELS:,} "
                    "read here: scale it down first (the model sees it at "
                    f"{side} × {side} anyway)"
                )
            image.load()
            rgb = to_rgb(image)
    except UnidentifiedImageError:
        raise ImageError(
            f"{label} is not a picture Pillow can read (PNG, JPEG, ...): give an image file"
        ) from None
    except (OSError, SyntaxError) as e:  # truncated or corrupt data
        raise ImageError(f"{label} cannot be decoded ({e}): the file is damaged") from None
    return square(rgb, side)


def to_rgb(image):
    """A Pillow image as RGB: transparency over black, grayscale repeated (module docstring)."""
    from PIL import Image

    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grayscale: scale to 8 bits instead of clipping at 255
        values = np.asarray(image, dtype=np.float64)
        top = max(float(values.max()), 1.0)
        image = Image.fromarray((values / top * 255).astype(np.uint8), mode="L")
    return image.convert("RGB")


def square(image, side: int) -> np.ndarray:
    """The centred square of an RGB Pillow image, resized to ``side`` × ``side``."""
    from PIL import Image

    width, height = image.size
    edge = min(width, height)
    left, top = (width - edge) // 2, (height - edge) // 2
    image = image.crop((left, top, left + edge, top + edge))
    if edge != side:
        image = image.resize((side, side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(image, dtype=np.uint8).copy()
