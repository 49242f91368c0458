"""DRAW's Gaussian filterbank attention against the paper's formulas worked by hand and numpy loops."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfgen.layers import draw_attention


def params(gx, gy, log_var, log_stride, log_gamma):
    return tf.constant([[gx, gy, log_var, log_stride, log_gamma]], tf.float32)


def test_window_parameters_worked_by_hand():
    # H = 20, W = 28, N = 5: gX = 29/2 (g~X + 1), gY = 21/2 (g~Y + 1), delta = 27/4 exp(log delta~).
    win = draw_attention.window(params(1.0, -0.5, math.log(4.0), math.log(0.5), math.log(2.0)), 20, 28, 5)
    got = {k: float(v[0]) for k, v in win.items()}
    assert got["centre_x"] == pytest.approx(29.0)
    assert got["centre_y"] == pytest.approx(5.25)
    assert got["stride"] == pytest.approx(3.375)
    assert got["variance"] == pytest.approx(4.0)
    assert got["intensity"] == pytest.approx(2.0)


def test_filterbank_equals_the_formula_looped_in_numpy():
    centre, stride, variance, size, length = 9.3, 2.5, 3.0, 4, 17
    got = draw_attention.filterbank(
        tf.constant([centre]), tf.constant([stride]), tf.constant([variance]), size, length
    ).numpy()[0]
    want = np.zeros((size, length))
    for i in range(1, size + 1):
        mu = centre + (i - size / 2 - 0.5) * stride
        for a in range(1, length + 1):
            want[i - 1, a - 1] = math.exp(-((a - mu) ** 2) / (2 * variance))
        want[i - 1] /= want[i - 1].sum() + draw_attention.EPSILON
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_narrow_filters_on_whole_pixels_read_exactly_those_pixels():
    """Pixels are numbered from 1: a 3 x 3 window centred on pixel (row 6, column 10), stride 1 and a
    tiny variance reads rows 5..7 and columns 9..11 (0-based 4..6 and 8..10), times gamma."""
    image = np.arange(12 * 16, dtype=np.float32).reshape(1, 1, 12, 16)
    win = {
        "centre_x": tf.constant([10.0]),
        "centre_y": tf.constant([6.0]),
        "stride": tf.constant([1.0]),
        "variance": tf.constant([1e-3]),
        "intensity": tf.constant([3.0]),
    }
    fy, fx = draw_attention.filterbanks(win, 3, 12, 16)
    glimpse = draw_attention.read_glimpse(tf.constant(image), fy, fx, win["intensity"]).numpy()
    np.testing.assert_allclose(glimpse[0, 0], 3.0 * image[0, 0, 4:7, 8:11], rtol=1e-5)
    # Writing that glimpse back puts it (divided by gamma) where it was read, and nothing elsewhere.
    written = draw_attention.write_patch(tf.constant(glimpse), fy, fx, win["intensity"]).numpy()[0, 0]
    want = np.zeros_like(image[0, 0])
    want[4:7, 8:11] = image[0, 0, 4:7, 8:11]
    np.testing.assert_allclose(written, want, rtol=1e-5, atol=1e-3)


def test_read_and_write_against_einsum_and_write_is_reads_adjoint():
    rng = np.random.default_rng(0)
    b, d, h, w, n = 3, 2, 9, 11, 4
    images = tf.constant(rng.normal(size=(b, d, h, w)), tf.float32)
    patches = tf.constant(rng.normal(size=(b, d, n, n)), tf.float32)
    win = draw_attention.window(tf.constant(rng.normal(size=(b, 5)) * 0.5, tf.float32), h, w, n)
    fy, fx = draw_attention.filterbanks(win, n, h, w)
    gamma = win["intensity"].numpy()
    glimpse = draw_attention.read_glimpse(images, fy, fx, win["intensity"]).numpy()
    want = np.einsum("bnh,bdhw,bmw->bdnm", fy.numpy(), images.numpy(), fx.numpy()) * gamma[:, None, None, None]
    np.testing.assert_allclose(glimpse, want, rtol=1e-4, atol=1e-5)
    written = draw_attention.write_patch(patches, fy, fx, win["intensity"]).numpy()
    want = np.einsum("bnh,bdnm,bmw->bdhw", fy.numpy(), patches.numpy(), fx.numpy()) / gamma[:, None, None, None]
    np.testing.assert_allclose(written, want, rtol=1e-4, atol=1e-5)
    # <read(x), w> / gamma = gamma <x, write(w)>: the same filterbanks, transposed.
    left = np.sum(glimpse * patches.numpy(), axis=(1, 2, 3)) / gamma
    right = gamma * np.sum(images.numpy() * written, axis=(1, 2, 3))
    np.testing.assert_allclose(left, right, rtol=1e-4)


@pytest.mark.parametrize("size", [2, 5])
def test_the_first_window_spans_the_image_with_overlapping_filters(size):
    """Decoder state 0 (the first step): the grid's end filters sit on the first and last pixel and
    sigma = delta, so every pixel reaches the glimpse (a zero-bias window reads only border pixels)."""
    layer = draw_attention.AttentionRead(size, 28, 28)
    x = tf.zeros([1, 1, 28, 28])
    _, win = layer(x, x, tf.zeros([1, 7]))
    centre, stride = float(win["centre_x"][0]), float(win["stride"][0])
    assert centre - (size - 1) / 2 * stride == pytest.approx(1.0)
    assert centre + (size - 1) / 2 * stride == pytest.approx(28.0)
    assert math.sqrt(float(win["variance"][0])) == pytest.approx(stride, rel=1e-5)
    # A digit-like blob in the middle, far from every grid point, still reaches the glimpse.
    blob = np.zeros((1, 1, 28, 28), np.float32)
    blob[0, 0, 12:16, 12:16] = 1
    glimpse, _ = layer(tf.constant(blob), tf.zeros_like(blob), tf.zeros([1, 7]))
    assert float(tf.reduce_sum(glimpse)) > 0.05


def test_attention_layers_shapes_and_whole_image_variants():
    h_dec = tf.random.normal([2, 6])
    images = tf.random.normal([2, 3, 7, 5])
    glimpse, win = draw_attention.AttentionRead(2, 7, 5)(images, images, h_dec)
    assert glimpse.shape == (2, 2 * 3 * 2 * 2) and set(win) == {
        "centre_x",
        "centre_y",
        "stride",
        "variance",
        "intensity",
    }
    update, _ = draw_attention.AttentionWrite(4, 7, 5, channels=3)(h_dec)
    assert update.shape == (2, 3, 7, 5)
    flat, none = draw_attention.WholeImageRead()(images, -images, h_dec)
    np.testing.assert_array_equal(flat.numpy(), tf.reshape(tf.concat([images, -images], 1), [2, -1]).numpy())
    assert none is None
    update, _ = draw_attention.WholeImageWrite(7, 5, channels=3)(h_dec)
    assert update.shape == (2, 3, 7, 5)


def test_the_first_write_has_unit_gain():
    """Decoder state 0: a patch value lands on the pixels under its filter's centre at a gain of about 1
    (1/gamma = 2 pi sigma^2), not the 1/(2 pi sigma^2) ~ 0.003 of a zero-bias window on 28 x 28."""
    layer = draw_attention.AttentionWrite(5, 28, 28, channels=1)
    layer(tf.zeros([1, 4]))
    kernel, bias = layer.to_patch.get_weights()
    centre_only = np.zeros_like(bias).reshape(5, 5)
    centre_only[2, 2] = 1.0  # the middle filter: centre 14.5 in both axes
    layer.to_patch.set_weights([np.zeros_like(kernel), centre_only.ravel()])
    update, win = layer(tf.zeros([1, 4]))
    centre = update.numpy()[0, 0, 13:15, 13:15].mean()  # pixels 14 and 15 on each side of 14.5
    assert 0.9 < centre < 1.2, centre
    assert float(win["intensity"][0]) == pytest.approx(1 / (2 * math.pi * float(win["variance"][0])), rel=1e-5)
