"""Layers shared by two or more models."""

from tfgen.layers.conv_nets import ConvEncoder, ConvGenerator, leaky_relu
from tfgen.layers.lstm import SequenceLSTM, lstm_sequence, lstm_step

__all__ = ["ConvEncoder", "ConvGenerator", "SequenceLSTM", "leaky_relu", "lstm_sequence", "lstm_step"]
