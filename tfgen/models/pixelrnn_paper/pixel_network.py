"""What the PixelRNN paper's three models share ([1], section 3 and table 1).

    image -> per-channel embeddings -> 7x7 conv, mask A
          -> residual blocks (Row LSTM, Diagonal BiLSTM or PixelCNN conv blocks)
          -> ReLU, 1x1 conv (mask B) -> ReLU, 1x1 conv (mask B) -> logits

Every feature map is split into one group per colour channel and every
convolution is masked, so the logits of channel c at pixel (i, j) depend on
the pixels before (i, j) in raster order and on channels < c of (i, j)
(R before G before B). Heads: 2 values per channel (binarized MNIST) use
one logit per channel, a Bernoulli (the paper's sigmoid output, written as
logits [0, z]); more values (a palette, 256 intensity levels) use a K-way
softmax per channel.

[1] van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural
    Networks", arXiv:1601.06759.
"""

import numpy as np
import tensorflow as tf

from tfgen import losses
from tfgen.layers import MaskedConv2D
from tfgen.models.autoregressive import AutoregressiveImageModel


class PixelNetwork(AutoregressiveImageModel):
    """Base of RowLSTMNetwork, DiagonalBiLSTMNetwork and PixelCNN; subclasses implement `make_block`.

    Args:
        num_classes: values K a pixel channel takes.
        image_shape: (height, width, channels).
        units: h; the residual stream has 2h features.
        num_layers: residual blocks.
        embedding_dim: learned embedding size per channel value.
        input_kernel: size of the first (mask A) convolution. Defaults to 7.
        head_units: features of the 1x1 layer before the logits.
        colour_history: also feed the head which values each channel took anywhere before
            the pixel (in raster order), through a learned [C * K, head_units] table. For
            palette images: a sprite reuses a few of the palette's near-identical colours (in
            the Pokemon sprites, 90% of non-background pixels repeat an earlier colour of their
            sprite, but only 69% one within two pixels), which a stack of small causal kernels
            sees only nearby. Defaults to False.
        dropout, weight_decay: see `AutoregressiveModel`; dropout acts on the features the
            logits are read from (the residual stream after the last block).
    """

    supports_dropout = True

    def __init__(
        self,
        num_classes,
        image_shape,
        units=16,
        num_layers=7,
        embedding_dim=4,
        input_kernel=7,
        head_units=32,
        colour_history=False,
        **kwargs,
    ):
        super().__init__(num_classes, image_shape, **kwargs)
        self.colour_history = bool(colour_history)
        self.units = int(units)
        self.num_layers = int(num_layers)
        self.embedding_dim = int(embedding_dim)
        self.input_kernel = int(input_kernel)
        self.head_units = int(head_units)
        channels = self.image_shape[2]
        self.input_conv = MaskedConv2D(2 * self.units, self.input_kernel, "A", channels, name="input_conv")
        self.blocks = [self.make_block(i) for i in range(self.num_layers)]
        self.hidden_conv = MaskedConv2D(self.head_units, 1, "B", channels, name="hidden_conv")
        self.logits_per_channel = 1 if self.num_classes == 2 else self.num_classes
        self.logits_conv = MaskedConv2D(channels * self.logits_per_channel, 1, "B", channels, name="logits_conv")

    def make_block(self, index):
        raise NotImplementedError

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "num_layers": self.num_layers,
            "embedding_dim": self.embedding_dim,
            "input_kernel": self.input_kernel,
            "head_units": self.head_units,
            "colour_history": self.colour_history,
        }

    def build(self, input_shape):
        h, w, c = self.image_shape
        # One table per colour channel, stacked: value v of channel c is row c * K + v.
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(c * self.num_classes, self.embedding_dim),
            initializer="random_normal",
        )
        self.input_conv.build((None, h, w, c * self.embedding_dim))
        for block in self.blocks:
            block.build((None, h, w, 2 * self.units))
        self.hidden_conv.build((None, h, w, 2 * self.units))
        self.logits_conv.build((None, h, w, self.head_units))
        if self.colour_history:
            self.history_table = self.add_weight(
                name="history_table", shape=(c * self.num_classes, self.head_units), initializer="random_normal"
            )
        self.build_noise_seed()
        self.built = True

    def embed(self, images):
        """int [..., C] -> float [..., C * embedding_dim], grouped by channel."""
        c = self.image_shape[2]
        rows = tf.cast(images, tf.int32) + tf.range(c) * self.num_classes
        e = tf.gather(tf.cast(self.embeddings, self.compute_dtype), rows)
        return tf.reshape(e, _static_dims(images.shape[:-1]) + [c * self.embedding_dim])

    def head(self, x, history=None):
        """Residual stream [..., 2h] -> logits [..., C, K]; with colour_history, `history` [..., C * K] too."""
        hidden = self.hidden_conv_apply(tf.nn.relu(x))
        if self.colour_history:
            hidden += tf.tensordot(history, tf.cast(self.history_table, self.compute_dtype), 1)
        y = self.logits_conv_apply(tf.nn.relu(hidden))
        y = tf.reshape(y, _static_dims(y.shape[:-1]) + [self.image_shape[2], self.logits_per_channel])
        return tf.concat([tf.zeros_like(y), y], axis=-1) if self.num_classes == 2 else y

    def hidden_conv_apply(self, x):
        return self._pointwise(self.hidden_conv, x)

    def logits_conv_apply(self, x):
        return self._pointwise(self.logits_conv, x)

    @staticmethod
    def _pointwise(conv, x):
        # A 1x1 convolution on a map, or on one position's features [B, F].
        return conv(x) if x.shape.rank == 4 else conv.apply_to_patch(x[:, None, None, :])

    def call(self, images, training=False, compiled=False):
        x = self.first_layer(images, fold=compiled)
        for block in self.blocks:
            x = block(x, compiled=compiled)
        return self.head(self.dropout_features(x, training), self.colours_before(images))

    def first_layer(self, images, fold=True):
        """`input_conv(embed(images))`; with `fold` (training), the table folded into the kernel when that is cheaper.

        The embedding is linear in the one-hot pixel values, so the same map is
        the convolution of the one-hot image with the kernel
        folded[.., c * K + v, :] = sum_e table[c * K + v, e] * kernel[.., c * E + e, :],
        which keeps the channel-group mask (a group of K one-hot features takes
        the place of its group of E embedding features). When K <= E this
        convolves fewer input features and, above all, its gradient needs no
        input gradient of the 7x7 convolution (the one-hot image is a constant):
        on binarized MNIST that made the Row LSTM's XLA train step about 1.1x
        faster (docs/RESULTS.md). The same sums in another order, so
        `log_prob` matches the samplers and exports to float rounding.
        """
        if not fold or self.num_classes > self.embedding_dim:
            return self.input_conv(self.embed(images))
        c, k, e = self.image_shape[2], self.num_classes, self.embedding_dim
        kernel = self.input_conv.masked_kernel()
        kh, kw, _, out = kernel.shape
        table = tf.reshape(self.embeddings, [c, k, e])
        folded = tf.einsum("cke,hwceo->hwcko", table, tf.reshape(kernel, [kh, kw, c, e, out]))
        one_hot = tf.one_hot(tf.cast(images, tf.int32), k, dtype=self.compute_dtype)
        x = tf.reshape(one_hot, _static_dims(images.shape[:-1]) + [c * k])
        return self.input_conv.convolve(x, tf.reshape(folded, [kh, kw, c * k, out]))

    def colours_before(self, images):
        """[B, H, W, C] values -> [B, H, W, C * K]: 1 where channel c took value k at a pixel before this one."""
        if not self.colour_history:
            return None
        height, width, _ = self.image_shape
        seen = tf.minimum(tf.cumsum(self._one_hot_pixels(images), axis=1, exclusive=True), 1.0)
        return tf.cast(tf.reshape(seen, [-1, height, width, seen.shape[-1]]), self.compute_dtype)

    def _history_step(self, seen, canvas, position, first_channel):
        """The cached sampler's `colours_before` at `position` [B, C * K] from the one at the position before."""
        previous = tf.gather(self._one_hot_pixels(canvas), tf.maximum(position - 1, 0), axis=1)
        grow = tf.logical_and(first_channel, position > 0)  # a new pixel: its predecessor is now known
        return tf.where(grow, tf.maximum(seen, tf.cast(previous, seen.dtype)), seen)

    def _one_hot_pixels(self, images):
        """Values (any shape holding B images) -> [B, H * W, C * K] one-hot, one row per pixel."""
        height, width, channels = self.image_shape
        values = tf.reshape(tf.cast(images, tf.int32), [-1, height * width, channels])
        return tf.reshape(tf.one_hot(values, self.num_classes), [-1, height * width, channels * self.num_classes])

    def log_prob(self, images, training=False):
        # Training and evaluation run recurrences as XLA-compiled loops (fast
        # on CPU, not exportable); `call`'s default, used by the samplers and
        # the exported signatures, is the unrolled builtin-op graph. Same
        # numbers: the conformance tests compare log_prob with the sampler's
        # per-pixel log-probabilities and the exports with log_prob.
        return losses.categorical_log_prob(self(images, training=training, compiled=True), images)

    def training_flops_per_example(self):
        """Multiply-add FLOPs of one training example (forward + backward = 3x forward).

        Convolutions are counted dense (masked-out weights are multiplied too:
        that is the work done); elementwise and gate math is left out, so the
        achieved GFLOP/s derived from it is a lower bound.
        """
        return 3 * self.forward_flops()

    def forward_flops(self):
        h, w, _ = self.image_shape
        layers = [self.input_conv, self.hidden_conv, self.logits_conv]
        total = sum(conv_flops(conv, h, w) for conv in layers)
        return total + sum(self.block_flops(block) for block in self.blocks)

    def block_flops(self, block):
        raise NotImplementedError

    # -- cached sampler ----------------------------------------------------------
    # Each step computes the network at the one position being generated:
    # the first convolution on its causal patch of the canvas, then every
    # block through `step_at` with the state it carries from position to
    # position (`ResidualConvBlock` explains the protocol), then the head.
    # Same arithmetic as `call` up to float summation order, so the same noise
    # gives the same samples (tested against the plain sampler).

    def _initial_state(self, batch_size):
        width, channels = self.image_shape[1:]
        caches = tuple(block.initial_cache(batch_size, width, self.compute_dtype) for block in self.blocks)
        if not self.colour_history:
            return caches
        # The colour history so far, grown by one pixel per position instead of recounted from the canvas.
        return (*caches, tf.zeros([batch_size, channels * self.num_classes], self.compute_dtype))

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
        _, width, channels = self.image_shape
        position, channel = t // channels, t % channels
        i, j = position // width, position % width
        # Channels of one pixel share a position: every channel step recomputes
        # it, so what the blocks keep of it ends up computed with all channels known.
        new_row = tf.equal(t % (width * channels), 0)
        x = self.input_conv.apply_to_patch(self._input_patch(canvas, i, j))
        caches = []
        for block, cache in zip(self.blocks, state):  # zip stops before the colour history, if any
            x, cache = block.step_at(x, cache, i, j, new_row)
            caches.append(cache)
        if self.colour_history:
            caches.append(self._history_step(state[-1], canvas, position, tf.equal(channel, 0)))
        logits = self.head(x, caches[-1] if self.colour_history else None)  # [B, C, K]
        return tf.gather(logits, channel, axis=1), tuple(caches)


def conv_flops(conv, height, width):
    """Multiply-adds a masked convolution does (its causal kernel rows, masked taps included)."""
    _, kw, fin, fout = conv.mask.shape
    return 2 * conv.causal_rows * kw * fin * fout * height * width


def _static_dims(shape):
    """A reshape target keeping known dims static (the batch, if unknown, becomes -1).

    Static spatial dims matter: layers such as skew read them at trace time.
    """
    dims = [-1 if d is None else int(d) for d in shape]
    if dims.count(-1) > 1:
        raise ValueError(f"only the batch dimension may be unknown, got {shape}")
    return dims
