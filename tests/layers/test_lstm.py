"""SequenceLSTM: forward and hand-written gradient against plain autodiff."""

import numpy as np
import pytest
import tensorflow as tf

from tfgen.layers import SequenceLSTM, lstm_sequence, lstm_step


def reference(xg, u):
    steps, batch = xg.shape[0], xg.shape[1]
    h = c = tf.zeros([batch, u.shape[0]])
    out = []
    for t in range(steps):
        h, c = lstm_step(xg[t], h, c, u)
        out.append(h)
    return tf.stack(out)


@pytest.mark.parametrize("steps, batch, units", [(1, 1, 3), (9, 4, 6)])
def test_forward_and_gradients_match_autodiff(steps, batch, units):
    rng = np.random.default_rng(0)
    xg = tf.constant(rng.normal(size=(steps, batch, 4 * units)), tf.float32)
    u = tf.constant(rng.normal(size=(units, 4 * units)) * 0.5, tf.float32)
    weights = tf.constant(rng.normal(size=(steps, batch, units)), tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([xg, u])
        ours = lstm_sequence(xg, u)
        ref = reference(xg, u)
        loss_ours = tf.reduce_sum(ours * weights)
        loss_ref = tf.reduce_sum(ref * weights)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), atol=1e-6)
    for g_ours, g_ref in zip(tape.gradient(loss_ours, [xg, u]), tape.gradient(loss_ref, [xg, u])):
        np.testing.assert_allclose(g_ours.numpy(), g_ref.numpy(), atol=1e-5, rtol=1e-5)


def test_layer_step_matches_sequence_and_time_major():
    layer = SequenceLSTM(5)
    gates = tf.random.stateless_normal([2, 6, 20], seed=[1, 2])
    seq = layer(gates).numpy()
    np.testing.assert_allclose(
        layer(tf.transpose(gates, [1, 0, 2]), time_major=True).numpy().transpose(1, 0, 2), seq, atol=1e-6
    )
    state = layer.zero_state(2)
    for t in range(6):
        h, state = layer.step(gates[:, t], state)
        np.testing.assert_allclose(h.numpy(), seq[:, t], atol=1e-5)


def test_layer_gradient_reaches_both_weights():
    layer = SequenceLSTM(4)
    gates = tf.random.stateless_normal([3, 5, 16], seed=[3, 4])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(gates) ** 2)
    grads = tape.gradient(loss, layer.trainable_variables)
    assert len(grads) == 2 and all(float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)
