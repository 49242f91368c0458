"""Losses of latent-variable models (VAE, IWAE bound), pure functions.

Conventions (used by every latent model in tfgen):

* The encoder outputs the mean `m` and the LOG VARIANCE `log_var` of a
  diagonal Gaussian q(c|x) = N(m, diag(exp(log_var))).
* The code is drawn by reparameterisation, c = m + exp(log_var / 2) * e with
  e ~ N(0, I): exp(log_var / 2) is the standard deviation. (The lecture
  writes c = exp(sigma) * e + m, i.e. sigma = log std = log_var / 2.)
* KL(q(c|x) || N(0, I)) = 1/2 * sum_j (exp(log_var_j) - (1 + log_var_j) + m_j^2).
  The lecture's term, sum exp(sigma) - (1 + sigma) + m^2 with sigma the log
  variance, is exactly twice this: it omits the factor 1/2 (harmless for
  minimisation, but then "reconstruction + KL" is no longer a bound on
  -log p(x) in nats). `gaussian_kl` keeps the 1/2 so that
  reconstruction + KL is the negative ELBO.

[1] Kingma & Welling 2014, "Auto-Encoding Variational Bayes", arXiv:1312.6114.
[2] Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders",
    arXiv:1509.00519.
"""

import math

import tensorflow as tf

LOG_2PI = math.log(2.0 * math.pi)


def reparameterize(mean, log_var, eps):
    """c = m + exp(log_var / 2) * e; differentiable in mean and log_var."""
    return mean + tf.exp(0.5 * log_var) * eps


def gaussian_kl(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) in nats, summed over the last axis.

    Args:
        mean, log_var: [..., D].
    Returns:
        [...]: 1/2 * sum(exp(log_var) - (1 + log_var) + mean^2).
    """
    mean = tf.cast(mean, tf.float32)
    log_var = tf.cast(log_var, tf.float32)
    return 0.5 * tf.reduce_sum(tf.exp(log_var) - (1.0 + log_var) + tf.square(mean), axis=-1)


def gaussian_log_prob(x, mean, log_var):
    """log N(x; mean, diag(exp(log_var))) in nats, summed over the last axis."""
    x, mean, log_var = (tf.cast(t, tf.float32) for t in (x, mean, log_var))
    return -0.5 * tf.reduce_sum(LOG_2PI + log_var + tf.square(x - mean) * tf.exp(-log_var), axis=-1)


def standard_normal_log_prob(x):
    """log N(x; 0, I) in nats, summed over the last axis."""
    x = tf.cast(x, tf.float32)
    return -0.5 * tf.reduce_sum(LOG_2PI + tf.square(x), axis=-1)


def bernoulli_log_prob(logits, targets):
    """log p(targets) under independent Bernoullis with these logits.

    Args:
        logits: [B, ...] log-odds of a 1.
        targets: [B, ...] in {0, 1} (any dtype).
    Returns:
        [B]: summed over every non-batch position.
    """
    logits = tf.cast(logits, tf.float32)
    per_position = -tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.cast(targets, tf.float32), logits=logits)
    return tf.reduce_sum(tf.reshape(per_position, [tf.shape(per_position)[0], -1]), axis=1)


def importance_weighted_bound(log_weights, axis=-1):
    """log (1/k sum_i w_i) from log w_i = log p(x, c_i) - log q(c_i | x).

    With k = 1 this is the ELBO; it never decreases in expectation as k grows
    and tends to log p(x) [2]. Computed with logsumexp, so it is exact even
    when every w_i underflows float32 (log w ~ -100 nats for an MNIST digit).
    """
    log_weights = tf.cast(log_weights, tf.float32)
    k = tf.cast(tf.shape(log_weights)[axis], tf.float32)
    return tf.reduce_logsumexp(log_weights, axis=axis) - tf.math.log(k)


def log_importance_weight(log_likelihood, codes, mean, log_var):
    """log p(x, c) - log q(c|x) = log p(x|c) + log N(c; 0, I) - log N(c; mean, exp(log_var)).

    Args:
        log_likelihood: [...] log p(x|c) of each code.
        codes, mean, log_var: [..., D] (mean and log_var broadcast against codes).
            For a sequential code (DRAW) pass every step's part: [..., T, D]
            and the log densities are summed over the steps too.
    Returns:
        [...]: the log importance weight of each code.
    """
    codes = tf.cast(codes, tf.float32)
    mean, log_var = (tf.broadcast_to(tf.cast(t, tf.float32), tf.shape(codes)) for t in (mean, log_var))
    log_ratio = standard_normal_log_prob(codes) - gaussian_log_prob(codes, mean, log_var)
    extra_axes = codes.shape.rank - 1 - tf.cast(log_likelihood, tf.float32).shape.rank
    if extra_axes:
        log_ratio = tf.reduce_sum(log_ratio, axis=list(range(-extra_axes, 0)))
    return tf.cast(log_likelihood, tf.float32) + log_ratio


def sequential_kl(means, log_vars):
    """Sum over steps of KL(N(mean_t, exp(log_var_t)) || N(0, I)) in nats: DRAW's latent loss.

    Each step's KL is `gaussian_kl`: 1/2 per dimension of
    exp(log_var) - (1 + log_var) + mean^2, so a D-dimensional step with q = p
    costs exactly 0 (subtracting the 1/2 once per step instead of once per
    dimension would leave D/2 - 1/2 nats per step).

    Args:
        means, log_vars: [B, T, D], step t's diagonal Gaussian q(z_t | x, z_<t).
    Returns:
        [B]: summed over steps and dimensions.
    """
    return tf.reduce_sum(gaussian_kl(means, log_vars), axis=-1)


def active_units(posterior_means, threshold=0.01):
    """Number of latent dimensions the data moves: Cov_x(E_q[c_j]) > threshold [2].

    Args:
        posterior_means: [N, D] the encoder's means over a dataset.
    Returns:
        (count, per-dimension variance [D]).
    """
    means = tf.cast(posterior_means, tf.float64)
    variance = tf.math.reduce_variance(means, axis=0)
    return int(tf.reduce_sum(tf.cast(variance > threshold, tf.int32))), variance.numpy()


def kl_weight(step, beta, warmup_fraction, total_steps):
    """The KL term's weight at optimizer step `step` (0 for the first step).

    It rises linearly from 0 to `beta` over the first `warmup_fraction` of a
    run of `total_steps` steps, then stays at `beta` (Bowman et al. 2016's
    annealing, Sønderby et al. 2016's warm-up): beta * min(1, step / W) with
    W = warmup_fraction * total_steps. No warm-up (`beta` throughout) when the
    fraction is 0 or the run's length is unknown (None).
    """
    if not warmup_fraction or not total_steps:
        return tf.constant(beta, tf.float32)
    warmup_steps = max(1.0, float(warmup_fraction) * float(total_steps))
    return beta * tf.minimum(1.0, tf.cast(step, tf.float32) / warmup_steps)
