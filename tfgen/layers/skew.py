"""Skewing of feature maps for the Diagonal BiLSTM ([1], section 3.2, figure 3).

Row i of the map is shifted right by i positions, so the diagonals of the
image become columns: a column-by-column recurrence over the skewed map then
visits the image diagonal by diagonal, computing a whole diagonal at once.
Both directions are pad/reshape/slice only (no gathers or loops), so they are
cheap, differentiable and convert to TFLite builtins.

[1] van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural
    Networks", arXiv:1601.06759.
"""

import tensorflow as tf


def skew(x):
    """[B, H, W, F] -> [B, H, W + H - 1, F] with out[:, i, i + j] = x[:, i, j], zeros elsewhere."""
    _, h, w, f = x.shape
    batch = tf.shape(x)[0]
    # Each row padded to W + H and read back with rows of W + H - 1: row i
    # then starts i positions later (i * (W + H) = i * (W + H - 1) + i).
    flat = tf.reshape(tf.pad(x, [[0, 0], [0, 0], [0, h], [0, 0]]), [batch, h * (w + h), f])
    return tf.reshape(flat[:, : h * (w + h - 1)], [batch, h, w + h - 1, f])


def unskew(x, width):
    """Inverse of `skew`: [B, H, width + H - 1, F] -> [B, H, width, F], out[:, i, j] = x[:, i, i + j]."""
    _, h, skewed_width, f = x.shape
    if skewed_width != width + h - 1:
        raise ValueError(
            f"a skewed map of height {h} and width {width} has {width + h - 1} columns, got {skewed_width}"
        )
    batch = tf.shape(x)[0]
    flat = tf.pad(tf.reshape(x, [batch, h * skewed_width, f]), [[0, 0], [0, h], [0, 0]])
    return tf.reshape(flat, [batch, h, width + h, f])[:, :, :width]


def shift_down(x):
    """[B, H, W, F] moved down one row (row 0 becomes zeros, the last row is dropped)."""
    return tf.pad(x, [[0, 0], [1, 0], [0, 0], [0, 0]])[:, :-1]
