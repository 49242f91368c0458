"""The PixelRNN paper's models: Row LSTM, Diagonal BiLSTM and PixelCNN (arXiv:1601.06759)."""

from tfgen.models.pixelrnn_paper.pixelcnn_model import PixelCNN
from tfgen.models.pixelrnn_paper.recurrent_models import DiagonalBiLSTMNetwork, RowLSTMNetwork

__all__ = ["DiagonalBiLSTMNetwork", "PixelCNN", "RowLSTMNetwork"]
