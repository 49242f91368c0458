"""Row LSTM ([1], section 3.1): an LSTM that runs down the image a row at a time.

The state of row i is computed for the whole row at once from (a) the
input-to-state part, a 1 x k convolution of the layer's input along row i,
masked (mask B) so that pixel (i, j) sees only pixels left of it and its
own earlier channels, computed for every row in one convolution before the
recurrence; and (b) the state-to-state part, an unmasked 1-D convolution of
width k over row i - 1's hidden states (all of row i - 1 precedes row i).
Each pixel therefore has a triangular receptive field above it.

The recurrence is a `tf.while_loop` in two forms, tested equal in values
and gradients: with `compiled=True` (training and evaluation) it runs
XLA-compiled with a hand-written gradient (`rows_sequence`; XLA-compiled
loops train about 2x faster on this CPU, where unfused gate ops dominate,
and the hand-written gradient about 1.1x faster again than XLA's own);
otherwise (`lstm_scan`) it writes its outputs into a fixed-shape buffer
through a one-hot mask,
which converts to a TFLite builtin WHILE with a dynamic batch (a TensorArray
in a loop does not convert with a dynamic batch): the samplers and the exported signatures use that form. (Unrolling
the loop in Python also converts, but made a 4-layer Diagonal BiLSTM's
TFLite files 4 MB of graph and took 17 minutes to export.)

[1] van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural
    Networks", arXiv:1601.06759.
"""

import dataclasses

import keras
import tensorflow as tf

from tfgen.layers.lstm import lstm_sequence, one_sigmoid_gates
from tfgen.layers.masked_conv import MaskedConv2D


def lstm_update(z, c, one_sigmoid=False):
    """LSTM cell update from the summed pre-activations z [..., 4H] (i, f, g, o) and cell c [..., H].

    one_sigmoid: activate the gates with `tfgen.layers.lstm.one_sigmoid_gates`
    instead of four narrow slices activated one by one. The same function
    either way (to float32 rounding), but not the same speed: on the 2-core CPU
    it made the Row LSTM's XLA-compiled recurrence about 1.3x faster and the
    Diagonal BiLSTM's slower (docs/RESULTS.md), so each layer uses what
    measured faster.
    """
    if one_sigmoid:
        i, f, g, o = one_sigmoid_gates(z)
        c = f * c + i * g
        return o * tf.tanh(c), c
    i, f, g, o = tf.split(z, 4, axis=-1)
    c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
    return tf.sigmoid(o) * tf.tanh(c), c


def forget_bias_init(units, blocks=1):
    """Bias initialiser: 1 for the forget gate (Jozefowicz et al. 2015), 0 elsewhere, per block."""

    def init(shape, dtype=None):
        one = tf.concat([tf.zeros([units]), tf.ones([units]), tf.zeros([2 * units])], 0)
        return tf.cast(tf.reshape(tf.tile(one, [blocks]), shape), dtype or "float32")

    return init


def lstm_scan(step, steps, state, exportable):
    """Runs (h, c) = step(k, h, c) for k < steps from state = (h, c).

    Returns (every h stacked [steps, ...], the final (h, c)).
    exportable=False: outputs in a TensorArray (what XLA compiles and
    differentiates well). exportable=True: outputs added into a fixed-shape
    buffer through a one-hot mask over the steps (exact: each entry is
    written once, onto zeros), no TensorList, so TFLite converts it.
    """
    h, c = state
    if exportable:
        rank = h.shape.rank

        def body(k, h, c, buffer):
            h, c = step(k, h, c)
            mask = tf.reshape(tf.one_hot(k, steps, dtype=h.dtype), [steps] + [1] * rank)
            return k + 1, h, c, buffer + mask * h[None]

        buffer = tf.zeros(tf.concat([[steps], tf.shape(h)], 0), h.dtype)
        _, h, c, outputs = tf.while_loop(lambda k, *_: k < steps, body, (0, h, c, buffer))
        return outputs, (h, c)

    def body(k, h, c, outputs):
        h, c = step(k, h, c)
        return k + 1, h, c, outputs.write(k, h)

    outputs = tf.TensorArray(h.dtype, size=steps)
    _, h, c, outputs = tf.while_loop(lambda k, *_: k < steps, body, (0, h, c, outputs), maximum_iterations=steps)
    return outputs.stack(), (h, c)


def row_window(h, kernel_width):
    """Rows [..., W, h] -> [-1, k*h]: each position's k neighbours along the row (zero-padded), side by side.

    The 1-D convolution over a row is one matmul of this with a [k*h, 4h]
    kernel (a 2-D matmul: XLA on CPU runs batched, rank-3 matmuls far slower).
    """
    width, pad = h.shape[-2], kernel_width // 2
    padded = tf.pad(h, [[0, 0]] * (h.shape.rank - 2) + [[pad, pad], [0, 0]])
    window = tf.concat([padded[..., d : d + width, :] for d in range(kernel_width)], axis=-1)
    return tf.reshape(window, [-1, kernel_width * h.shape[-1]])


def row_window_transpose(window, kernel_width, width):
    """The adjoint of `row_window`: [-1, k*h] -> rows [-1, W, h], each neighbour's part added back in its place."""
    pad = kernel_width // 2
    parts = tf.split(tf.reshape(window, [-1, width, window.shape[-1]]), kernel_width, axis=-1)
    padded = tf.add_n([tf.pad(part, [[0, 0], [d, kernel_width - 1 - d], [0, 0]]) for d, part in enumerate(parts)])
    return padded[:, pad : pad + width]


def row_step(h, c, gates, kernel, kernel_width):
    """One row: (h, c) of row i - 1 [B, W, h] and row i's input gates [B, W, 4h] -> (h, c) of row i."""
    z = tf.matmul(row_window(h, kernel_width), kernel)
    return lstm_update(gates + tf.reshape(z, tf.shape(gates)), c, one_sigmoid=True)


def rows_loop(gates, kernel, kernel_width, exportable=False):
    """The recurrence over rows: row-major gates [H, B, W, 4h] -> hidden states [H, B, W, h]."""
    units = kernel.shape[0] // kernel_width
    zeros = tf.zeros([tf.shape(gates)[1], gates.shape[2], units], gates.dtype)

    def step(i, h, c):
        return row_step(h, c, gates[i], kernel, kernel_width)

    return lstm_scan(step, gates.shape[0], (zeros, zeros), exportable)[0]


@dataclasses.dataclass(frozen=True)
class RowWindow:
    """The Row LSTM's state-to-state part for `tfgen.layers.lstm.lstm_sequence`: a 1-D convolution over the row above.

    Training runs the row recurrence through the LSTM loops with the
    hand-written gradient (`tfgen.layers.lstm`): the forward loop stores the
    premultiplied gate derivatives, the backward loop does one matmul per row,
    and the state kernel's gradient is one matmul after the loop, where XLA's
    own differentiation of the loop computed it a row at a time and saved more
    (about 1.1x on the train step, docs/RESULTS.md).
    """

    kernel_width: int

    def inputs(self, h):
        return row_window(h, self.kernel_width)

    def inputs_transpose(self, rows, like):
        out = tf.reshape(row_window_transpose(rows, self.kernel_width, like.shape[-2]), tf.shape(like))
        out.set_shape(like.shape)
        return out


def rows_sequence(gates, kernel, kernel_width):
    """`rows_loop` for training: the same hidden states [H, B, W, h], with the hand-written gradient."""
    return lstm_sequence(gates, kernel, RowWindow(kernel_width))


def put_column(buffer, index, value):
    """buffer [B, N, F] with entry `index` (scalar tensor) replaced by value [B, F]; a mask, so TFLite converts it."""
    here = tf.reshape(tf.equal(tf.range(buffer.shape[1]), index), [1, -1, 1])
    return tf.where(here, value[:, None, :], buffer)


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
        rows = tf.transpose(gates, [1, 0, 2, 3])
        if compiled:
            rows = rows_sequence(rows, kernel, self.kernel_width)
        else:
            rows = rows_loop(rows, kernel, self.kernel_width, exportable=True)
        return tf.transpose(rows, [1, 0, 2, 3])

    # -- one pixel at a time, for the cached sampler ----------------------------
    # Pixel (i, j) needs this layer's input on row i up to column j and the
    # (h, c) of row i - 1: the cache holds row i's inputs and the (h, c) of
    # rows i - 1 and i, so a pixel costs one cell update instead of the image.

    def initial_cache(self, batch, width, dtype):
        pad = self.kernel_width // 2
        features = self.input_to_state.kernel.shape[2]

        def row(f):
            return tf.zeros([batch, width + 2 * pad, f], dtype)

        # (inputs of row i, h of row i - 1, c of row i - 1, h of row i, c of row i), padded like the convolutions.
        return (row(features), row(self.units), row(self.units), row(self.units), row(self.units))

    def step_at(self, x, cache, i, j, new_row):
        """The hidden state at (i, j) [B, units] from the layer's input there x [B, F]."""
        del i
        k, pad = self.kernel_width, self.kernel_width // 2
        inputs, h_above, c_above, h_row, c_row = cache
        h_above, c_above = tf.where(new_row, h_row, h_above), tf.where(new_row, c_row, c_above)
        inputs = put_column(tf.where(new_row, tf.zeros_like(inputs), inputs), j + pad, x)
        window = j + tf.range(k)
        gates = self.input_to_state.apply_to_patch(tf.gather(inputs, window, axis=1)[:, None])
        above = tf.reshape(tf.gather(h_above, window, axis=1), [-1, k * self.units])
        z = gates + tf.cast(self.bias, x.dtype) + tf.matmul(above, tf.cast(self.state_kernel, x.dtype))
        h, c = lstm_update(z, tf.gather(c_above, j + pad, axis=1), one_sigmoid=True)
        return h, (inputs, h_above, c_above, put_column(h_row, j + pad, h), put_column(c_row, j + pad, c))

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "kernel_width": self.kernel_width,
            "num_channels": self.num_channels,
        }
