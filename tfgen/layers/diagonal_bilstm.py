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

The recurrence over the W + H - 1 columns has two forms: `compiled=True`
(training and evaluation) runs XLA-compiled loops over runs of columns, each
on only the rows inside the image in its columns (`column_runs`), or one
compiled loop over all columns with `run_columns=None`; otherwise
one TFLite-convertible loop over every column (`columns_loop`, for samplers
and exports). Both give the same values (tested). The two directions run
side by side, one matmul each per column.

[1] van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural
    Networks", arXiv:1601.06759.
"""

import keras
import tensorflow as tf

from tfgen.layers.compiled_loop import compiled_loop
from tfgen.layers.masked_conv import MaskedConv2D
from tfgen.layers.row_lstm import forget_bias_init, lstm_scan, lstm_update, put_column
from tfgen.layers.skew import shift_down, skew, unskew

# Columns per compiled loop in training: the fastest of the counts tried at 28x28 (docs/RESULTS.md).
DEFAULT_RUN_COLUMNS = 7


def check_run_columns(value):
    """`run_columns` as the layer keeps it: a whole number >= 1, or None for one loop."""
    if value is None:
        return None
    if value != int(value):
        raise ValueError(f"run_columns must be a whole number of columns or None, got {value}")
    if int(value) < 1:
        raise ValueError(f"run_columns must be >= 1 or None, got {value}")
    return int(value)


def column_step(state, c, column, kernel, bias, k, rows, first_row=0):
    """Skewed column k of both directions: (h, c) of column k - 1 [2, B*R, h] -> (h, c) of column k.

    The state holds R = `rows` rows of the skewed map from `first_row` on; the
    row above them is read as zeros (the image's top border when `first_row`
    is 0; otherwise the caller makes sure that nothing inside the image
    depends on it, see `column_runs`). column: the input gates [2, B*R, 4h];
    kernel [2, 2h, 4h]; k may be a tensor.
    """
    units = state.shape[-1]
    # h(i - 1) of the previous column: the same column moved down one row.
    grid = tf.reshape(state, [2, -1, rows, units])
    above = tf.pad(grid, [[0, 0], [0, 0], [1, 0], [0, 0]])[:, :, :-1]
    window = tf.reshape(tf.concat([above, grid], axis=-1), [2, -1, 2 * units])
    # One 2-D matmul per direction: XLA on CPU runs a batched matmul far slower.
    z = tf.stack([tf.matmul(window[d], kernel[d]) for d in range(2)])
    state, c = lstm_update(column + bias + z, c)
    # Rows i > k of column k lie left of the image (row i starts at column i):
    # zero states there are the image's left border, as for a convolution's
    # zero padding, instead of bias-driven values.
    inside = tf.cast(tf.range(first_row, first_row + rows) <= k, state.dtype)[None, None, :, None]
    state = tf.reshape(tf.reshape(state, [2, -1, rows, units]) * inside, [2, -1, units])
    c = tf.reshape(tf.reshape(c, [2, -1, rows, units]) * inside, [2, -1, units])
    return state, c


def columns_loop(columns, kernel, bias, height):
    """The recurrence over skewed columns, TFLite-convertible: [W+H-1, 2, B*H, 4h] -> [W+H-1, 2, B*H, h]."""
    units = kernel.shape[-1] // 4
    zeros = tf.zeros([2, tf.shape(columns)[2], units], columns.dtype)

    def step(k, state, c):
        return column_step(state, c, columns[k], kernel, bias, k, height)

    return lstm_scan(step, columns.shape[0], (zeros, zeros), exportable=True)[0]


def column_runs(height, width, count):
    """The W + H - 1 skewed columns split into `count` runs (k0, k1, r0, r1): columns [k0, k1) and the
    rows [r0, r1) a run computes.

    Row i lies inside the image in columns i .. i + W - 1, so those are the
    rows inside in any of the run's columns, plus one above them: the first
    of those rows reads, in column k0, the row above it in column k0 - 1,
    which the run must carry in from the previous one. (The extra row, past
    its last column from k0 on, feeds nothing inside the image after that.)
    """
    total = width + height - 1
    bounds = sorted({round(i * total / count) for i in range(count + 1)})
    return [(k0, k1, max(0, k0 - width), min(height, k1)) for k0, k1 in zip(bounds[:-1], bounds[1:])]


def run_loop(columns, h, c, kernel, bias, rows, first_row, first_column):
    """Columns `first_column`.. of the recurrence, on `rows` rows from `first_row`, from state (h, c).

    [K, 2, B*R, 4h] -> (the K columns' hidden states [K, 2, B*R, h], the last column's (h, c)).
    """

    def step(k, h, c):
        return column_step(h, c, columns[k], kernel, bias, first_column + k, rows, first_row)

    return lstm_scan(step, columns.shape[0], (h, c), exportable=False)


class DiagonalBiLSTM(keras.layers.Layer):
    """Diagonal BiLSTM layer: [B, H, W, F] -> hidden states [B, H, W, units].

    Args:
        units: hidden size h per direction (the two directions are summed).
        num_channels: colour channels of the image. Defaults to 1.
        run_columns: columns per compiled loop in training (speed only, not
            the values), or None for one loop over all columns (fewer loops to
            compile: for tiny images). Defaults to 7.

    Example:
        >>> layer = DiagonalBiLSTM(16)
        >>> h = layer(tf.zeros([2, 28, 28, 32]))  # [2, 28, 28, 16]
    """

    def __init__(self, units, num_channels=1, run_columns=DEFAULT_RUN_COLUMNS, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.num_channels = int(num_channels)
        self.run_columns = check_run_columns(run_columns)
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
            hidden = self._compiled_runs(columns, kernel, bias, batch, height, width)
        else:
            hidden = columns_loop(columns, kernel, bias, height)
        hidden = tf.reshape(hidden, [width + height - 1, 2 * batch, height, h])
        hidden = unskew(tf.transpose(hidden, [1, 2, 0, 3]), width)
        left, right = hidden[:batch], tf.reverse(hidden[batch:], axis=[2])
        return left + shift_down(right)

    def _compiled_runs(self, columns, kernel, bias, batch, height, width):
        """The recurrence as XLA-compiled loops over runs of about `run_columns` columns (or one), each on its rows.

        Half of the skewed map lies outside the image (column k holds rows
        k - W + 1 .. k of it). One loop over every column computes all of it;
        a run of columns computes only the rows it needs. At 28x28 (55
        columns), batch 32, runs of 7 columns made the Diagonal BiLSTM's
        train step 1.4-1.5x faster than one loop on the 2-core CPU; one loop
        per column was slower than one loop in all (docs/RESULTS.md).
        """
        h = self.units
        grid = tf.reshape(columns, [width + height - 1, 2, batch, height, 4 * h])
        count = 1 if self.run_columns is None else max(1, round((width + height - 1) / self.run_columns))
        # (h, c) after the previous run, on its rows [r0, r1): before the first run, no rows.
        hidden, (r0, r1) = [], (0, 0)
        state = [tf.zeros([2, 0, h], columns.dtype)] * 2
        for k0, k1, first, last in column_runs(height, width, count):
            rows = last - first
            part = tf.reshape(grid[k0:k1, :, :, first:last], [k1 - k0, 2, batch * rows, 4 * h])
            # The previous run's final (h, c) on this run's rows. Rows past its last one were left of
            # the image in column k0 - 1 (row i starts at column i): zero state there.
            start = [tf.reshape(t, [2, batch, r1 - r0, h])[:, :, first - r0 :] for t in state]
            start = [tf.reshape(tf.pad(t, [[0, 0], [0, 0], [0, last - r1], [0, 0]]), [2, -1, h]) for t in start]
            out, state = compiled_loop(run_loop, [part, *start, kernel, bias], [rows, first, k0])
            r0, r1 = first, last
            out = tf.reshape(out, [k1 - k0, 2, batch, rows, h])
            hidden.append(tf.pad(out, [[0, 0], [0, 0], [0, 0], [first, height - last], [0, 0]]))
        return tf.concat(hidden, axis=0)

    # -- one pixel at a time, for the cached sampler ----------------------------
    # In image coordinates the left-to-right LSTM's (h, c) at (i, j) follows
    # from h(i - 1, j), (h, c)(i, j - 1) and the gates at (i, j): one cell
    # update per pixel. The right-to-left LSTM's state at (i, j) needs the
    # rest of row i, and the layer reads it one row down, so it runs once per
    # finished row: on the first pixel of row i it sweeps row i - 1 from right
    # to left (W cell updates) using that row's stored gates and row i - 2's
    # states. Per image that is 2 H W cell updates per layer, as in `call`.

    def initial_cache(self, batch, width, dtype):
        h = self.units

        def row(f):
            return tf.zeros([batch, width + 1, f], dtype)

        # Left-to-right (h, c) of rows i - 1 and i, stored at column + 1 (column 0 is the
        # image's left border); the right-to-left gates of row i and its states of row i - 1.
        return (row(h), row(h), row(h), row(4 * h), tf.zeros([batch, width, h], dtype))

    def step_at(self, x, cache, i, j, new_row):
        """The hidden state at (i, j) [B, units] from the layer's input there x [B, F]."""
        h = self.units
        h_above, h_row, c_row, right_gates, right_above = cache
        kernel, bias = tf.cast(self.state_kernel, x.dtype), tf.cast(self.bias, x.dtype)
        # Only the first pixel of a row below the first sweeps (a cond, so other pixels skip the work).
        right_above = tf.cond(
            tf.logical_and(new_row, i > 0),
            lambda: self._sweep_right_to_left(right_gates[:, 1:], right_above, kernel[1], bias[1]),
            lambda: right_above,
        )
        h_above = tf.where(new_row, h_row, h_above)
        h_row, c_row, right_gates = (tf.where(new_row, tf.zeros_like(b), b) for b in (h_row, c_row, right_gates))
        gates = self.input_to_state.apply_to_patch(x[:, None, None, :])
        window = tf.concat([tf.gather(h_above, j + 1, axis=1), tf.gather(h_row, j, axis=1)], axis=-1)
        state, c = lstm_update(gates[:, : 4 * h] + bias[0] + tf.matmul(window, kernel[0]), tf.gather(c_row, j, axis=1))
        cache = (
            h_above,
            put_column(h_row, j + 1, state),
            put_column(c_row, j + 1, c),
            put_column(right_gates, j + 1, gates[:, 4 * h :]),
            right_above,
        )
        return state + tf.gather(right_above, j, axis=1), cache

    def _sweep_right_to_left(self, gates, above, kernel, bias):
        """Right-to-left states of a finished row [B, W, h] from its gates [B, W, 4h] and the row above's states."""
        width = gates.shape[1]

        def step(k, state, c):
            column = width - 1 - k
            window = tf.concat([tf.gather(above, column, axis=1), state], axis=-1)
            return lstm_update(tf.gather(gates, column, axis=1) + bias + tf.matmul(window, kernel), c)

        zeros = tf.zeros_like(above[:, 0])
        states = lstm_scan(step, width, (zeros, zeros), exportable=True)[0]
        return tf.reverse(tf.transpose(states, [1, 0, 2]), axis=[1])

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "num_channels": self.num_channels,
            "run_columns": self.run_columns,
        }
