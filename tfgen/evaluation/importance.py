"""Importance-weighted log-likelihood estimates of latent-variable models.

log p(x) >= L_k = E[log (1/k) sum_i p(x, c_i) / q(c_i | x)], c_i ~ q(c | x)
(Burda et al. 2016): L_1 is the ELBO, L_k never decreases with k and tends to
log p(x). Evaluating with k = 5000 costs 5000 decoder passes per example, so
the k samples are drawn in chunks inside one compiled loop, keeping a running
logsumexp of the log weights (memory is chunk x batch, not k x batch).

Any `tfgen.models.base.PosteriorModel` can be evaluated (the image VAE, the
sentence VAE, DRAW): it draws its own codes from standard normal noise and
weighs them, so a sequential posterior (DRAW's, where each step's q depends
on the earlier draws) needs no special case here:

    context = model.encode_for_likelihood(batch)
    log_w = model.log_importance_weights(context, eps)   # eps [B, S, D] -> [B, S]

[1] Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders",
    arXiv:1509.00519.
"""

import math

import tensorflow as tf


def make_estimator(model, num_samples, chunk_size=None, seed=0):
    """A compiled function batch -> [B] importance-weighted log-likelihood (nats).

    Args:
        num_samples: k (1 gives a single-sample ELBO estimate).
        chunk_size: samples per decoder pass per example (default: all k,
            capped at 500); the last chunk is masked when it does not divide k.
        seed: the noise is stateless, a function of (seed, chunk, batch size):
            the same batch always gets the same estimate.
    """
    if num_samples < 1:
        raise ValueError(f"number of importance samples must be >= 1, got {num_samples}")
    chunk = int(min(chunk_size or 500, num_samples))
    num_chunks = math.ceil(num_samples / chunk)

    @tf.function(reduce_retracing=True, autograph=False)
    def estimate(batch):
        context = model.encode_for_likelihood(batch)
        batch_size, dim = tf.shape(tf.nest.flatten(batch)[0])[0], model.importance_noise_dim()

        def body(i, running):
            eps = tf.random.stateless_normal([batch_size, chunk, dim], seed=tf.stack([seed, i]))
            log_w = tf.cast(model.log_importance_weights(context, eps), tf.float32)
            # Samples past k in the last chunk get weight zero (log weight -inf).
            index = i * chunk + tf.range(chunk)
            log_w = tf.where(index[None, :] < num_samples, log_w, -math.inf)
            return i + 1, tf.reduce_logsumexp(tf.stack([running, tf.reduce_logsumexp(log_w, axis=1)]), axis=0)

        _, log_sum = tf.while_loop(
            lambda i, _: i < num_chunks, body, (tf.constant(0), tf.fill([batch_size], -math.inf))
        )
        return log_sum - math.log(num_samples)

    return estimate


def importance_weighted_log_likelihood(model, batch, num_samples, chunk_size=None, seed=0):
    """[B] estimate of log p(x) with k = num_samples (see `make_estimator`)."""
    return make_estimator(model, num_samples, chunk_size, seed)(batch)
