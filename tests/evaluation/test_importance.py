"""The importance-weighted estimator against a toy model whose likelihood is exact.

Toy: c ~ N(0, 1), x | c ~ N(a c + b, s^2), so p(x) = N(b, a^2 + s^2) and the
posterior p(c | x) is Gaussian too; q(c | x) can be set to it or off it.
"""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfgen.evaluation import importance
from tfgen.losses import latent
from tfgen.models.base import GaussianCodePosterior

A, B, S = 1.5, 0.3, 0.6


class ToyModel(GaussianCodePosterior):
    latent_dim = 1

    def __init__(self, mean_shift=0.0, var_scale=1.0):
        self.mean_shift, self.var_scale = mean_shift, var_scale

    def exact_posterior(self, x):
        var = 1.0 / (1.0 + A * A / (S * S))
        return var * A * (x - B) / (S * S), tf.fill(tf.shape(x), math.log(var))

    def gaussian_posterior(self, x):
        mean, log_var = self.exact_posterior(x)
        return x, (mean + self.mean_shift)[:, None], (log_var + math.log(self.var_scale))[:, None]

    def sample_log_likelihood(self, x, codes):
        log_var = tf.fill(tf.shape(codes), 2 * math.log(S))
        return latent.gaussian_log_prob(x[:, None, None], A * codes + B, log_var)


def exact_log_prob(x):
    return -0.5 * (math.log(2 * math.pi * (A * A + S * S)) + (x - B) ** 2 / (A * A + S * S))


X = tf.constant(np.random.default_rng(0).normal(B, math.sqrt(A * A + S * S), size=400), tf.float32)


@pytest.mark.parametrize("k, chunk", [(1, None), (7, 3), (50, 50)])
def test_exact_posterior_gives_the_exact_likelihood_for_any_k(k, chunk):
    # With q = p(c | x) every weight equals p(x): the estimate is exact, whatever the noise.
    got = importance.make_estimator(ToyModel(), k, chunk)(X).numpy()
    np.testing.assert_allclose(got, exact_log_prob(X.numpy()), atol=2e-5)


def test_bound_rises_with_k_and_stays_below_the_exact_likelihood():
    """A poor q (shifted, too wide): the average bound grows with k toward log p(x) and never passes it."""
    model = ToyModel(mean_shift=0.8, var_scale=3.0)
    exact = exact_log_prob(X.numpy()).mean()
    means = {}
    for k in (1, 10, 100, 5000):
        estimates = importance.make_estimator(model, k, chunk_size=500, seed=k)(X).numpy()
        stderr = estimates.std() / math.sqrt(len(estimates))
        means[k] = estimates.mean()
        # Jensen: E[L_k] <= log p(x). Per draw an estimate can land above it; the average cannot.
        assert means[k] <= exact + 3 * stderr, (k, means[k], exact, stderr)
    assert means[1] < means[10] < means[100] <= means[5000] + 1e-3, means
    assert exact - means[1] > 0.1  # the bound is really loose at k = 1 for this q
    assert exact - means[5000] < 0.01, (exact, means[5000])  # and tight at k = 5000


def test_chunks_and_the_partial_last_chunk():
    """k = 7 in chunks of 3: the third chunk's last two samples must be ignored."""
    model, k, chunk, seed = ToyModel(mean_shift=0.5), 7, 3, 11
    got = importance.make_estimator(model, k, chunk, seed)(X[:5]).numpy()
    eps = tf.concat([tf.random.stateless_normal([5, chunk, 1], seed=[seed, i]) for i in range(3)], axis=1)[:, :k]
    log_w = model.log_importance_weights(model.encode_for_likelihood(X[:5]), eps)
    np.testing.assert_allclose(got, latent.importance_weighted_bound(log_w).numpy(), rtol=1e-6)


def test_rejects_zero_samples():
    with pytest.raises(ValueError, match="must be >= 1"):
        importance.make_estimator(ToyModel(), 0)
