"""Variational autoencoder over index images (Bernoulli or categorical pixels)."""

from tfgen.models.vae.vae_model import VAE

__all__ = ["VAE"]
