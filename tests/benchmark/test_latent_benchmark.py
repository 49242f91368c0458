"""The latent-models benchmark: rows for DRAW beside the VAE baseline, measured in the same run."""

import numpy as np

from tfgen.benchmark import latent
from tfgen.data import DataSpec


def test_latent_rows_put_the_vae_first_and_divide_by_it():
    spec = DataSpec("small", (7, 6, 1), 2, np.zeros((2, 3), np.uint8))
    rows = latent.latent_rows(
        [("draw", "tiny"), ("vae", "tiny")], spec, baseline_config="tiny", train_batch=4, sample_batch=2, repeats=1
    )
    assert [(r["model"], r["config"]) for r in rows] == [("vae", "tiny"), ("draw", "tiny")]  # no duplicate row
    vae, draw = rows
    assert vae["train_vs_vae"] == 1.0 and vae["sample_vs_vae"] == 1.0
    for row in rows:
        assert row["train_examples_per_s"] > 0 and row["sample_images_per_s"] > 0 and row["params"] > 0
    np.testing.assert_allclose(draw["train_vs_vae"], draw["train_examples_per_s"] / vae["train_examples_per_s"])
    np.testing.assert_allclose(draw["sample_vs_vae"], draw["sample_images_per_s"] / vae["sample_images_per_s"])
    assert draw["xla"] is False  # the tiny config does not ask for XLA; `default` does
