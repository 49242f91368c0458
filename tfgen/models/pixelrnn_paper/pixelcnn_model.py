"""PixelCNN ([1], section 3.4) with a cached sampler ([2]).

A stack of masked convolutions: all pixels' logits in one parallel pass for
training and likelihood. Sampling is sequential; the plain sampler re-runs
the whole network for every pixel channel (work ~ pixels x network). The
cached sampler ([2]) computes each layer only at the position being
generated: for every k x k convolution it keeps the last k//2 + 1 rows of
that convolution's input (the rows its causal kernel reads), writes the new
position's input into the cache and applies the kernel to the one patch
around it; 1x1 layers need no cache. The first layer reads its patch
straight from the canvas. Same arithmetic up to float summation order, so
the same noise gives the same samples (tested against the plain sampler).

[1] van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural
    Networks", arXiv:1601.06759.
[2] Ramachandran et al. 2017, "Fast Generation for Convolutional
    Autoregressive Models", arXiv:1704.06001.
"""

import numpy as np
import tensorflow as tf

from tfgen import registry
from tfgen.layers import ResidualConvBlock
from tfgen.models.pixelrnn_paper.configs import PIXELCNN_CONFIGS
from tfgen.models.pixelrnn_paper.pixel_network import PixelNetwork, conv_flops


@registry.register("pixelcnn", configs=PIXELCNN_CONFIGS, default_dataset="binarized_mnist")
class PixelCNN(PixelNetwork):
    """PixelCNN: masked 7x7 input convolution, residual blocks of masked k x k convolutions.

    Args: see `PixelNetwork`, plus
        kernel_size: of each block's masked convolution. Defaults to 3, as in [1].

    Example:
        >>> model = PixelCNN(num_classes=2, image_shape=(28, 28, 1), units=32, num_layers=8)
        >>> nats = model.log_prob(tf.zeros([2, 28, 28, 1], tf.int32))  # [2]
        >>> images = model.sample(model.noise(4, seed=0), tf.ones([4]))  # cached sampler
    """

    def __init__(self, num_classes, image_shape, kernel_size=3, **kwargs):
        self.kernel_size = int(kernel_size)
        super().__init__(num_classes, image_shape, **kwargs)

    def make_block(self, index):
        return ResidualConvBlock(self.units, self.kernel_size, self.image_shape[2], name=f"conv_block_{index}")

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size}

    def block_flops(self, block):
        h, w, _ = self.image_shape
        return sum(conv_flops(conv, h, w) for conv in (block.reduce, block.conv, block.expand))

    # -- cached sampler ----------------------------------------------------------

    def _initial_state(self, batch_size):
        """Per block: the last k//2 + 1 rows of its middle convolution's input, zero-padded left and right."""
        _, width, _ = self.image_shape
        rows, pad = self.kernel_size // 2 + 1, self.kernel_size // 2
        return tuple(tf.zeros([batch_size, rows, width + 2 * pad, self.units], self.compute_dtype) for _ in self.blocks)

    def _input_patch(self, canvas, i, j):
        """The first convolution's causal input patch at (i, j), embedded: [B, k//2 + 1, k, C * E]."""
        height, width, channels = self.image_shape
        k = self.input_kernel
        rows, pad = k // 2 + 1, k // 2
        images = tf.reshape(canvas, [-1, height, width, channels])
        padded = tf.pad(images, [[0, 0], [pad, 0], [pad, pad], [0, 0]])
        # Padding must read as zero features, as the convolution's SAME padding does.
        valid = tf.constant(np.pad(np.ones((height, width), np.float32), [[pad, 0], [pad, pad]]))
        row_ids, col_ids = i + tf.range(rows), j + tf.range(k)
        patch = tf.gather(tf.gather(padded, row_ids, axis=1), col_ids, axis=2)
        inside = tf.gather(tf.gather(valid, row_ids, axis=0), col_ids, axis=1)
        return self.embed(patch) * tf.cast(inside, self.compute_dtype)[None, :, :, None]

    def _step_state(self, previous, state, canvas, t):
        del previous  # the canvas holds it; the first layer reads its patch from there
        height, width, channels = self.image_shape
        position, channel = t // channels, t % channels
        i, j = position // width, position % width
        # Channels of one pixel share a position: every channel step recomputes
        # it, so its cached features end up computed with all channels known.
        new_row = tf.equal(t % (width * channels), 0)
        k, pad = self.kernel_size, self.kernel_size // 2
        rows, cols = k // 2 + 1, width + 2 * pad
        # The new position's slot: the cache's last row, column j (+ padding).
        write = tf.reshape(tf.one_hot((rows - 1) * cols + j + pad, rows * cols) > 0, [1, rows, cols, 1])
        x = self.input_conv.apply_to_patch(self._input_patch(canvas, i, j))
        caches = []
        for block, cache in zip(self.blocks, state):
            shifted = tf.concat([cache[:, 1:], tf.zeros_like(cache[:, :1])], axis=1)
            cache = tf.where(new_row, shifted, cache)
            cache = tf.where(write, block.conv_input_at(x)[:, None, None, :], cache)
            x = block.output_at(x, tf.gather(cache, j + tf.range(k), axis=2))
            caches.append(cache)
        logits = self.head(x)  # [B, C, K]
        return tf.gather(logits, channel, axis=1), tuple(caches)
