"""The architectures benchmark runs and reports what it claims, on a small shape."""

import numpy as np

from tfgen.benchmark import architectures, autoregressive, timing
from tfgen.data import DataSpec

SMALL = DataSpec("small", (5, 6, 1), 2, np.zeros((2, 3), np.uint8))


def small_probe():
    return timing.matmul_gflops(n=512, repeats=3)


def test_architecture_rows_report_training_and_both_samplers():
    for name in ("pixelcnn", "row_lstm"):
        row = architectures.architecture_row(
            name, "tiny", SMALL, train_batch=4, sample_batch=2, repeats=1, pairs=1, probe=small_probe
        )
        assert row["train_examples_per_s"] > 0 and row["train_gflops"] > 0 and row["params"] > 0
        assert row["matmul_gflops"] > 1
        assert 0 < row["fraction_of_matmul"] < 1  # tiny models on tiny images: far below the matmul rate
        low, high = (float(v) for v in row["fraction_range"].split("-"))
        assert low <= round(row["fraction_of_matmul"], 3) <= high
        assert row["plain_images_per_s"] > 0
        assert row["same_samples"] is True and row["cached_images_per_s"] > 0 and row["xla_images_per_s"] > 0
    quick = architectures.architecture_row(
        "pixelcnn", "tiny", SMALL, train_batch=4, repeats=1, pairs=1, probe=small_probe, sampling=False
    )
    assert quick["train_examples_per_s"] > 0 and "plain_images_per_s" not in quick


def test_training_rate_against_the_matmul_rate_and_the_plain_keras_twin():
    result = autoregressive.training_rate("pixelrnn", "tiny", SMALL, 4, repeats=1, pairs=1, probe=small_probe)
    assert result["examples_per_s"] > 0 and result["plain_keras_examples_per_s"] > 0
    assert 0 < result["fraction_of_matmul"] < 1 and result["matmul_gflops"] > 1


def test_pixelrnn_training_flops_counted_by_hand():
    """One 4-cell LSTM layer over 30 binary pixels: per pixel, the recurrent matmul 2*4*16 = 128
    and the head 2*4*2 = 16 FLOPs (the input gates are a gather); backward doubles the forward: x3."""
    from tfgen.models.pixelrnn.pixelrnn_model import PixelRNN

    model = PixelRNN(num_classes=2, image_shape=(5, 6, 1), units=4, num_layers=1)
    assert model.training_flops_per_example() == 3 * 30 * (128 + 16)
    # A second layer adds its recurrent matmul and the projection into its gates: 2 * 128 per pixel.
    two = PixelRNN(num_classes=2, image_shape=(5, 6, 1), units=4, num_layers=2)
    assert two.training_flops_per_example() == 3 * 30 * (128 + 16 + 2 * 128)
