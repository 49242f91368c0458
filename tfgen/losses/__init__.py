"""Loss functions, pure and tested against hand-worked values."""

from tfgen.losses.adversarial import (
    ADVERSARIAL_LOSSES,
    AdversarialLoss,
    adversarial_loss,
    gradient_penalty,
    interpolate,
    interpolation_weights,
    logistic_noise,
    mode_seeking,
    r1_penalty,
    relaxed_bernoulli_tanh,
    top_k_weights,
)
from tfgen.losses.energy import contrastive_energy, langevin_step
from tfgen.losses.likelihood import (
    bits_per_dim,
    categorical_log_prob,
    dense_gradients,
    replica_mean,
)

__all__ = [
    "ADVERSARIAL_LOSSES",
    "AdversarialLoss",
    "adversarial_loss",
    "bits_per_dim",
    "categorical_log_prob",
    "contrastive_energy",
    "dense_gradients",
    "gradient_penalty",
    "interpolate",
    "interpolation_weights",
    "langevin_step",
    "logistic_noise",
    "mode_seeking",
    "r1_penalty",
    "relaxed_bernoulli_tanh",
    "replica_mean",
    "top_k_weights",
]
