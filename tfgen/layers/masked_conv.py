"""Masked convolutions for autoregressive image models (PixelRNN/PixelCNN).

Pixels are ordered in raster order and, within a pixel, by colour channel
(R before G before B). Every feature map is split into one group of features
per colour channel; a feature of group c at pixel (i, j) may depend on every
earlier pixel and on the channels of pixel (i, j) before c (mask A, used by
the first layer, which reads the image) or up to and including c (mask B,
used by every later layer, which reads features that already obey the rule).
[1], section 3.4 and figure 2.

[1] van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural
    Networks", arXiv:1601.06759.
"""

import keras
import numpy as np
import tensorflow as tf

MASK_TYPES = ("A", "B", None)


def channel_groups(num_features, num_channels, num_blocks=1):
    """Colour-channel group of each feature: int array [num_features].

    The features are `num_blocks` equal contiguous blocks (e.g. the four LSTM
    gates), and each block is split evenly into `num_channels` groups in
    order, so feature f of a block of size F belongs to group f * C // F. A
    map of C * E per-channel embeddings or C * K per-channel logits is grouped
    by the same rule, which keeps every layer's grouping consistent.
    """
    if num_features % num_blocks:
        raise ValueError(f"{num_features} features do not split into {num_blocks} blocks")
    size = num_features // num_blocks
    if size < num_channels:
        raise ValueError(f"{size} features per block cannot hold {num_channels} channel groups")
    return np.tile(np.arange(size) * num_channels // size, num_blocks)


def conv_mask(kernel_size, in_features, out_features, num_channels, mask_type, out_blocks=1):
    """The 0/1 mask of a masked convolution's kernel, float32 [kh, kw, in, out].

    Rows above the centre and positions left of the centre on its row see
    every feature (those pixels come earlier in raster order); positions right
    of or below the centre see nothing; the centre sees input group g from
    output group c when g < c (mask A) or g <= c (mask B). `mask_type=None`
    leaves the kernel unmasked (for inputs that hold only earlier pixels).
    """
    if mask_type not in MASK_TYPES:
        raise ValueError(f"mask_type must be one of {MASK_TYPES}, got {mask_type!r}")
    kh, kw = kernel_size
    mask = np.ones((kh, kw, in_features, out_features), np.float32)
    if mask_type is None:
        return mask
    ci, cj = kh // 2, kw // 2
    mask[ci + 1 :] = 0
    mask[ci, cj + 1 :] = 0
    g_in = channel_groups(in_features, num_channels)[:, None]
    g_out = channel_groups(out_features, num_channels, out_blocks)[None, :]
    mask[ci, cj] = (g_in < g_out) if mask_type == "A" else (g_in <= g_out)
    return mask


class MaskedConv2D(keras.layers.Layer):
    """A 2-D convolution whose kernel is multiplied by a fixed causal mask.

    Args:
        filters: output features.
        kernel_size: int or (height, width); odd sizes (the centre is the
            pixel being predicted).
        mask_type: "A" (the first layer: a pixel's own channel is hidden),
            "B" (later layers) or None (no mask). Defaults to "B".
        num_channels: colour channels C of the image; features split into C
            groups (see `channel_groups`). Defaults to 1.
        out_blocks: the output features are this many blocks, each grouped
            separately (4 for LSTM gates). Defaults to 1.
        use_bias: defaults to True.

    Example:
        >>> conv = MaskedConv2D(32, 7, mask_type="A", num_channels=3)
        >>> y = conv(tf.zeros([2, 28, 28, 3 * 8]))  # [2, 28, 28, 32]
    """

    def __init__(self, filters, kernel_size, mask_type="B", num_channels=1, out_blocks=1, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        if k[0] % 2 == 0 or k[1] % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {k}")
        self.kernel_size = tuple(int(d) for d in k)
        self.mask_type = mask_type
        self.num_channels = int(num_channels)
        self.out_blocks = int(out_blocks)
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        in_features = int(input_shape[-1])
        kh, kw = self.kernel_size
        self.kernel = self.add_weight(
            name="kernel", shape=(kh, kw, in_features, self.filters), initializer="glorot_uniform"
        )
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros") if self.use_bias else None
        # A numpy constant, not a weight: the mask is part of the architecture,
        # never trained or checkpointed (tests replace it to prove it matters).
        self.mask = conv_mask(
            self.kernel_size, in_features, self.filters, self.num_channels, self.mask_type, self.out_blocks
        )

    def masked_kernel(self):
        return self.kernel * tf.constant(self.mask, self.kernel.dtype)

    def call(self, x):
        if self.kernel_size == (1, 1):
            return self.pointwise(x)
        return self.convolve(x, self.masked_kernel())

    def convolve(self, x, kernel):
        """`call` with a given masked kernel [kh, kw, in, filters] (`in` may differ from the built one).

        For a kernel derived from this layer's own, such as the PixelRNN
        networks' embedding table folded into the first convolution.
        """
        # Only the causal rows (centre and above) can be non-zero, so convolve
        # with those alone over a map padded on top: same output as the full
        # kernel with SAME padding, with up to half the multiply-adds skipped.
        kh, kw = self.kernel_size
        kernel = tf.cast(kernel[: self.causal_rows], x.dtype)
        padding = [[0, 0], [kh // 2, self.causal_rows - 1 - kh // 2], [kw // 2, kw // 2], [0, 0]]
        y = tf.nn.conv2d(x, kernel, strides=1, padding=padding)
        return y + tf.cast(self.bias, y.dtype) if self.use_bias else y

    def pointwise(self, x):
        """`call` for a 1 x 1 kernel, as one matmul.

        The same sums as the convolution. XLA on the CPU runs a 1 x 1
        convolution's weight gradient as a convolution with an H x W window,
        after transposing both maps (seen in its optimised HLO); without XLA,
        the PixelCNN's train step took about 1.17x longer as convolutions. A
        1 x k kernel as a matmul over k shifted copies made the Row LSTM's
        Pokemon step (1 x 3, no XLA) 1.23x slower, so it stays a convolution
        (docs/RESULTS.md).
        """
        kernel = tf.cast(self.masked_kernel()[0, 0], x.dtype)  # [in, out]
        shape = tf.shape(x)
        y = tf.matmul(tf.reshape(x, [-1, x.shape[-1]]), kernel)
        y = tf.reshape(y, tf.concat([shape[:-1], [self.filters]], 0))
        return y + tf.cast(self.bias, y.dtype) if self.use_bias else y

    @property
    def causal_rows(self):
        """Kernel rows that can be non-zero: the centre row and those above it."""
        return self.kernel_size[0] // 2 + 1 if self.mask_type else self.kernel_size[0]

    def apply_to_patch(self, patch):
        """The output at one position from its causal input patch.

        Args:
            patch: [B, causal_rows, kernel width, in features], the input rows
                from kh//2 above the position down to its own row.
        Returns:
            [B, filters], equal (up to float summation order) to `call` at
            that position. Used by cached samplers, which compute one position
            per step.
        """
        kernel = self.masked_kernel()[: self.causal_rows]
        flat = tf.reshape(kernel, [-1, self.filters])
        y = tf.matmul(tf.reshape(patch, [tf.shape(patch)[0], -1]), tf.cast(flat, patch.dtype))
        return y + tf.cast(self.bias, y.dtype) if self.use_bias else y

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "mask_type": self.mask_type,
            "num_channels": self.num_channels,
            "out_blocks": self.out_blocks,
            "use_bias": self.use_bias,
        }
