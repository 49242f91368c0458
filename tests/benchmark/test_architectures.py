"""The architectures benchmark runs and reports what it claims, on a small shape."""

import numpy as np

from tfgen.benchmark import architectures
from tfgen.data import DataSpec


def test_architecture_rows_report_training_and_both_samplers():
    spec = DataSpec("small", (5, 6, 1), 2, np.zeros((2, 3), np.uint8))
    for name in ("pixelcnn", "row_lstm"):
        row = architectures.architecture_row(name, "tiny", spec, 100.0, train_batch=4, sample_batch=2, repeats=1)
        assert row["train_examples_per_s"] > 0 and row["train_gflops"] > 0 and row["params"] > 0
        assert row["fraction_of_matmul"] == row["train_gflops"] / 100.0
        assert row["plain_images_per_s"] > 0
        if name == "pixelcnn":
            assert row["same_samples"] is True and row["cached_images_per_s"] > 0
        else:
            assert "cached_images_per_s" not in row  # no cached sampler: the table shows "-"
