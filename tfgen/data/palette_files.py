"""Readers and writers for the "Pokémon creation" text format.

`colormap.txt` holds one `R G B` palette entry a line; `pixel_color.txt`
holds one image a line as space-separated palette indices in raster order.
Both are validated line by line so that a corrupt file fails with the file
and line that is wrong instead of surfacing later as a shape error.
"""

import math
from pathlib import Path

import numpy as np

from tfgen.data.errors import DataError

MAX_PALETTE = 256  # images are stored as uint8 indices


def _require(path):
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    return path


def _ints(path, lineno, text):
    try:
        return [int(tok) for tok in text.split()]
    except ValueError:
        bad = next(tok for tok in text.split() if not tok.lstrip("-").isdigit())
        raise DataError(path, f"{bad!r} is not an integer", lineno) from None


def read_palette(path):
    """Returns the palette as a uint8 array of shape [num_colours, 3]."""
    path = _require(path)
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, text in enumerate(f, start=1):
            if not text.strip():
                continue
            values = _ints(path, lineno, text)
            if len(values) != 3 or not all(0 <= v <= 255 for v in values):
                raise DataError(
                    path,
                    f"a palette line must be three integers in 0..255, got {text.strip()!r}",
                    lineno,
                )
            rows.append(values)
    if not rows:
        raise DataError(path, "palette is empty")
    if len(rows) > MAX_PALETTE:
        raise DataError(path, f"palette has {len(rows)} colours, at most {MAX_PALETTE} are supported")
    return np.asarray(rows, dtype=np.uint8)


def iter_images(path, num_colours, size):
    """Yields `(line_number, image)` with image a uint8 array [size, size].

    Blank lines are skipped; every other line must hold exactly size*size
    integers in [0, num_colours).
    """
    path = _require(path)
    expected = size * size
    with open(path, encoding="utf-8") as f:
        for lineno, text in enumerate(f, start=1):
            if not text.strip():
                continue
            values = _ints(path, lineno, text)
            if len(values) != expected:
                raise DataError(
                    path,
                    f"expected {expected} palette indices ({size}x{size}), got {len(values)}",
                    lineno,
                )
            arr = np.asarray(values, dtype=np.int64)
            bad = np.flatnonzero((arr < 0) | (arr >= num_colours))
            if bad.size:
                raise DataError(
                    path,
                    f"index {arr[bad[0]]} at position {bad[0]} is outside the palette (0..{num_colours - 1})",
                    lineno,
                )
            yield lineno, arr.astype(np.uint8).reshape(size, size)


def first_line_length(path):
    """Number of values on the first non-blank line of a pixel file."""
    path = _require(path)
    with open(path, encoding="utf-8") as f:
        for text in f:
            if text.strip():
                return len(text.split())
    raise DataError(path, "no images in file")


def infer_size(path):
    """Side length of the square images in a pixel file, from its first line."""
    n = first_line_length(path)
    side = math.isqrt(n)
    if side * side != n:
        raise DataError(path, f"{n} values is not a square image", 1)
    return side


def write_palette(path, palette):
    with open(path, "w", encoding="utf-8") as f:
        for r, g, b in np.asarray(palette, dtype=np.int64):
            f.write(f"{r} {g} {b}\n")


def write_images(path, images):
    with open(path, "w", encoding="utf-8") as f:
        for image in np.asarray(images):
            f.write(" ".join(str(int(v)) for v in image.reshape(-1)) + "\n")
