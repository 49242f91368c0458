"""Sentence VAE (Bowman et al. 2016): LSTMs over words with a Gaussian code."""

from tfgen.models.sentence_vae.sentence_vae_model import SentenceVAE

__all__ = ["SentenceVAE"]
