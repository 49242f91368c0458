"""Masked convolutions: masks worked out by hand, and causality measured by gradients."""

import numpy as np
import pytest
import tensorflow as tf

from tfgen.layers import MaskedConv2D, channel_groups, conv_mask


def test_channel_groups_split_features_in_order():
    np.testing.assert_array_equal(channel_groups(6, 3), [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(channel_groups(5, 1), [0] * 5)
    # LSTM gates: each of the 4 blocks of h = 3 units is grouped on its own.
    np.testing.assert_array_equal(channel_groups(12, 3, num_blocks=4), [0, 1, 2] * 4)
    with pytest.raises(ValueError, match="cannot hold 3 channel groups"):
        channel_groups(2, 3)


def test_spatial_masks_by_hand():
    a = conv_mask((3, 3), 1, 1, 1, "A")[..., 0, 0]
    b = conv_mask((3, 3), 1, 1, 1, "B")[..., 0, 0]
    np.testing.assert_array_equal(a, [[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(b, [[1, 1, 1], [1, 1, 0], [0, 0, 0]])
    row = conv_mask((1, 3), 1, 1, 1, "B")[0, :, 0, 0]
    np.testing.assert_array_equal(row, [1, 1, 0])
    assert conv_mask((3, 3), 2, 2, 1, None).all()


def test_channel_masks_by_hand():
    # R, G, B groups of one feature each: at the centre mask A lets G see R
    # only, and B see R and G; mask B adds each group's own input.
    a = conv_mask((1, 1), 3, 3, 3, "A")[0, 0]  # [in, out]
    b = conv_mask((1, 1), 3, 3, 3, "B")[0, 0]
    np.testing.assert_array_equal(a, [[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(b, [[1, 1, 1], [0, 1, 1], [0, 0, 1]])
    # Off-centre positions (left, above) see every channel.
    assert conv_mask((3, 3), 3, 3, 3, "A")[1, 0].all() and conv_mask((3, 3), 3, 3, 3, "A")[0, 2].all()


@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_output_depends_only_on_allowed_inputs(mask_type):
    """d out[i, j, group c] / d in[i', j', group g] is non-zero exactly where the mask allows."""
    channels, height, width = 3, 4, 5
    conv = MaskedConv2D(6, 3, mask_type, num_channels=channels)
    x = tf.constant(np.random.default_rng(0).normal(size=(1, height, width, 6)), tf.float32)
    groups = channel_groups(6, channels)
    for i, j, c in [(0, 0, 0), (2, 3, 1), (3, 4, 2), (1, 0, 2)]:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = conv(x)[0, i, j]
            target = tf.reduce_sum(y * tf.constant(groups == c, tf.float32))
        seen = np.abs(tape.gradient(target, x).numpy()[0]) > 0  # [H, W, F]
        for ii in range(height):
            for jj in range(width):
                for f in range(6):
                    g = groups[f]
                    earlier = (ii, jj) < (i, j)
                    centre = (ii, jj) == (i, j) and (g < c if mask_type == "A" else g <= c)
                    near = abs(ii - i) <= 1 and abs(jj - j) <= 1
                    assert seen[ii, jj, f] == ((earlier or centre) and near), (mask_type, (i, j, c), (ii, jj, f))


def test_one_position_from_its_patch_equals_the_convolution():
    conv = MaskedConv2D(5, 5, "B", num_channels=1)
    x = np.random.default_rng(1).normal(size=(2, 6, 7, 3)).astype(np.float32)
    full = conv(tf.constant(x)).numpy()
    padded = np.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]])
    for i, j in [(0, 0), (3, 4), (5, 6)]:
        patch = padded[:, i : i + conv.causal_rows, j : j + 5]  # rows i-2..i, cols j-2..j+2
        np.testing.assert_allclose(conv.apply_to_patch(tf.constant(patch)).numpy(), full[:, i, j], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mask_type, kernel_size", [("A", 7), ("B", 3), ("B", (1, 3)), (None, 3)])
def test_causal_rows_convolution_equals_the_full_masked_kernel(mask_type, kernel_size):
    """`call` skips the all-zero kernel rows below the centre; the output must not change."""
    conv = MaskedConv2D(4, kernel_size, mask_type, num_channels=1)
    x = tf.constant(np.random.default_rng(2).normal(size=(2, 5, 6, 3)), tf.float32)
    out = conv(x).numpy()
    full = tf.nn.conv2d(x, conv.masked_kernel(), strides=1, padding="SAME") + conv.bias
    np.testing.assert_allclose(out, full.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mask_type, channels", [("B", 1), ("A", 3), ("B", 3), (None, 1)])
def test_pointwise_kernels_run_as_a_matmul_with_the_convolutions_values_and_gradients(mask_type, channels):
    """A 1 x 1 kernel is computed as one matmul (`pointwise`), also with an unknown batch; its output and
    gradients must be the masked convolution's."""
    conv = MaskedConv2D(6, 1, mask_type, num_channels=channels)
    x = tf.constant(np.random.default_rng(3).normal(size=(2, 4, 7, 6)), tf.float32)
    conv.build(x.shape)
    conv.bias.assign(np.arange(6, dtype=np.float32) / 10)
    calls = []
    conv.pointwise = lambda x, pointwise=conv.pointwise: calls.append(1) or pointwise(x)

    def reference(x):
        return tf.nn.conv2d(x, conv.masked_kernel(), strides=1, padding="SAME") + conv.bias

    dynamic = tf.function(conv.call, input_signature=[tf.TensorSpec([None, 4, 7, 6])], autograph=False)
    for fn in (conv.call, dynamic):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            out, ref = fn(x), reference(x)
            losses = tf.reduce_sum(tf.sin(out)), tf.reduce_sum(tf.sin(ref))
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)
        for wrt in (x, conv.kernel, conv.bias):
            np.testing.assert_allclose(
                tape.gradient(losses[0], wrt).numpy(), tape.gradient(losses[1], wrt).numpy(), rtol=1e-4, atol=1e-5
            )
    assert len(calls) == 2  # the matmul, not the convolution, made `out`
