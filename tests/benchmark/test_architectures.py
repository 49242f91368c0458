"""The architectures benchmark runs and reports what it claims, on a small shape."""

import numpy as np

from tfgen.benchmark import architectures
from tfgen.data import DataSpec


def test_architecture_rows_report_training_and_both_samplers():
    spec = DataSpec("small", (5, 6, 1), 2, np.zeros((2, 3), np.uint8))
    for name in ("pixelcnn", "row_lstm"):
        row = architectures.architecture_row(name, "tiny", spec, 100.0, train_batch=4, sample_batch=2, repeats=1)
        assert row["train_examples_per_s"] > 0 and row["train_gflops"] > 0 and row["params"] > 0
        assert 0 < row["fraction_of_matmul"] < 1  # of a (made-up) 100 GFLOP/s matmul: these are tiny models
        assert row["plain_images_per_s"] > 0
        assert row["same_samples"] is True and row["cached_images_per_s"] > 0 and row["xla_images_per_s"] > 0


def test_pixelrnn_training_flops_counted_by_hand():
    """One 4-cell LSTM layer over 30 binary pixels: per pixel, the recurrent matmul 2*4*16 = 128
    and the head 2*4*2 = 16 FLOPs (the input gates are a gather); backward doubles the forward: x3."""
    from tfgen.models.pixelrnn.pixelrnn_model import PixelRNN

    model = PixelRNN(num_classes=2, image_shape=(5, 6, 1), units=4, num_layers=1)
    assert model.training_flops_per_example() == 3 * 30 * (128 + 16)
    # A second layer adds its recurrent matmul and the projection into its gates: 2 * 128 per pixel.
    two = PixelRNN(num_classes=2, image_shape=(5, 6, 1), units=4, num_layers=2)
    assert two.training_flops_per_example() == 3 * 30 * (128 + 16 + 2 * 128)
