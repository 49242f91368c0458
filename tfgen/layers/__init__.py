"""Layers shared by two or more models."""

from tfgen.layers.conv_nets import ConvEncoder, ConvGenerator, leaky_relu
from tfgen.layers.diagonal_bilstm import DiagonalBiLSTM
from tfgen.layers.lstm import SequenceLSTM, lstm_sequence, lstm_step
from tfgen.layers.masked_conv import MaskedConv2D, channel_groups, conv_mask
from tfgen.layers.residual import ResidualConvBlock, ResidualRecurrentBlock
from tfgen.layers.row_lstm import RowLSTM
from tfgen.layers.skew import shift_down, skew, unskew

__all__ = [
    "ConvEncoder",
    "ConvGenerator",
    "DiagonalBiLSTM",
    "MaskedConv2D",
    "ResidualConvBlock",
    "ResidualRecurrentBlock",
    "RowLSTM",
    "SequenceLSTM",
    "channel_groups",
    "conv_mask",
    "leaky_relu",
    "lstm_sequence",
    "lstm_step",
    "shift_down",
    "skew",
    "unskew",
]
