"""Likelihood losses against values worked out by hand."""

import math

import numpy as np
import tensorflow as tf

from tfgen import losses


def test_categorical_log_prob_by_hand():
    # Example 0: two positions, logits (0, ln 3) -> p = (1/4, 3/4); targets 1 and 0.
    # log p = ln(3/4) + ln(1/4). Example 1: uniform over 2 -> 2 ln(1/2).
    logits = tf.constant([[[0.0, math.log(3.0)], [0.0, math.log(3.0)]], [[5.0, 5.0], [-1.0, -1.0]]])
    targets = tf.constant([[1, 0], [0, 1]])
    got = losses.categorical_log_prob(logits, targets).numpy()
    np.testing.assert_allclose(got, [math.log(0.75) + math.log(0.25), 2 * math.log(0.5)], rtol=1e-6)


def test_bits_per_dim_by_hand():
    # 784 pixels at 1 bit each = 784 ln 2 nats.
    assert abs(float(losses.bits_per_dim(tf.constant(784 * math.log(2.0)), 784)) - 1.0) < 1e-6


def test_replica_mean_without_strategy_is_the_mean():
    assert float(losses.replica_mean(tf.constant([1.0, 2.0, 6.0]))) == 3.0


def test_dense_gradients_sums_duplicate_rows():
    slices = tf.IndexedSlices(tf.constant([[1.0], [2.0], [4.0]]), tf.constant([0, 2, 0]), tf.constant([3, 1]))
    dense, other = losses.dense_gradients([slices, tf.constant([7.0])])
    np.testing.assert_array_equal(dense.numpy(), [[5.0], [0.0], [2.0]])
    assert float(other[0]) == 7.0
