"""Latent-model losses against closed forms, hand-worked values and Monte Carlo."""

import math

import numpy as np
import tensorflow as tf

from tfgen.losses import latent


def test_kl_by_hand():
    # One dimension, m = 1, log_var = ln 2: 1/2 (2 - (1 + ln 2) + 1) = 1 - ln(2)/2.
    got = latent.gaussian_kl(tf.constant([[1.0]]), tf.constant([[math.log(2.0)]]))
    np.testing.assert_allclose(got.numpy(), [1.0 - math.log(2.0) / 2], rtol=1e-6)
    # q = prior: zero. Dimensions add up.
    np.testing.assert_allclose(latent.gaussian_kl(tf.zeros([3, 5]), tf.zeros([3, 5])).numpy(), 0.0, atol=1e-7)
    two = latent.gaussian_kl(tf.constant([[1.0, 1.0]]), tf.constant([[math.log(2.0)] * 2]))
    np.testing.assert_allclose(two.numpy(), [2 - math.log(2.0)], rtol=1e-6)


def test_kl_is_half_the_lectures_expression():
    """The lecture's sum exp(s) - (1 + s) + m^2 (s = log variance) is twice our KL."""
    rng = np.random.default_rng(0)
    m, s = rng.normal(size=(4, 6)).astype(np.float32), rng.normal(size=(4, 6)).astype(np.float32)
    lecture = np.sum(np.exp(s) - (1 + s) + m**2, axis=1)
    np.testing.assert_allclose(latent.gaussian_kl(m, s).numpy(), lecture / 2, rtol=1e-5)


def test_kl_closed_form_equals_monte_carlo():
    """KL(q || p) = E_q[log q(c) - log p(c)], estimated from 200k reparameterised draws."""
    mean = tf.constant([[0.7, -1.2, 0.0]])
    log_var = tf.constant([[math.log(0.3), math.log(2.5), 0.4]])
    n = 200_000
    eps = tf.random.stateless_normal([n, 3], seed=[1, 2])
    codes = latent.reparameterize(mean, log_var, eps)
    log_ratio = latent.gaussian_log_prob(codes, mean, log_var) - latent.standard_normal_log_prob(codes)
    estimate, stderr = float(tf.reduce_mean(log_ratio)), float(tf.math.reduce_std(log_ratio)) / math.sqrt(n)
    closed = float(latent.gaussian_kl(mean, log_var)[0])
    assert abs(estimate - closed) < 4 * stderr, (closed, estimate, stderr)
    assert stderr < 0.01  # the tolerance is tight enough to catch a missing factor or a wrong sign


def test_gaussian_log_prob_by_hand():
    # N(1; 0, 4): -1/2 (ln 2 pi + ln 4 + 1/4).
    got = latent.gaussian_log_prob(tf.constant([[1.0]]), tf.constant([[0.0]]), tf.constant([[math.log(4.0)]]))
    np.testing.assert_allclose(got.numpy(), [-0.5 * (math.log(2 * math.pi) + math.log(4.0) + 0.25)], rtol=1e-6)
    np.testing.assert_allclose(
        latent.standard_normal_log_prob(tf.constant([[0.0, 2.0]])).numpy(),
        [-math.log(2 * math.pi) - 2.0],
        rtol=1e-6,
    )


def test_bernoulli_log_prob_by_hand():
    # logit ln 3 -> p(1) = 3/4. Pixels (1, 0) -> ln(3/4) + ln(1/4); logit 0 -> 2 ln(1/2).
    logits = tf.constant([[math.log(3.0), math.log(3.0)], [0.0, 0.0]])
    got = latent.bernoulli_log_prob(logits, tf.constant([[1, 0], [0, 1]]))
    np.testing.assert_allclose(got.numpy(), [math.log(0.75) + math.log(0.25), 2 * math.log(0.5)], rtol=1e-6)


def test_reparameterisation_gradients_by_hand():
    """d/dm E[c^2] = 2m and d/dlog_var E[c^2] = exp(log_var): the gradient flows through the sample."""
    mean, log_var = tf.Variable([0.5]), tf.Variable([math.log(0.8)])
    eps = tf.random.stateless_normal([100_000, 1], seed=[3, 4])
    with tf.GradientTape() as tape:
        value = tf.reduce_mean(tf.square(latent.reparameterize(mean, log_var, eps)))
    d_mean, d_log_var = tape.gradient(value, [mean, log_var])
    np.testing.assert_allclose(d_mean.numpy(), [1.0], atol=0.02)
    np.testing.assert_allclose(d_log_var.numpy(), [0.8], atol=0.02)


def test_importance_weighted_bound_by_hand():
    # Weights 1 and 3: log mean = ln 2. k = 1 is the log weight itself. Huge negative log
    # weights (an MNIST digit: ~ -100 nats) must not underflow to -inf.
    np.testing.assert_allclose(latent.importance_weighted_bound(tf.math.log([[1.0, 3.0]])).numpy(), [math.log(2.0)])
    np.testing.assert_allclose(latent.importance_weighted_bound(tf.constant([[-7.0]])).numpy(), [-7.0])
    big = latent.importance_weighted_bound(tf.constant([[-1000.0, -1000.0 + math.log(3.0)]]))
    np.testing.assert_allclose(big.numpy(), [-1000.0 + math.log(2.0)], rtol=1e-6)


def test_active_units():
    rng = np.random.default_rng(0)
    means = np.stack([rng.normal(size=500), 0.001 * rng.normal(size=500), np.full(500, 3.0)], axis=1)
    count, variance = latent.active_units(means)
    assert count == 1
    assert variance[0] > 0.5 and variance[1] < 1e-5 and variance[2] == 0


def test_kl_weight_warms_up_over_a_fraction_of_the_run():
    # beta 2, a quarter of a 400-step run: W = 100 steps, weight 2 * t / 100.
    weights = [float(latent.kl_weight(t, 2.0, 0.25, 400)) for t in (0, 1, 50, 99, 100, 399)]
    np.testing.assert_allclose(weights, [0.0, 0.02, 1.0, 1.98, 2.0, 2.0], rtol=1e-6)
    # The same fraction of a run twice as long takes twice the steps.
    assert float(latent.kl_weight(100, 2.0, 0.25, 800)) == 1.0
    # No warm-up, or a run of unknown length (a bare `fit`): beta from the first step.
    assert float(latent.kl_weight(0, 2.0, 0.0, 400)) == 2.0
    assert float(latent.kl_weight(0, 2.0, 0.25, None)) == 2.0


def test_sequential_kl_by_hand():
    """DRAW's latent loss: sum over steps of each step's KL, worked by hand for T = 2, D = 2.

    Step 1: m = (1, 0), log_var = (0, 0):       1/2 (1 - 1 - 0 + 1) + 0 = 0.5
    Step 2: m = (0, 0), log_var = (ln 2, 0):    1/2 (2 - 1 - ln 2) + 0 = 0.5 - ln(2) / 2
    """
    means = tf.constant([[[1.0, 0.0], [0.0, 0.0]]])
    log_vars = tf.constant([[[0.0, 0.0], [math.log(2.0), 0.0]]])
    np.testing.assert_allclose(latent.sequential_kl(means, log_vars).numpy(), [1.0 - math.log(2.0) / 2], rtol=1e-6)


def test_sequential_kl_is_zero_when_every_step_is_the_prior():
    """q = N(0, I) at each of T = 3 steps of a 10-D z costs 0 nats. Subtracting the 1/2 once per step
    instead of once per dimension (the ericjang/draw KL) leaves 3 * (10 - 1) / 2 = 13.5 nats."""
    zeros = tf.zeros([2, 3, 10])
    np.testing.assert_allclose(latent.sequential_kl(zeros, zeros).numpy(), [0.0, 0.0], atol=1e-7)
    # And a non-trivial 10-D step equals the sum of its dimensions' one-dimensional KLs.
    rng = np.random.default_rng(0)
    m, lv = rng.normal(size=(1, 1, 10)), rng.normal(size=(1, 1, 10))
    one_d = sum(0.5 * (math.exp(lv[0, 0, j]) - 1 - lv[0, 0, j] + m[0, 0, j] ** 2) for j in range(10))
    np.testing.assert_allclose(latent.sequential_kl(tf.constant(m), tf.constant(lv)).numpy(), [one_d], rtol=1e-5)


def test_log_importance_weight_by_hand():
    """log w = log p(x|c) + log N(c; 0, 1) - log N(c; m, v), for c = 1, m = 0.5, v = e^0 = 1 (one 1-D code):
    log N(1; 0, 1) - log N(1; 0.5, 1) = -1/2 + 1/8 = -0.375; with log p(x|c) = -2: -2.375."""
    got = latent.log_importance_weight(
        tf.constant([-2.0]), tf.constant([[1.0]]), tf.constant([[0.5]]), tf.zeros([1, 1])
    )
    np.testing.assert_allclose(got.numpy(), [-2.375], rtol=1e-6)
    # A sequential code [B, T, D]: the log-density ratios add up over steps and dimensions.
    codes = tf.constant([[[1.0, 0.0], [2.0, -1.0]]])
    means = tf.constant([[[0.5, 0.0], [0.0, 0.0]]])
    log_vars = tf.constant([[[0.0, 0.0], [math.log(4.0), 0.0]]])
    # Step 2, dim 1: log N(2; 0, 1) - log N(2; 0, 4) = (-2 - ln(2pi)/2) - (-1/2 - ln(2pi)/2 - ln 2) = -1.5 + ln 2.
    want = -2.0 - 0.375 + 0.0 + (-1.5 + math.log(2.0)) + 0.0
    got = latent.log_importance_weight(tf.constant([-2.0]), codes, means, log_vars)
    np.testing.assert_allclose(got.numpy(), [want], rtol=1e-6)
