"""Energy-based model losses and the Langevin update (pure functions).

[1] Du & Mordatch 2019, "Implicit Generation and Generalization in
    Energy-Based Models", arXiv:1903.08689.
"""

import tensorflow as tf


def contrastive_energy(positive_energy, negative_energy, regularization):
    """E(x+) - E(x-) + alpha (E(x+)^2 + E(x-)^2), per example [1].

    Minimising it lowers the energy of data and raises that of the model's
    own negatives; the squared term keeps energies near zero, without which
    both drift off together and the gradients the sampler follows blow up.
    """
    pos, neg = tf.cast(positive_energy, tf.float32), tf.cast(negative_energy, tf.float32)
    return pos - neg + regularization * (tf.square(pos) + tf.square(neg))


def langevin_step(x, energy_gradient, step_size, noise, noise_scale, low=-1.0, high=1.0):
    """One step of (unadjusted) Langevin dynamics on the input, kept in [low, high].

    x <- clip(x - step_size * dE/dx + noise_scale * noise); `noise` is a
    standard normal draw passed in, so the step is deterministic given it.
    """
    moved = tf.cast(x, tf.float32) - step_size * tf.cast(energy_gradient, tf.float32) + noise_scale * noise
    return tf.clip_by_value(moved, low, high)
