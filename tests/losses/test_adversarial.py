"""Adversarial and energy losses against values worked out by hand."""

import math

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from tfgen import losses
from tfgen.losses import adversarial as adv

LN3 = math.log(3.0)


def close(got, want, rtol=1e-6):
    np.testing.assert_allclose(np.asarray(got), want, rtol=rtol, atol=1e-7)


def test_minimax_and_non_saturating_by_hand():
    # sigmoid(ln 3) = 3/4 and sigmoid(-ln 3) = 1/4; sigmoid(0) = 1/2.
    real, fake = tf.constant([LN3, 0.0]), tf.constant([-LN3, 0.0])
    # -log(3/4) - log(1 - 1/4) = 2 ln(4/3); at 0: -log(1/2) - log(1/2) = 2 ln 2.
    close(adv.minimax_d(real, fake), [2 * math.log(4 / 3), 2 * math.log(2)])
    # log(1 - 1/4) = ln(3/4): saturating, tends to 0 (no gradient) as D(G(z)) -> 0.
    close(adv.minimax_g(fake), [math.log(3 / 4), math.log(1 / 2)])
    # -log(1/4) = ln 4.
    close(adv.non_saturating_g(fake), [math.log(4), math.log(2)])


def test_logistic_losses_do_not_overflow():
    big = tf.constant([1e4, -1e4])
    for value in (adv.minimax_d(big, -big), adv.minimax_g(big), adv.non_saturating_g(big)):
        assert np.all(np.isfinite(value.numpy()))
    close(adv.minimax_d(big, -big), [0.0, 2e4])


def test_least_squares_by_hand():
    # 1/2 (3 - 1)^2 + 1/2 (-2)^2 = 4; 1/2 (1 - 1)^2 + 1/2 0^2 = 0.
    close(adv.least_squares_d(tf.constant([3.0, 1.0]), tf.constant([-2.0, 0.0])), [4.0, 0.0])
    close(adv.least_squares_g(tf.constant([-2.0, 1.0])), [4.5, 0.0])


def test_wasserstein_by_hand():
    close(adv.wasserstein_d(tf.constant([3.0, 0.5]), tf.constant([-2.0, 1.5])), [-5.0, 1.0])
    close(adv.wasserstein_g(tf.constant([-2.0, 1.5])), [2.0, -1.5])


def test_hinge_by_hand():
    # max(0, 1 - 0.5) + max(0, 1 - 3) = 0.5; max(0, 1 - 2) + max(0, 1 + 0.25) = 1.25.
    close(adv.hinge_d(tf.constant([0.5, 2.0]), tf.constant([-3.0, 0.25])), [0.5, 1.25])
    close(adv.hinge_g(tf.constant([0.25, -3.0])), [-0.25, 3.0])


def test_interpolate_by_hand():
    real = tf.constant([[1.0, 1.0], [2.0, 2.0]])
    fake = tf.constant([[0.0, 0.0], [4.0, 4.0]])
    # 0.25 * 1 + 0.75 * 0 = 0.25; 0.5 * 2 + 0.5 * 4 = 3: one weight per example, not per value.
    close(adv.interpolate(real, fake, tf.constant([0.25, 0.5])), [[0.25, 0.25], [3.0, 3.0]])
    images = tf.ones([2, 3, 4, 1])
    close(adv.interpolate(images, 0 * images, tf.constant([0.1, 0.9]))[:, 1, 2, 0], [0.1, 0.9])


def test_gradient_penalty_by_hand():
    # norms 5, 1 and 0 -> (5 - 1)^2 = 16, 0, (0 - 1)^2 = 1; over every non-batch axis.
    grads = tf.constant([[[3.0], [4.0]], [[0.6], [0.8]], [[0.0], [0.0]]])
    close(adv.gradient_penalty(grads), [16.0, 0.0, 1.0], rtol=1e-5)


def test_gradient_penalty_of_a_linear_critic_through_a_tape():
    # D(x) = w . x with ||w|| = 2 has gradient w everywhere: penalty (2 - 1)^2 = 1 for any x_hat.
    w = tf.constant([[1.2], [1.6]])
    real, fake = tf.constant([[1.0, 0.0], [3.0, -1.0]]), tf.constant([[0.0, 5.0], [2.0, 2.0]])
    x_hat = adv.interpolate(real, fake, adv.interpolation_weights(2, seed=[1, 2]))
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        out = tf.matmul(x_hat, w)
    close(adv.gradient_penalty(tape.gradient(out, x_hat)), [1.0, 1.0], rtol=1e-5)


def test_interpolation_weights_are_uniform_per_example():
    eps = adv.interpolation_weights(20000, seed=[3, 4]).numpy()
    assert eps.shape == (20000,)
    # A normal draw would put about a third of the weights outside [0, 1].
    assert eps.min() >= 0.0 and eps.max() <= 1.0
    assert stats.kstest(eps, "uniform").pvalue > 1e-3
    assert not np.array_equal(eps, adv.interpolation_weights(20000, seed=[3, 5]).numpy())


def test_every_loss_is_registered_with_its_generator_loss():
    assert set(losses.ADVERSARIAL_LOSSES) == {"minimax", "non_saturating", "least_squares", "wasserstein", "hinge"}
    assert losses.adversarial_loss("wasserstein").gradient_penalty == 10.0
    assert losses.adversarial_loss("least_squares").threshold == 0.5
    with pytest.raises(ValueError, match="choose one of"):
        losses.adversarial_loss("wgan")


def test_contrastive_energy_by_hand():
    # 1 - 3 + 0.1 (1 + 9) = -1; -2 - 0.5 + 0.1 (4 + 0.25) = -2.075.
    got = losses.contrastive_energy(tf.constant([1.0, -2.0]), tf.constant([3.0, 0.5]), 0.1)
    close(got, [-1.0, -2.075], rtol=1e-5)


def test_langevin_step_by_hand():
    x = tf.constant([0.5, -0.9, 0.9])
    grad = tf.constant([1.0, -1.0, -2.0])
    noise = tf.constant([1.0, 0.0, 10.0])
    # 0.5 - 0.1 + 0.01 = 0.41; -0.9 + 0.1 = -0.8; 0.9 + 0.2 + 0.1 = 1.2, clipped to 1.
    close(losses.langevin_step(x, grad, 0.1, noise, 0.01), [0.41, -0.8, 1.0], rtol=1e-5)


def test_r1_penalty_by_hand():
    grads = tf.constant([[[1.0, 2.0], [0.0, -2.0]], [[0.0, 0.0], [0.0, 3.0]]])[..., None]
    # 1/2 (1 + 4 + 0 + 4) and 1/2 * 9.
    close(losses.r1_penalty(grads), [4.5, 4.5])


def test_r1_penalty_of_a_linear_critic_through_a_tape():
    # D(x) = sum(w * x): grad = w everywhere, so R1 = 1/2 ||w||^2 for every example.
    w = tf.constant([[1.0, -2.0], [0.5, 3.0]])
    x = tf.constant(np.random.default_rng(0).normal(size=(3, 2, 2)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = tf.reduce_sum(w * x, axis=[1, 2])
    close(losses.r1_penalty(tape.gradient(out, x)), [0.5 * 14.25] * 3)


def test_logistic_noise_is_logistic_and_follows_the_seed():
    draw = losses.logistic_noise([100_000], tf.constant([1, 2])).numpy()
    assert np.isfinite(draw).all()
    # Logistic(0, 1): its CDF is the sigmoid.
    assert stats.kstest(draw, stats.logistic.cdf).pvalue > 1e-3
    np.testing.assert_array_equal(draw, losses.logistic_noise([100_000], tf.constant([1, 2])).numpy())
    assert not np.array_equal(draw, losses.logistic_noise([100_000], tf.constant([1, 3])).numpy())


def test_relaxed_bernoulli_limits_and_probability():
    x = tf.constant([-1.5, -0.2, 0.0, 0.7, 2.0])
    # Temperature 1 without noise: the continuous generator's tanh.
    close(losses.relaxed_bernoulli_tanh(x, tf.zeros(5), 1.0), np.tanh(x.numpy()), rtol=1e-6)
    # A cold draw is the sign of 2x + L.
    noise = tf.constant([2.0, 0.1, -0.3, -1.0, -5.0])
    cold = losses.relaxed_bernoulli_tanh(x, noise, 1e-4).numpy()
    np.testing.assert_array_equal(cold, np.sign(2 * x.numpy() + noise.numpy()))
    # P(draw > 0) = sigmoid(2x) = (tanh(x) + 1) / 2 at any temperature.
    n = 200_000
    big_x = tf.repeat(x, n)
    draws = losses.relaxed_bernoulli_tanh(big_x, losses.logistic_noise([5 * n], tf.constant([0, 7])), 0.5).numpy()
    frequency = (draws.reshape(5, n) > 0).mean(axis=1)
    np.testing.assert_allclose(frequency, (np.tanh(x.numpy()) + 1) / 2, atol=0.005)  # 4+ standard errors


def test_mode_seeking_by_hand():
    images = tf.constant([[[0.0, 0.0]], [[1.0, -1.0]], [[0.5, 0.5]], [[0.5, 0.5]], [[9.0, 9.0]]])
    noise = tf.constant([[0.0, 0.0], [2.0, 2.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    # Pair (0, 1): d_images = 1, d_noise = 2 -> 1 / 0.5 = 2. Pair (2, 3): equal images for different
    # noise -> 1 / epsilon. Row 4 has no partner.
    close(losses.mode_seeking(images, noise, epsilon=0.01), [1 / 0.51, 1 / 0.51, 100.0, 100.0, 0.0])


def test_mode_seeking_falls_as_a_generator_spreads_its_images():
    noise = tf.constant(np.random.default_rng(0).normal(size=(8, 4)), tf.float32)
    spread = tf.reduce_mean(losses.mode_seeking(3.0 * noise, noise))
    narrow = tf.reduce_mean(losses.mode_seeking(0.1 * noise, noise))
    close(spread, 1 / (3 + 1e-5))
    assert narrow > 25 * spread


def test_top_k_weights_by_hand():
    scores = tf.constant([0.5, -2.0, 3.0, 0.5, 1.0])
    # fraction 0.4 of 5 rows keeps k = 2: rows 2 (3.0) and 4 (1.0), each weighing 5 / 2.
    close(losses.top_k_weights(scores, 0.4), [0.0, 0.0, 2.5, 0.0, 2.5])
    # k = round(0.6 * 5) = 3: the tie at 0.5 goes to the earlier row (0, not 3).
    close(losses.top_k_weights(scores, 0.6), [5 / 3, 0.0, 5 / 3, 0.0, 5 / 3])
    # Every row at fraction 1; at least one row however small the fraction.
    close(losses.top_k_weights(scores, 1.0), [1.0] * 5)
    close(losses.top_k_weights(scores, 0.01), [0.0, 0.0, 5.0, 0.0, 0.0])


def test_top_k_weights_average_the_kept_losses_and_pass_no_gradient():
    scores = tf.Variable([2.0, -1.0, 0.0, 4.0])
    per_example = tf.constant([1.0, 10.0, 100.0, 1000.0])
    with tf.GradientTape() as tape:
        weights = losses.top_k_weights(scores, 0.5)
    close(tf.reduce_mean(weights * per_example), (1.0 + 1000.0) / 2)
    assert tape.gradient(weights, scores) is None
