"""The shared convolutional networks."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgen.layers import ConvEncoder, ConvGenerator
from tfgen.layers.conv_nets import minibatch_stddev, spectral_estimate


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


def test_spectral_estimate_converges_to_the_top_singular_value_and_its_gradient_is_v_u():
    w = tf.constant(np.random.default_rng(0).normal(size=(3, 3, 4, 5)), tf.float32)
    u = tf.math.l2_normalize(tf.ones([5]))
    for _ in range(200):
        sigma, u = spectral_estimate(w, u)
    matrix = w.numpy().reshape(-1, 5)
    _, s, vt = np.linalg.svd(matrix)
    np.testing.assert_allclose(float(sigma), s[0], rtol=1e-5)
    # u and v are constants in the gradient: d sigma / dW = v u^T, the top singular pair.
    with tf.GradientTape() as tape:
        tape.watch(w)
        sigma, _ = spectral_estimate(w, u)
    grad = tape.gradient(sigma, w).numpy().reshape(-1, 5)
    left = matrix @ vt[0] / s[0]
    np.testing.assert_allclose(np.abs(grad), np.abs(np.outer(left, vt[0])), atol=1e-5)


def test_spectral_norm_divides_each_kernel_and_updates_only_in_training():
    keras.utils.set_random_seed(0)
    plain = ConvEncoder((4, 6), 1, 3)
    normed = ConvEncoder((4, 6), 1, 3, spectral_norm=True)
    for net in (plain, normed):
        net.build((None, 7, 5, 2))
    for a, b in zip([*plain.convs, plain.out], [*normed.convs, normed.out]):
        b.kernel.assign(a.kernel)
        b.bias.assign(a.bias)
    x = tf.constant(np.random.default_rng(1).normal(size=(3, 7, 5, 2)), tf.float32)
    before = [v.numpy().copy() for v in normed.singular_vectors]
    normed(x)  # inference: the singular vectors stay
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(before, normed.singular_vectors))
    for _ in range(100):
        normed(x, training=True)
    assert not np.array_equal(before[0], normed.singular_vectors[0].numpy())
    # The plain network with every kernel divided by its exact largest singular value is the same function.
    layers = [*plain.convs, plain.out]
    for layer in layers:
        matrix = layer.kernel.numpy().reshape(-1, layer.kernel.shape[-1])
        layer.kernel.assign(layer.kernel.numpy() / np.linalg.svd(matrix, compute_uv=False)[0])
    np.testing.assert_allclose(normed(x).numpy(), plain(x).numpy(), rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="spectral normalization"):
        normed.input_gradient(x)


def test_minibatch_stddev_appends_each_groups_mean_deviation():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(8, 3, 2, 5)).astype(np.float32)
    got = minibatch_stddev(tf.constant(x), 4).numpy()
    np.testing.assert_array_equal(got[..., :5], x)
    for group in range(2):
        members = x[4 * group : 4 * group + 4]
        want = np.mean(np.sqrt(members.var(axis=0) + 1e-8))
        np.testing.assert_allclose(got[4 * group : 4 * group + 4, ..., 5], want, rtol=1e-5)
    # Identical examples: no deviation; a batch that does not split into groups is one group.
    same = minibatch_stddev(tf.constant(np.repeat(x[:1], 4, axis=0)), 4).numpy()
    np.testing.assert_allclose(same[..., 5], 1e-4, rtol=1e-3)  # sqrt(0 + 1e-8)
    odd = minibatch_stddev(tf.constant(x[:6]), 4).numpy()
    np.testing.assert_allclose(odd[..., 5], np.mean(np.sqrt(x[:6].var(axis=0) + 1e-8)), rtol=1e-5)
    # In a discriminator it changes the output with the group's other members.
    keras.utils.set_random_seed(0)
    enc = ConvEncoder((4, 6), 1, 3, minibatch_stddev=2)
    a = enc(tf.constant(x[:2])).numpy()
    b = enc(tf.constant(np.stack([x[0], x[0]]))).numpy()
    assert a[0, 0] != b[0, 0]
