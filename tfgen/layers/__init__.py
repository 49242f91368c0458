"""Layers shared by two or more models."""

from tfgen.layers.lstm import SequenceLSTM, lstm_sequence, lstm_step

__all__ = ["SequenceLSTM", "lstm_sequence", "lstm_step"]
