"""Deep autoencoder: a deterministic code, and why decoding new codes fails."""

from tfgen.models.autoencoder.autoencoder_model import Autoencoder

__all__ = ["Autoencoder"]
