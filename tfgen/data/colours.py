"""The colour space continuous models and sample-quality evaluation work in.

Datasets hold index images (palette indices, grey levels, bits). Models that
generate continuous values (GANs, energy models) and the evaluation's feature
network see instead the colour each index stands for, scaled to [0, 1]: one
channel when the palette is grey (digits, binarized MNIST), RGB otherwise
(Pokémon). A continuous image is turned back into an index image by the
nearest palette colour. Every model's `generate_images` returns images in this
space, so families are scored on the same pixels.
"""

import numpy as np
import tensorflow as tf


def is_grey(palette):
    palette = np.asarray(palette)
    return bool(np.all(palette == palette[:, :1]))


def colour_channels(palette):
    return 1 if is_grey(palette) else 3


def palette_colours(palette):
    """float32 [K, C] in [0, 1]: each index's colour (C = 1 for a grey palette)."""
    palette = np.asarray(palette, dtype=np.float32) / 255.0
    return palette[:, :1] if is_grey(palette) else palette


def to_colours(images, palette):
    """Index images [N, H, W, 1] -> float32 colours [N, H, W, C] in [0, 1] (numpy)."""
    images = np.asarray(images)
    if images.shape[-1] != 1:
        raise ValueError(f"index images must have one channel, got shape {images.shape}")
    return palette_colours(palette)[images[..., 0].astype(np.int64)]


def nearest_index(colours, palette, batch=4096):
    """Colours [N, H, W, C] in [0, 1] -> int32 index images [N, H, W, 1] (numpy)."""
    table = palette_colours(palette)
    colours = np.asarray(colours, dtype=np.float32)
    if colours.shape[-1] != table.shape[1]:
        raise ValueError(f"colours have {colours.shape[-1]} channels, the palette {table.shape[1]}")
    flat = colours.reshape(-1, table.shape[1])
    out = np.empty(len(flat), np.int32)
    for start in range(0, len(flat), batch):
        d = ((flat[start : start + batch, None, :] - table[None]) ** 2).sum(-1)
        out[start : start + batch] = d.argmin(-1)
    return out.reshape(*colours.shape[:-1], 1)


def quantise(colours, palette):
    """Snaps colours to the nearest palette colour (stays in colour space)."""
    return to_colours(nearest_index(colours, palette), palette)


def as_colours(images, palette):
    """Whatever a model's `generate_images` returned -> float32 colours.

    Integer images are palette indices; float images are colours already
    (checked to lie in [0, 1] with the palette's number of channels).
    """
    images = np.asarray(images)
    if images.dtype.kind in "iu":
        return to_colours(images, palette)
    channels = colour_channels(palette)
    if images.shape[-1] != channels:
        raise ValueError(f"generated colours have {images.shape[-1]} channels; this palette needs {channels}")
    if not np.all(np.isfinite(images)) or images.min() < 0 or images.max() > 1:
        raise ValueError("generated colours must be finite and in [0, 1]")
    return images.astype(np.float32)


def to_rgb(colours):
    """Colours [N, H, W, C] in [0, 1] -> RGB uint8 [N, H, W, 3] for pictures."""
    rgb = np.clip(np.round(np.asarray(colours, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)
    return np.repeat(rgb, 3, axis=-1) if rgb.shape[-1] == 1 else rgb


class ColourTable:
    """The same mapping inside a TF graph, for models.

    Args:
        palette: uint8 [K, 3].
    """

    def __init__(self, palette):
        self.colours = tf.constant(palette_colours(palette))
        self.channels = int(self.colours.shape[1])

    def lookup(self, images):
        """Index images [B, H, W, 1] (any int dtype) -> float32 colours [B, H, W, C]."""
        return tf.gather(self.colours, tf.cast(images[..., 0], tf.int32))
