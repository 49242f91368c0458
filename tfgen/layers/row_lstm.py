"""Row LSTM ([1], section 3.1): an LSTM that runs down the image a row at a time.

The state of row i is computed for the whole row at once from (a) the
input-to-state part, a 1 x k convolution of the layer's input along row i,
masked (mask B) so that pixel (i, j) sees only pixels left of it and its
own earlier channels, computed for every row in one convolution before the
recurrence; and (b) the state-to-state part, an unmasked 1-D convolution of
width k over row i - 1's hidden states (all of row i - 1 precedes row i).
Each pixel therefore has a triangular receptive field above it.

Two implementations of the same recurrence (tested equal): with
`compiled=True` (training and evaluation) an XLA-compiled `tf.while_loop` (`tfgen.layers.compiled_loop`,
several times faster to train on CPU, where unfused gate ops dominate),
otherwise a loop
unrolled in Python over the static height, which has no TensorArray and so
converts to TFLite builtins with a dynamic batch (TF_NOTES item 3): the
samplers and the exported signatures use it.

[1] van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural
    Networks", arXiv:1601.06759.
"""

import keras
import tensorflow as tf

from tfgen.layers.compiled_loop import compiled_loop
from tfgen.layers.masked_conv import MaskedConv2D


def lstm_update(z, c):
    """LSTM cell update from the summed pre-activations z [..., 4H] (i, f, g, o) and cell c [..., H]."""
    i, f, g, o = tf.split(z, 4, axis=-1)
    c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
    return tf.sigmoid(o) * tf.tanh(c), c


def forget_bias_init(units, blocks=1):
    """Bias initialiser: 1 for the forget gate (Jozefowicz et al. 2015), 0 elsewhere, per block."""

    def init(shape, dtype=None):
        one = tf.concat([tf.zeros([units]), tf.ones([units]), tf.zeros([2 * units])], 0)
        return tf.cast(tf.reshape(tf.tile(one, [blocks]), shape), dtype or "float32")

    return init


def row_step(h, c, gates, kernel, kernel_width):
    """One row: (h, c) of row i - 1 [B, W, h] and row i's input gates [B, W, 4h] -> (h, c) of row i."""
    width = h.shape[1]
    pad = kernel_width // 2
    # The 1-D convolution over the row above as one matmul on its k shifted
    # copies ([B, W, k*h] x [k*h, 4h]).
    padded = tf.pad(h, [[0, 0], [pad, pad], [0, 0]])
    window = tf.concat([padded[:, d : d + width] for d in range(kernel_width)], axis=-1)
    # A 2-D matmul: XLA on CPU runs batched (rank-3) matmuls far slower.
    z = tf.matmul(tf.reshape(window, [-1, kernel.shape[0]]), kernel)
    return lstm_update(gates + tf.reshape(z, tf.shape(gates)), c)


def rows_loop(gates, kernel, kernel_width):
    """The recurrence as a while loop (compiled for training): [H, B, W, 4h] gates -> [H, B, W, h]."""
    steps, units = gates.shape[0], kernel.shape[0] // kernel_width
    zeros = tf.zeros([tf.shape(gates)[1], gates.shape[2], units], gates.dtype)

    def body(i, h, c, hs):
        h, c = row_step(h, c, gates[i], kernel, kernel_width)
        return i + 1, h, c, hs.write(i, h)

    hs = tf.TensorArray(gates.dtype, size=steps)
    _, _, _, hs = tf.while_loop(lambda i, *_: i < steps, body, (0, zeros, zeros, hs), maximum_iterations=steps)
    return hs.stack()


class RowLSTM(keras.layers.Layer):
    """Row LSTM layer: [B, H, W, F] -> hidden states [B, H, W, units].

    Args:
        units: hidden size h (a multiple of `num_channels` is best; the hidden
            features are split into one group per colour channel).
        kernel_width: width k of both convolutions. Defaults to 3, as in [1].
        num_channels: colour channels of the image. Defaults to 1.

    Example:
        >>> layer = RowLSTM(16)
        >>> h = layer(tf.zeros([2, 28, 28, 32]))  # [2, 28, 28, 16]
    """

    def __init__(self, units, kernel_width=3, num_channels=1, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.kernel_width = int(kernel_width)
        self.num_channels = int(num_channels)
        self.input_to_state = MaskedConv2D(
            4 * self.units,
            (1, self.kernel_width),
            mask_type="B",
            num_channels=self.num_channels,
            out_blocks=4,
            use_bias=False,
            name="input_to_state",
        )

    def build(self, input_shape):
        h, k = self.units, self.kernel_width
        self.input_to_state.build(input_shape)
        self.state_kernel = self.add_weight(name="state_kernel", shape=(k * h, 4 * h), initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(4 * h,), initializer=forget_bias_init(h))

    def call(self, x, compiled=False):
        kernel = tf.cast(self.state_kernel, x.dtype)
        gates = self.input_to_state(x) + tf.cast(self.bias, x.dtype)
        if compiled:
            rows = compiled_loop(rows_loop, [tf.transpose(gates, [1, 0, 2, 3]), kernel], [self.kernel_width])
            return tf.transpose(rows, [1, 0, 2, 3])
        h = c = tf.zeros([tf.shape(x)[0], x.shape[2], self.units], x.dtype)
        outputs = []
        for row in tf.unstack(gates, axis=1):
            h, c = row_step(h, c, row, kernel, self.kernel_width)
            outputs.append(h)
        return tf.stack(outputs, axis=1)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "kernel_width": self.kernel_width,
            "num_channels": self.num_channels,
        }
