"""PixelRNN: the exercise's LSTM over the raster scan."""

from tfgen.models.pixelrnn.pixelrnn_model import PixelRNN

__all__ = ["PixelRNN"]
