"""Diagonal BiLSTM ([1], section 3.2): two LSTMs scanning the image diagonally.

The layer's input-to-state part is a 1x1 convolution (mask B) for both
directions at once. Each direction skews its map (row i shifted right by i,
`tfgen.layers.skew`) so that diagonals become columns, then runs an LSTM over
the columns left to right; the state-to-state part is a 2x1 convolution over
the previous column (rows i - 1 and i), i.e. over the pixel above and the
pixel to the left in image coordinates. The left-to-right direction thus sees
every pixel above-left of (i, j) up to (i, j) itself. The right-to-left
direction runs on the horizontally flipped map and sees every pixel
above-right of (i, j) *including the rest of row i*, which lies in the
future, so its output map is shifted down one row before being added: at
(i, j) it then covers rows < i from column j rightwards. Together one layer
sees the whole available context: every row above and row i up to (i, j),
and nothing after it (tested).

The recurrence over the W + H - 1 columns has the two forms of
`tfgen.layers.row_lstm.lstm_scan` (`compiled=True`: XLA-compiled, for
training and evaluation; otherwise TFLite-convertible, for samplers and
exports); the two directions run as one batched
matmul per column.

[1] van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural
    Networks", arXiv:1601.06759.
"""

import keras
import tensorflow as tf

from tfgen.layers.compiled_loop import compiled_loop
from tfgen.layers.masked_conv import MaskedConv2D
from tfgen.layers.row_lstm import forget_bias_init, lstm_scan, lstm_update
from tfgen.layers.skew import shift_down, skew, unskew


def column_step(state, c, column, kernel, bias, k, height):
    """Skewed column k of both directions: (h, c) of column k - 1 [2, B*H, h] -> (h, c) of column k.

    column: the input gates [2, B*H, 4h]; kernel [2, 2h, 4h]; k may be a tensor.
    """
    units = state.shape[-1]
    # h(i - 1) of the previous column: the same column moved down one row.
    rows = tf.reshape(state, [2, -1, height, units])
    above = tf.pad(rows, [[0, 0], [0, 0], [1, 0], [0, 0]])[:, :, :-1]
    window = tf.reshape(tf.concat([above, rows], axis=-1), [2, -1, 2 * units])
    # One 2-D matmul per direction: XLA on CPU runs a batched matmul far slower.
    z = tf.stack([tf.matmul(window[d], kernel[d]) for d in range(2)])
    state, c = lstm_update(column + bias + z, c)
    # Rows i > k of column k lie left of the image (row i starts at column i):
    # zero states there are the image's left border, as for a convolution's
    # zero padding, instead of bias-driven values.
    inside = tf.cast(tf.range(height) <= k, state.dtype)[None, None, :, None]
    state = tf.reshape(tf.reshape(state, [2, -1, height, units]) * inside, [2, -1, units])
    c = tf.reshape(tf.reshape(c, [2, -1, height, units]) * inside, [2, -1, units])
    return state, c


def columns_loop(columns, kernel, bias, height, exportable=False):
    """The recurrence over skewed columns: [W+H-1, 2, B*H, 4h] -> [W+H-1, 2, B*H, h]."""
    units = kernel.shape[-1] // 4
    zeros = tf.zeros([2, tf.shape(columns)[2], units], columns.dtype)

    def step(k, state, c):
        return column_step(state, c, columns[k], kernel, bias, k, height)

    return lstm_scan(step, columns.shape[0], zeros, exportable)


class DiagonalBiLSTM(keras.layers.Layer):
    """Diagonal BiLSTM layer: [B, H, W, F] -> hidden states [B, H, W, units].

    Args:
        units: hidden size h per direction (the two directions are summed).
        num_channels: colour channels of the image. Defaults to 1.

    Example:
        >>> layer = DiagonalBiLSTM(16)
        >>> h = layer(tf.zeros([2, 28, 28, 32]))  # [2, 28, 28, 16]
    """

    def __init__(self, units, num_channels=1, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.num_channels = int(num_channels)
        # Both directions' gates from one 1x1 convolution: 8 blocks of h.
        self.input_to_state = MaskedConv2D(
            8 * self.units,
            1,
            mask_type="B",
            num_channels=self.num_channels,
            out_blocks=8,
            use_bias=False,
            name="input_to_state",
        )

    def build(self, input_shape):
        h = self.units
        self.input_to_state.build(input_shape)
        # Per direction, the 2x1 kernel over the previous column: rows
        # [above; same] stacked, so one matmul on [h(i-1), h(i)].
        self.state_kernel = self.add_weight(name="state_kernel", shape=(2, 2 * h, 4 * h), initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(2, 1, 4 * h), initializer=forget_bias_init(h, blocks=2))

    def call(self, x, compiled=False):
        _, height, width, _ = x.shape
        batch = tf.shape(x)[0]
        h = self.units
        gates = self.input_to_state(x)
        left, right = gates[..., : 4 * h], tf.reverse(gates[..., 4 * h :], axis=[2])
        # [2B, H, W+H-1, 4h] -> column-major [W+H-1, 2, B*H, 4h] (the two directions side by side).
        skewed = skew(tf.concat([left, right], axis=0))
        columns = tf.reshape(tf.transpose(skewed, [2, 0, 1, 3]), [width + height - 1, 2, batch * height, 4 * h])
        kernel = tf.cast(self.state_kernel, x.dtype)
        bias = tf.cast(self.bias, x.dtype)
        if compiled:
            hidden = compiled_loop(columns_loop, [columns, kernel, bias], [height])
        else:
            hidden = columns_loop(columns, kernel, bias, height, exportable=True)
        hidden = tf.reshape(hidden, [width + height - 1, 2 * batch, height, h])
        hidden = unskew(tf.transpose(hidden, [1, 2, 0, 3]), width)
        left, right = hidden[:batch], tf.reverse(hidden[batch:], axis=[2])
        return left + shift_down(right)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "num_channels": self.num_channels}
