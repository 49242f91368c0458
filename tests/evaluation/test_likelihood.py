"""The evaluator's split averages against an independent computation."""

import numpy as np
import tensorflow as tf

from tfgen import data as tfdata
from tfgen.evaluation import likelihood
from tfgen.training import trainer
from tfgen.training import workdir as wd


def test_split_average_equals_the_mean_of_log_prob_with_a_partial_last_batch(tmp_path):
    workdir = tmp_path / "run"
    options = dict(model="pixelrnn", config="tiny", steps=4, export=False, num_previews=0, verbose=False)
    trainer.train(trainer.TrainOptions(**options, workdir=str(workdir)))
    # 179 validation digits in batches of 64: two full batches and one of 51.
    result = likelihood.evaluate_workdir(workdir, split="validation", batch_size=64)
    model, _, _ = wd.load_model(workdir)
    images = np.stack(list(tfdata.load("digits", "validation")[0].as_numpy_iterator()))
    assert result["num_examples"] == len(images) == 179
    nll = -model.log_prob(tf.constant(images, tf.int32)).numpy().astype(np.float64)  # one batch, no padding
    np.testing.assert_allclose(result["nll_nats_per_image"], nll.mean(), rtol=1e-5)
    np.testing.assert_allclose(result["bits_per_dim"], nll.mean() / (64 * np.log(2)), rtol=1e-5)


def test_the_metrics_function_is_traced_once_for_full_and_partial_batches():
    # Traced per batch shape, validation would trace (and compile) the model twice per run.
    from tests.helpers import tiny

    images, spec = tfdata.load("digits", "validation")
    model = tiny("pixelrnn", spec)
    fn = trainer.metrics_function(model, images)
    _, count = trainer.evaluate_batches(model, images, 64, fn)
    assert count == 179  # batches of 64, 64 and 51
    assert fn.experimental_get_tracing_count() == 1
