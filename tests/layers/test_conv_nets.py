"""The shared convolutional networks."""

import numpy as np
import pytest
import tensorflow as tf

from tfgen.layers import ConvEncoder, ConvGenerator


@pytest.mark.parametrize("shape", [(6, 5, 3), (8, 8, 1), (28, 28, 1), (20, 20, 3)])
def test_generator_output_shape_for_any_size(shape):
    gen = ConvGenerator(shape, channels=(8, 4))
    assert gen(tf.zeros([2, 3])).shape == (2, *shape)


@pytest.mark.parametrize("shape", [(6, 5, 3), (8, 8, 1), (28, 28, 1)])
def test_hand_written_input_gradient_equals_the_tape(shape):
    enc = ConvEncoder((4, 8, 6), 1, 3)
    x = tf.random.stateless_normal([3, *shape], seed=[1, 2])
    enc(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        energy = tf.reduce_sum(enc(x))
    want = tape.gradient(energy, x).numpy()
    got = enc.input_gradient(x).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert np.abs(want).max() > 1e-4  # a real gradient, not zeros on both sides


def test_input_gradient_refuses_layers_it_does_not_model():
    enc = ConvEncoder((4, 4), 1, 3, norm="layer")  # the first convolution is never normalised
    enc(tf.zeros([1, 8, 8, 1]))
    with pytest.raises(ValueError, match="without normalization"):
        enc.input_gradient(tf.zeros([1, 8, 8, 1]))
