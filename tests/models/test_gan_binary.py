"""Binary generated pixels for binarized data: the straight-through threshold and its wiring."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import record_discriminator_inputs
from tfgen import registry
from tfgen.data import DataSpec
from tfgen.export import exporter, serving
from tfgen.export.litert_runtime import TFLiteModel
from tfgen.models.gan.adversarial_model import straight_through_sign
from tfgen.training import trainer
from tfgen.training import workdir as wd
from tfgen.training.trainer import default_optimizers
from tfgen.training.workdir import Run, config_to_json

BINARY = DataSpec("binary_test", (6, 5, 1), 2, np.array([[0, 0, 0], [255, 255, 255]], np.uint8))


def binary_model(name, seed=0):
    keras.utils.set_random_seed(seed)
    model = registry.get(name).build(BINARY, "tiny", binary_pixels="threshold")
    return model


def test_straight_through_sign_thresholds_forward_and_passes_the_gradient():
    # Values of both signs and magnitudes, including ones next to the threshold.
    x = tf.constant([-0.7, -1e-7, 0.0, 1e-7, 0.3, -1.0, 0.9999999, -3e-38])
    weights = tf.constant([1.0, -2.0, 3.0, -4.0, 5.0, -6.0, 7.0, -8.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = straight_through_sign(x)
        loss = tf.reduce_sum(y * weights)
    np.testing.assert_array_equal(y.numpy(), [-1, -1, 1, 1, 1, -1, 1, -1])
    # The gradient of the identity: each weight, untouched by the threshold.
    np.testing.assert_array_equal(tape.gradient(loss, x).numpy(), weights.numpy())


@pytest.mark.parametrize("name", ["dcgan", "gran"])
def test_binary_generator_emits_only_the_two_colours_and_still_learns(name):
    model = binary_model(name)
    model.compile(**default_optimizers(model, 1e-3))
    images = model.generate_images(16, 3)
    assert set(np.unique(images)) == {0.0, 1.0}
    fakes = model.generate_model_space(model.training_noise(8, 0), training=True).numpy()
    assert set(np.unique(fakes)) == {-1.0, 1.0}
    # The generator step moves every generator weight: the gradient gets through the threshold.
    before = [v.numpy().copy() for v in model.generator_variables()]
    tf.function(model.g_step, autograph=False)(model.noise(8, 4), tf.constant([5, 6]))
    moved = [not np.array_equal(b, v.numpy()) for b, v in zip(before, model.generator_variables())]
    assert all(moved), f"{moved.count(False)} generator variables got no gradient through the threshold"


def test_both_training_steps_show_the_discriminator_only_binary_images(monkeypatch):
    model = binary_model("dcgan")
    model.compile(**default_optimizers(model, 1e-3))
    seen = record_discriminator_inputs(model, monkeypatch)
    real = model.to_model_space(tf.constant(np.random.default_rng(0).integers(0, 2, (4, 6, 5, 1)), tf.int32))
    model.d_step(real, model.noise(4, 1), tf.constant([1, 2]))
    model.g_step(model.noise(4, 2), tf.constant([3, 4]))
    assert len(seen) == 3  # real and fake in the discriminator's step, fake in the generator's
    for images in seen:
        assert set(np.unique(images)) <= {-1.0, 1.0}


def test_binary_pixels_survive_the_config_round_trip_and_bad_settings_are_refused():
    model = binary_model("gran")
    clone = type(model).from_config(model.get_config())
    assert clone.binary_pixels == "threshold"
    spec = registry.get("dcgan")
    with pytest.raises(ValueError, match="two-colour grey palette"):
        spec.build(spec.cls.conformance_spec(), "tiny", binary_pixels="threshold")
    with pytest.raises(ValueError, match="binary_pixels must be one of"):
        spec.build(BINARY, "tiny", binary_pixels="bernoulli")


def test_binary_dcgan_exports_binary_images_that_match_keras(tmp_path):
    model = binary_model("dcgan")
    config = registry.get("dcgan").config("tiny").with_model("tiny, binary", binary_pixels="threshold")
    run = Run("dcgan", "tiny", config_to_json(config), BINARY.name, None, BINARY, 0)
    result = exporter.export_model(model, run, tmp_path, max_batch=8)
    noise = np.random.default_rng(7).normal(size=(8, model.latent_dim)).astype(np.float32)
    want = model.generate(tf.constant(noise)).numpy()
    # Distance of each pixel's pre-threshold value from the threshold: a pixel
    # may flip between runtimes only if it sits within rounding of 0.
    margin = np.abs(model._squash(model.run_network(model.generator, noise, averaged=True)).numpy())
    session = serving.ServingSession(result.saved_model)
    try:
        served = session.run("generate", {"noise": noise})["images"]
    finally:
        session.close()
    lite = TFLiteModel(result.tflite["float32"]).run("generate", noise=noise)["images"]
    for got in (served, lite):
        assert set(np.unique(got)) <= {0.0, 1.0}
        flipped = got != want
        assert np.all(margin[flipped] < 1e-4), "a pixel far from the threshold differs from Keras"
        assert flipped.mean() < 0.01
    # The reduced-precision variants may flip more pixels near the threshold, but stay binary.
    for variant in ("float16", "int8"):
        got = TFLiteModel(result.tflite[variant]).run("generate", noise=noise)["images"]
        assert set(np.unique(got)) <= {0.0, 1.0}, variant
        assert (got != want).mean() < 0.25, variant


@pytest.mark.parametrize("name", ["dcgan", "gran"])
def test_the_binarized_mnist_configs_train_on_it_by_default_and_draw_0_1_digits(name, tfds_dir, tmp_path):
    # The recipe a user reaches for on binarized MNIST: the config picks the dataset, its switches are live
    # in the training step (each reports its schedule), and the served images are exact 0/1 pixels.
    summary = trainer.train(
        trainer.TrainOptions(
            model=name,
            config="binarized_mnist",
            data_dir=str(tfds_dir),
            workdir=str(tmp_path / "run"),
            steps=2,
            judge_error=0,
            export=False,
            num_previews=0,
            quality_samples=0,  # its feature network would take a minute to train
            verbose=False,
        )
    )
    model, run, step = wd.load_model(tmp_path / "run")
    assert (run.dataset, step) == ("binarized_mnist", 2)
    assert {"gumbel_temperature", "ada_p"} <= set(summary["train"]), summary["train"]
    assert 0.1 < summary["train"]["gumbel_temperature"] < 1.0  # annealing, not at either end
    images = model.generate_images(16, 0)
    assert images.shape == (16, 28, 28, 1)
    assert set(np.unique(images)) == {0.0, 1.0}
