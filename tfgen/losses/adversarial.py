"""Adversarial losses (pure functions on discriminator outputs).

Every function takes the discriminator's raw outputs ("logits": unbounded
real numbers, one per example) and returns one loss per example, so callers
can average them with `replica_mean`. Discriminator losses pair the i-th real
with the i-th fake example (equal batch sizes).

[1] Goodfellow et al. 2014, "Generative Adversarial Nets", arXiv:1406.2661
    (minimax, and the non-saturating generator loss).
[2] Mao et al. 2017, "Least Squares Generative Adversarial Networks",
    arXiv:1611.04076 (a=0, b=c=1).
[3] Gulrajani et al. 2017, "Improved Training of Wasserstein GANs",
    arXiv:1704.00028 (gradient penalty at x_hat = eps x + (1 - eps) x~ with
    eps ~ U[0, 1] per example).
[4] Lim & Ye 2017, "Geometric GAN", arXiv:1705.02894; Miyato et al. 2018
    (hinge loss).
[5] Mescheder, Geiger, Nowozin 2018, "Which Training Methods for GANs do
    actually Converge?", arXiv:1801.04406 (the R1 penalty).
[6] Maddison, Mnih, Teh 2017, arXiv:1611.00712; Jang, Gu, Poole 2017,
    arXiv:1611.01144 (the relaxed Bernoulli / Gumbel-sigmoid).
[7] Mao, Lee, Tseng, Ma, Yang 2019, "Mode Seeking Generative Adversarial
    Networks for Diverse Image Synthesis", arXiv:1903.05628.
[8] Sinha, Zhao, Goyal, Raffel, Odena 2020, "Top-k Training of GANs:
    Improving GAN Performance by Throwing Away Bad Samples", arXiv:2002.06224.
"""

import dataclasses
from collections.abc import Callable

import tensorflow as tf


def _f32(x):
    return tf.cast(x, tf.float32)


def minimax_d(real_logits, fake_logits):
    """-log D(x) - log(1 - D(G(z))) with D = sigmoid(logits)."""
    # softplus(-a) = -log sigmoid(a) and softplus(a) = -log(1 - sigmoid(a)), without overflow.
    return tf.nn.softplus(-_f32(real_logits)) + tf.nn.softplus(_f32(fake_logits))


def minimax_g(fake_logits):
    """log(1 - D(G(z))): the saturating loss of the original minimax game."""
    return -tf.nn.softplus(_f32(fake_logits))


def non_saturating_g(fake_logits):
    """-log D(G(z)): same fixed point, strong gradients while D wins [1]."""
    return tf.nn.softplus(-_f32(fake_logits))


def least_squares_d(real_logits, fake_logits):
    """1/2 (D(x) - 1)^2 + 1/2 D(G(z))^2 (targets b=1 for real, a=0 for fake)."""
    return 0.5 * tf.square(_f32(real_logits) - 1.0) + 0.5 * tf.square(_f32(fake_logits))


def least_squares_g(fake_logits):
    """1/2 (D(G(z)) - 1)^2 (the generator wants its samples scored c=1)."""
    return 0.5 * tf.square(_f32(fake_logits) - 1.0)


def wasserstein_d(real_logits, fake_logits):
    """D(G(z)) - D(x): the critic maximises the gap (add a gradient penalty)."""
    return _f32(fake_logits) - _f32(real_logits)


def wasserstein_g(fake_logits):
    """-D(G(z))."""
    return -_f32(fake_logits)


def hinge_d(real_logits, fake_logits):
    """max(0, 1 - D(x)) + max(0, 1 + D(G(z)))."""
    return tf.nn.relu(1.0 - _f32(real_logits)) + tf.nn.relu(1.0 + _f32(fake_logits))


def hinge_g(fake_logits):
    """-D(G(z))."""
    return -_f32(fake_logits)


def interpolation_weights(batch_size, seed):
    """eps ~ U[0, 1], one per example, for the gradient penalty [3].

    A normal draw (as in one widely copied example) puts points far outside
    the segment between a real and a fake example, where the 1-Lipschitz
    constraint is not meant to be enforced.
    """
    return tf.random.stateless_uniform([batch_size], seed=seed, minval=0.0, maxval=1.0)


def interpolate(real, fake, epsilon):
    """eps * real + (1 - eps) * fake, with eps [B] broadcast over each example."""
    real, fake = _f32(real), _f32(fake)
    eps = tf.reshape(_f32(epsilon), [-1] + [1] * (len(real.shape) - 1))
    return eps * real + (1.0 - eps) * fake


def gradient_penalty(gradients):
    """(||grad||_2 - 1)^2 per example, the norm over every non-batch axis [3]."""
    g = _f32(gradients)
    flat = tf.reshape(g, [tf.shape(g)[0], -1])
    # The epsilon keeps the gradient of the norm finite where grad == 0.
    norm = tf.sqrt(tf.reduce_sum(tf.square(flat), axis=1) + 1e-12)
    return tf.square(norm - 1.0)


def r1_penalty(gradients):
    """1/2 ||grad_x D(x)||^2 per example at real x [5]; the caller weighs it by gamma."""
    g = _f32(gradients)
    return 0.5 * tf.reduce_sum(tf.square(tf.reshape(g, [tf.shape(g)[0], -1])), axis=1)


def logistic_noise(shape, seed):
    """log U - log(1 - U), U ~ U(0, 1): the difference of two Gumbels, for a relaxed Bernoulli [6]."""
    # minval keeps log(0) out; the largest float32 below 1 keeps log(1 - U) finite.
    u = tf.random.stateless_uniform(shape, seed=seed, minval=1e-7, maxval=1.0 - 6e-8)
    return tf.math.log(u) - tf.math.log1p(-u)


def relaxed_bernoulli_tanh(x, noise, temperature):
    """A relaxed Bernoulli draw in [-1, 1] whose probability of being near 1 is sigmoid(2 x) = (tanh(x) + 1) / 2.

    2 sigmoid((2 x + L) / t) - 1 = tanh((2 x + L) / (2 t)) with L logistic noise [6]: at t = 1 and
    L = 0 it is tanh(x), the continuous generator's output; as t -> 0 it tends to sign(2 x + L), a
    Bernoulli draw with p = sigmoid(2 x) mapped to -1 / 1.
    """
    return tf.tanh((2.0 * _f32(x) + _f32(noise)) / (2.0 * _f32(temperature)))


def mode_seeking(images, noise, epsilon=1e-5):
    """The mode-seeking penalty [7] per example: 1 / (d_images / d_noise + epsilon) for row pairs (0, 1), (2, 3), ...

    d is the mean absolute difference within a pair (over pixels for `images` [B, ...], over
    dimensions for `noise` [B, latent]). The penalty falls as a generator maps different noise to
    images further apart, so it pushes against a generator that draws one image for a region of
    noise. Both rows of a pair carry the pair's value; an odd last row carries 0. Neighbouring rows
    are paired so that a replica's rows (a contiguous part of an even batch) pair as a single
    process's do.
    """
    images, noise = _f32(images), _f32(noise)
    rows = tf.shape(images)[0]
    pairs = rows // 2

    def pair_distance(x):
        x = tf.reshape(x[: 2 * pairs], [pairs, 2, -1])
        return tf.reduce_mean(tf.abs(x[:, 0] - x[:, 1]), axis=-1)

    per_pair = 1.0 / (pair_distance(images) / pair_distance(noise) + epsilon)
    return tf.concat([tf.repeat(per_pair, 2), tf.zeros([rows - 2 * pairs])], axis=0)


def top_k_weights(scores, fraction):
    """Weights [B] that keep a generator's loss on its best fakes only (top-k training [8]).

    The k = max(1, round(fraction * B)) rows with the highest critic `scores` (the fakes it finds most
    real) weigh B / k and the rest 0, so the mean of weights * loss is the mean loss over those k. A
    fake the critic already rejects gives a gradient that points at no real image; leaving it out is
    [8]'s remedy for samples off the data. Ties go to the earlier row. No gradient flows through
    the choice.
    """
    scores = tf.stop_gradient(_f32(scores))
    rows = tf.shape(scores)[0]
    k = tf.maximum(1, tf.cast(tf.round(fraction * tf.cast(rows, tf.float32)), tf.int32))
    order = tf.argsort(-scores, stable=True)
    rank = tf.argsort(order, stable=True)  # rank[i]: row i's place, best first
    return tf.cast(rank < k, tf.float32) * (tf.cast(rows, tf.float32) / tf.cast(k, tf.float32))


def logistic_score(logits):
    return tf.sigmoid(_f32(logits))


def identity_score(logits):
    return _f32(logits)


@dataclasses.dataclass(frozen=True)
class AdversarialLoss:
    """A discriminator loss with its generator loss.

    Attributes:
        d: (real_logits [B], fake_logits [B]) -> [B].
        g: fake_logits [B] -> [B].
        score: logits -> what to report as "D(x)" (a probability for the
            logistic losses, the raw output otherwise).
        threshold: outputs at or above it classify an example as real (for
            GAM error rates); None when the scale carries no such meaning (a
            Wasserstein critic), and a threshold must be calibrated.
        gradient_penalty: default weight of the gradient penalty.
    """

    d: Callable
    g: Callable
    score: Callable
    threshold: float | None
    gradient_penalty: float = 0.0


ADVERSARIAL_LOSSES = {
    "minimax": AdversarialLoss(minimax_d, minimax_g, logistic_score, 0.0),
    "non_saturating": AdversarialLoss(minimax_d, non_saturating_g, logistic_score, 0.0),
    "least_squares": AdversarialLoss(least_squares_d, least_squares_g, identity_score, 0.5),
    "wasserstein": AdversarialLoss(wasserstein_d, wasserstein_g, identity_score, None, gradient_penalty=10.0),
    "hinge": AdversarialLoss(hinge_d, hinge_g, identity_score, 0.0),
}


def adversarial_loss(name):
    if name not in ADVERSARIAL_LOSSES:
        raise ValueError(f"unknown adversarial loss {name!r}; choose one of {', '.join(ADVERSARIAL_LOSSES)}")
    return ADVERSARIAL_LOSSES[name]
