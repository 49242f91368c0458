"""Loss functions, pure and tested against hand-worked values."""

from tfgen.losses.likelihood import (
    bits_per_dim,
    categorical_log_prob,
    dense_gradients,
    replica_mean,
)

__all__ = ["bits_per_dim", "categorical_log_prob", "dense_gradients", "replica_mean"]
