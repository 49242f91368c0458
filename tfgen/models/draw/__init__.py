"""DRAW: the sequential VAE that reads and writes through attention windows."""

from tfgen.models.draw.draw_model import DRAW

__all__ = ["DRAW"]
