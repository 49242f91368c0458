"""Row LSTM and Diagonal BiLSTM: numbers against pixel-by-pixel numpy loops, and receptive fields."""

import numpy as np
import pytest
import tensorflow as tf

from tfgen.layers import DiagonalBiLSTM, RowLSTM
from tfgen.layers.row_lstm import lstm_update


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def cell(z, c):
    i, f, g, o = np.split(z, 4, axis=-1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


def row_lstm_reference(layer, x):
    """The paper's equations, one pixel at a time: state of (i, j) from row i - 1, columns j-1..j+1."""
    _, height, width, _ = x.shape
    h_units, k = layer.units, layer.kernel_width
    gates = layer.input_to_state(tf.constant(x)).numpy() + layer.bias.numpy()
    kernel = layer.state_kernel.numpy().reshape(k, h_units, 4 * h_units)
    h = np.zeros((x.shape[0], height + 1, width + k - 1, h_units))  # row 0 and the sides: zero padding
    c = np.zeros_like(h)
    for i in range(height):
        for j in range(width):
            z = gates[:, i, j] + sum(h[:, i, j + d] @ kernel[d] for d in range(k))
            h[:, i + 1, j + k // 2], c[:, i + 1, j + k // 2] = cell(z, c[:, i, j + k // 2])
    return h[:, 1:, k // 2 : k // 2 + width]


def diagonal_reference(layer, x):
    """Each direction pixel by pixel: state of (i, j) from (i - 1, j) and (i, j -/+ 1); right shifted down."""
    batch, height, width, _ = x.shape
    units = layer.units
    gates = layer.input_to_state(tf.constant(x)).numpy()
    kernel, bias = layer.state_kernel.numpy(), layer.bias.numpy()
    out = []
    for d, step in ((0, 1), (1, -1)):
        h = np.zeros((batch, height + 1, width + 2, units))  # zero borders all round
        c = np.zeros_like(h)
        columns = range(width) if step == 1 else range(width - 1, -1, -1)
        for i in range(height):
            for j in columns:
                above, side = h[:, i, j + 1], h[:, i + 1, j + 1 - step]
                z = gates[:, i, j, 4 * units * d : 4 * units * (d + 1)] + bias[d, 0]
                z = z + np.concatenate([above, side], -1) @ kernel[d]
                h[:, i + 1, j + 1], c[:, i + 1, j + 1] = cell(z, c[:, i + 1, j + 1 - step])
        out.append(h[:, 1:, 1:-1])
    left, right = out
    return left + np.concatenate([np.zeros_like(right[:, :1]), right[:, :-1]], axis=1)


@pytest.mark.parametrize("shape", [(2, 4, 6, 5), (1, 6, 3, 2)])
def test_row_lstm_matches_the_equations(shape):
    layer = RowLSTM(3)
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    np.testing.assert_allclose(layer(tf.constant(x)).numpy(), row_lstm_reference(layer, x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape", [(2, 4, 6, 5), (1, 6, 3, 2)])
def test_diagonal_bilstm_matches_the_equations(shape):
    layer = DiagonalBiLSTM(3)
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    np.testing.assert_allclose(layer(tf.constant(x)).numpy(), diagonal_reference(layer, x), rtol=1e-4, atol=1e-5)


def receptive_field(layer, shape, i, j):
    """Input positions [H, W] whose values change the layer's output at (i, j)."""
    x = tf.constant(np.random.default_rng(1).normal(size=(1, *shape)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(layer(x)[0, i, j])
    return np.abs(tape.gradient(y, x).numpy()[0]).sum(-1) > 0


@pytest.mark.parametrize("shape", [(5, 6, 4), (6, 4, 4)])
def test_diagonal_bilstm_sees_every_pixel_above_and_left_and_nothing_after(shape):
    """[1] section 3.2: one layer covers the whole available context: every
    row above (left and right of j) and row i up to and including (i, j)."""
    layer = DiagonalBiLSTM(4)
    height, width, _ = shape
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    for i in range(height):
        for j in range(width):
            want = (rows < i) | ((rows == i) & (cols <= j))
            np.testing.assert_array_equal(receptive_field(layer, shape, i, j), want, err_msg=f"pixel ({i}, {j})")


def test_row_lstm_sees_a_triangle_above():
    """[1] section 3.1: row i - d contributes columns j - d - 1 .. j + d; row i contributes j - 1 and j."""
    layer = RowLSTM(4)
    shape = (5, 7, 3)
    rows, cols = np.meshgrid(np.arange(5), np.arange(7), indexing="ij")
    for i, j in [(0, 0), (2, 3), (4, 1), (4, 6)]:
        d = i - rows
        want = ((d == 0) & (cols >= j - 1) & (cols <= j)) | ((d > 0) & (cols >= j - d - 1) & (cols <= j + d))
        np.testing.assert_array_equal(receptive_field(layer, shape, i, j), want, err_msg=f"pixel ({i}, {j})")


@pytest.mark.parametrize("layer_cls", [RowLSTM, DiagonalBiLSTM])
def test_colour_groups_at_the_centre(layer_cls):
    """Hidden group c at (i, j) reads input groups <= c of (i, j) (mask B), every group elsewhere."""
    layer = layer_cls(6, num_channels=3)
    x = tf.constant(np.random.default_rng(2).normal(size=(1, 3, 4, 6)), tf.float32)
    for c in range(3):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(layer(x)[0, 1, 2, 2 * c : 2 * c + 2])
        g = np.abs(tape.gradient(y, x).numpy()[0]) > 0
        np.testing.assert_array_equal(g[1, 2], np.arange(6) // 2 <= c)
        assert g[1, 1].all() and g[0, 2].all()


def assert_compiled_equals_unrolled(layer, x, weights, xla=True):
    """The layer's forms give the same values and gradients; returns the values.

    The forms: the exportable loop; compiled=True called from a plain graph (each compiled loop
    recomputes its forward for the gradient); with xla=True also compiled=True inside an XLA-compiled
    function, as in a config's `jit_compile` train step (the loops built in place, differentiated by XLA).
    """

    def value_and_gradients(x, compiled):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, compiled=compiled)
            loss = tf.reduce_sum(y * weights)
        return y, tape.gradient(loss, [x, *layer.trainable_variables])

    layer(x)  # built outside the functions
    in_xla = tf.function(lambda x: value_and_gradients(x, True), jit_compile=True, autograph=False)
    y0, g0 = value_and_gradients(x, False)
    for y1, g1 in [value_and_gradients(x, True)] + ([in_xla(x)] if xla else []):
        np.testing.assert_allclose(y1.numpy(), y0.numpy(), rtol=1e-5, atol=1e-6)
        for a, b in zip(g1, g0, strict=True):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)
    return y0.numpy()


@pytest.mark.parametrize(
    "make_layer, width",
    [(lambda: RowLSTM(4), 4), (lambda: RowLSTM(4, kernel_width=5), 3), (lambda: DiagonalBiLSTM(4), 4)],
    ids=["row_lstm", "row_lstm-kernel-wider-than-the-row", "diagonal_bilstm"],
)
def test_compiled_training_loop_equals_the_unrolled_loop(make_layer, width):
    """compiled=True runs an XLA while loop (the Row LSTM's with a hand-written gradient), otherwise an
    unrolled graph: same values, same gradients."""
    layer = make_layer()
    x = tf.constant(np.random.default_rng(3).normal(size=(3, 5, width, 6)), tf.float32)
    weights = tf.constant(np.random.default_rng(4).normal(size=(3, 5, width, 4)), tf.float32)
    assert_compiled_equals_unrolled(layer, x, weights)


@pytest.mark.parametrize("height, width, run_columns", [(5, 4, 2), (4, 9, 3), (4, 6, None)])
def test_diagonal_runs_of_columns_equal_the_one_exportable_loop(height, width, run_columns):
    """Training runs the Diagonal BiLSTM's recurrence as loops over runs of columns, each on only the
    rows it needs; the values and gradients are those of the one loop over every column (and the
    values those of the equations) for a tall and a wide image, and for one run of all columns. The
    tall image's four runs (later ones starting below the top row) are also checked inside an XLA
    function (one case: each compiles for seconds)."""
    layer = DiagonalBiLSTM(4, run_columns=run_columns)
    rng = np.random.default_rng(6)
    x = tf.constant(rng.normal(size=(2, height, width, 6)), tf.float32)
    weights = tf.constant(rng.normal(size=(2, height, width, 4)), tf.float32)
    values = assert_compiled_equals_unrolled(layer, x, weights, xla=height == 5)
    np.testing.assert_allclose(values, diagonal_reference(layer, x.numpy()), rtol=1e-4, atol=1e-5)


def test_diagonal_runs_need_at_least_one_column():
    with pytest.raises(ValueError, match="run_columns must be >= 1 or None, got 0"):
        DiagonalBiLSTM(4, run_columns=0)
    with pytest.raises(ValueError, match="run_columns must be a whole number of columns or None, got 2.5"):
        DiagonalBiLSTM(4, run_columns=2.5)


def test_one_sigmoid_cell_update_is_the_lstm_cell():
    """The Row LSTM's one-sigmoid gate math (tanh(g) = 2 sigmoid(2g) - 1) against the textbook cell."""
    rng = np.random.default_rng(5)
    z = rng.normal(scale=4.0, size=(7, 3, 4 * 5)).astype(np.float32)
    c = rng.normal(size=(7, 3, 5)).astype(np.float32)
    want_h, want_c = cell(z.astype(np.float64), c.astype(np.float64))
    for one_sigmoid in (False, True):
        h, c_new = lstm_update(tf.constant(z), tf.constant(c), one_sigmoid=one_sigmoid)
        np.testing.assert_allclose(c_new.numpy(), want_c, atol=2e-6, err_msg=f"one_sigmoid={one_sigmoid}")
        np.testing.assert_allclose(h.numpy(), want_h, atol=2e-6, err_msg=f"one_sigmoid={one_sigmoid}")
