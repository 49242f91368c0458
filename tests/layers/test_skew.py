"""skew / unskew / shift_down against numpy, and skew followed by unskew is the identity."""

import numpy as np
import pytest
import tensorflow as tf

from tfgen.layers import shift_down, skew, unskew


@pytest.mark.parametrize("shape", [(2, 5, 7, 3), (1, 7, 3, 1), (3, 1, 4, 2), (1, 4, 1, 1)])
def test_skew_then_unskew_is_the_identity(shape):
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    skewed = skew(tf.constant(x)).numpy()
    _, h, w, _ = shape
    want = np.zeros((shape[0], h, w + h - 1, shape[3]), np.float32)
    for i in range(h):
        want[:, i, i : i + w] = x[:, i]
    np.testing.assert_array_equal(skewed, want)
    np.testing.assert_array_equal(unskew(tf.constant(skewed), w).numpy(), x)


def test_unskew_checks_the_width():
    with pytest.raises(ValueError, match="has 7 columns, got 8"):
        unskew(tf.zeros([1, 3, 8, 1]), width=5)


def test_skew_works_with_an_unknown_batch():
    fn = tf.function(lambda x: unskew(skew(x), 4), input_signature=[tf.TensorSpec([None, 3, 4, 2])], autograph=False)
    x = np.arange(48, dtype=np.float32).reshape(2, 3, 4, 2)
    np.testing.assert_array_equal(fn(x).numpy(), x)


def test_shift_down():
    x = np.arange(12, dtype=np.float32).reshape(1, 3, 4, 1)
    out = shift_down(tf.constant(x)).numpy()
    np.testing.assert_array_equal(out[:, 0], 0)
    np.testing.assert_array_equal(out[:, 1:], x[:, :2])
