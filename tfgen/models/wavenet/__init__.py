"""WaveNet on mu-law audio (arXiv:1609.03499) with the queue sampler of arXiv:1611.09482."""

from tfgen.models.wavenet.wavenet_model import WaveNet

__all__ = ["WaveNet"]
