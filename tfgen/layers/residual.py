"""Residual blocks of the PixelRNN paper's models ([1], section 3.5, figure 5).

Every block maps 2h features to 2h features and adds its input back, so deep
stacks train (and the output of a block is a correction to its input):

* `ResidualConvBlock` (PixelCNN): ReLU, 1x1 conv to h, ReLU, k x k conv
  (mask B), ReLU, 1x1 conv back to 2h.
* `ResidualRecurrentBlock` (Row LSTM, Diagonal BiLSTM): the recurrent layer
  from 2h features to h hidden states, then a 1x1 conv back to 2h.

All convolutions are masked (mask B), so a block keeps the causal ordering of
its input, colour channels included.

[1] van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural
    Networks", arXiv:1601.06759.
"""

import keras
import tensorflow as tf

from tfgen.layers.diagonal_bilstm import DiagonalBiLSTM
from tfgen.layers.masked_conv import MaskedConv2D
from tfgen.layers.row_lstm import RowLSTM


class ResidualConvBlock(keras.layers.Layer):
    """PixelCNN residual block: [B, H, W, 2h] -> [B, H, W, 2h].

    Args:
        units: h, the bottleneck width (input and output have 2h features).
        kernel_size: of the masked middle convolution. Defaults to 3.
        num_channels: colour channels of the image. Defaults to 1.

    Example:
        >>> block = ResidualConvBlock(16)
        >>> y = block(tf.zeros([2, 28, 28, 32]))  # [2, 28, 28, 32]
    """

    def __init__(self, units, kernel_size=3, num_channels=1, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.kernel_size = int(kernel_size)
        self.num_channels = int(num_channels)
        self.reduce = MaskedConv2D(self.units, 1, "B", self.num_channels, name="reduce")
        self.conv = MaskedConv2D(self.units, self.kernel_size, "B", self.num_channels, name="conv")
        self.expand = MaskedConv2D(2 * self.units, 1, "B", self.num_channels, name="expand")

    def build(self, input_shape):
        if input_shape[-1] != 2 * self.units:
            raise ValueError(f"a residual block of {self.units} units takes {2 * self.units} features")
        self.reduce.build(input_shape)
        self.conv.build((*input_shape[:-1], self.units))
        self.expand.build((*input_shape[:-1], self.units))

    def call(self, x, compiled=False):
        del compiled  # no recurrence to compile; accepted so every block is called alike
        y = tf.nn.relu(self.conv(tf.nn.relu(self.reduce(tf.nn.relu(x)))))
        return x + self.expand(y)

    # -- one position at a time, for the cached sampler ------------------------
    # The protocol every residual block follows (`PixelNetwork._step_state`):
    # `initial_cache(batch, width, dtype)` and `step_at(x, cache, i, j,
    # new_row) -> (output [B, 2h], cache)` with x the block's input at
    # (i, j) [B, 2h]; new_row is true on the first step of row i.

    def initial_cache(self, batch, width, dtype):
        """The last k//2 + 1 rows of the middle convolution's input, zero-padded left and right."""
        rows, pad = self.kernel_size // 2 + 1, self.kernel_size // 2
        return tf.zeros([batch, rows, width + 2 * pad, self.units], dtype)

    def step_at(self, x, cache, i, j, new_row):
        del i
        k, pad = self.kernel_size, self.kernel_size // 2
        rows, cols = cache.shape[1], cache.shape[2]
        shifted = tf.concat([cache[:, 1:], tf.zeros_like(cache[:, :1])], axis=1)
        cache = tf.where(new_row, shifted, cache)
        # The new position's slot: the cache's last row, column j (+ padding).
        write = tf.reshape(tf.one_hot((rows - 1) * cols + j + pad, rows * cols) > 0, [1, rows, cols, 1])
        cache = tf.where(write, self.conv_input_at(x)[:, None, None, :], cache)
        return self.output_at(x, tf.gather(cache, j + tf.range(k), axis=2)), cache

    def conv_input_at(self, x):
        """The middle convolution's input at one position: [B, 2h] -> [B, h]."""
        return tf.nn.relu(self.reduce.apply_to_patch(tf.nn.relu(x)[:, None, None, :]))

    def output_at(self, x, patch):
        """The block's output at one position from its input x [B, 2h] and the
        middle convolution's causal input patch [B, k//2 + 1, k, h]."""
        y = tf.nn.relu(self.conv.apply_to_patch(patch))
        return x + self.expand.apply_to_patch(y[:, None, None, :])

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "kernel_size": self.kernel_size,
            "num_channels": self.num_channels,
        }


RECURRENT_LAYERS = {"row_lstm": RowLSTM, "diagonal_bilstm": DiagonalBiLSTM}


class ResidualRecurrentBlock(keras.layers.Layer):
    """A Row LSTM or Diagonal BiLSTM with a residual connection: [B, H, W, 2h] -> [B, H, W, 2h].

    Args:
        kind: "row_lstm" or "diagonal_bilstm".
        units: h, the LSTM's hidden size (input and output have 2h features).
        num_channels: colour channels of the image. Defaults to 1.
        layer_options: further arguments of the recurrent layer (e.g. the
            Diagonal BiLSTM's `run_columns`). Defaults to none.

    Example:
        >>> block = ResidualRecurrentBlock("diagonal_bilstm", 16)
        >>> y = block(tf.zeros([2, 28, 28, 32]))  # [2, 28, 28, 32]
    """

    def __init__(self, kind, units, num_channels=1, layer_options=None, **kwargs):
        super().__init__(**kwargs)
        if kind not in RECURRENT_LAYERS:
            raise ValueError(f"kind must be one of {sorted(RECURRENT_LAYERS)}, got {kind!r}")
        self.kind = kind
        self.units = int(units)
        self.num_channels = int(num_channels)
        self.layer_options = dict(layer_options or {})
        self.recurrent = RECURRENT_LAYERS[kind](
            self.units, num_channels=self.num_channels, name=kind, **self.layer_options
        )
        self.expand = MaskedConv2D(2 * self.units, 1, "B", self.num_channels, name="expand")

    def build(self, input_shape):
        if input_shape[-1] != 2 * self.units:
            raise ValueError(f"a residual block of {self.units} units takes {2 * self.units} features")
        self.recurrent.build(input_shape)
        self.expand.build((*input_shape[:-1], self.units))

    def call(self, x, compiled=False):
        # compiled: the recurrent layer's XLA loop instead of the exportable unrolled one (see RowLSTM).
        return x + self.expand(self.recurrent(x, compiled=compiled))

    # -- one position at a time, for the cached sampler (see ResidualConvBlock) --

    def initial_cache(self, batch, width, dtype):
        return self.recurrent.initial_cache(batch, width, dtype)

    def step_at(self, x, cache, i, j, new_row):
        hidden, cache = self.recurrent.step_at(x, cache, i, j, new_row)
        return x + self.expand.apply_to_patch(hidden[:, None, None, :]), cache

    def get_config(self):
        return {
            **super().get_config(),
            "kind": self.kind,
            "units": self.units,
            "num_channels": self.num_channels,
            "layer_options": dict(self.layer_options),
        }
