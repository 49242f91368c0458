"""Binary generated pixels for binarized data: the straight-through threshold and Bernoulli draw, and their wiring."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from export import exporter, serving
from export.litert_runtime import TFLiteModel
from tfgen import registry
from tfgen.data import DataSpec
from tfgen.models.gan.adversarial_model import straight_through_bernoulli, straight_through_sign
from tfgen.training.trainer import default_optimizers
from tfgen.training.workdir import Run

BINARY = DataSpec("binary_test", (6, 5, 1), 2, np.array([[0, 0, 0], [255, 255, 255]], np.uint8))


def binary_model(name, pixels, seed=0):
    keras.utils.set_random_seed(seed)
    spec = registry.get(name)
    model = spec.cls.from_data_spec(BINARY, **dict(spec.config("tiny").model, binary_pixels=pixels))
    model.build_for_data()
    return model


def gradient_of(fn, x, weights):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
        loss = tf.reduce_sum(y * weights)
    return y.numpy(), tape.gradient(loss, x).numpy()


def test_straight_through_sign_thresholds_forward_and_passes_the_gradient():
    x = tf.constant([-0.7, -1e-7, 0.0, 1e-7, 0.3])
    weights = tf.constant([1.0, -2.0, 3.0, -4.0, 5.0])
    y, grad = gradient_of(straight_through_sign, x, weights)
    np.testing.assert_array_equal(y, [-1, -1, 1, 1, 1])
    # The gradient of the identity: each weight, untouched by the threshold.
    np.testing.assert_array_equal(grad, weights.numpy())


def test_straight_through_bernoulli_draws_at_the_pixel_probability_and_passes_the_gradient():
    p = np.array([0.0, 0.1, 0.5, 0.9, 1.0], np.float32)
    x = tf.constant(np.tile(p * 2 - 1, (20000, 1)))
    weights = tf.constant(np.random.default_rng(0).normal(size=x.shape).astype(np.float32))
    y, grad = gradient_of(lambda v: straight_through_bernoulli(v, tf.constant([3, 4])), x, weights)
    assert set(np.unique(y)) == {-1.0, 1.0}
    white = (y == 1).mean(axis=0)
    # 20,000 draws per column: binomial s.e. at most 0.0036, so 0.015 is > 4 s.e.
    np.testing.assert_allclose(white, p, atol=0.015)
    assert white[0] == 0.0 and white[-1] == 1.0
    np.testing.assert_array_equal(grad, weights.numpy())
    again, _ = gradient_of(lambda v: straight_through_bernoulli(v, tf.constant([3, 4])), x, weights)
    other, _ = gradient_of(lambda v: straight_through_bernoulli(v, tf.constant([3, 5])), x, weights)
    np.testing.assert_array_equal(y, again)  # the seed fixes the draw
    assert not np.array_equal(y, other)


@pytest.mark.parametrize("pixels", ["threshold", "bernoulli"])
@pytest.mark.parametrize("name", ["dcgan", "gran"])
def test_binary_generator_trains_on_binary_fakes_and_still_learns(name, pixels):
    model = binary_model(name, pixels)
    model.compile(**default_optimizers(model, 1e-3))
    # What the discriminator sees in training is binary.
    seed = tf.constant([1, 2])
    fakes = model.generate_model_space(model.training_noise(8, 0), training=True, seed=seed).numpy()
    assert set(np.unique(fakes)) == {-1.0, 1.0}
    # So are the images evaluation and GAM draw.
    images = model.generate_images(16, 3)
    assert set(np.unique(images)) == {0.0, 1.0}
    served = model.generate(model.noise(16, 3)).numpy()
    if pixels == "threshold":
        np.testing.assert_array_equal(images, served)
    else:  # `generate` serves each pixel's probability, and the draws follow it
        assert len(np.unique(served)) > 2 and served.min() >= 0 and served.max() <= 1
        assert np.all(images[served == 0.0] == 0) and np.all(images[served == 1.0] == 1)
    # The generator step moves every generator weight: the gradient gets through the discrete pixels.
    before = [v.numpy().copy() for v in model.generator_variables()]
    tf.function(model.g_step)(model.noise(8, 4), tf.constant([5, 6]))
    moved = [not np.array_equal(b, v.numpy()) for b, v in zip(before, model.generator_variables())]
    assert all(moved), f"{moved.count(False)} generator variables got no gradient through the binary pixels"


@pytest.mark.parametrize("pixels", ["threshold", "bernoulli"])
def test_both_training_steps_show_the_discriminator_only_binary_images(pixels):
    model = binary_model("dcgan", pixels)
    model.compile(**default_optimizers(model, 1e-3))
    seen = []
    judge = model.discriminate

    def recording(images, **kwargs):  # the real discriminator, with its inputs kept
        seen.append(images.numpy())
        return judge(images, **kwargs)

    model.discriminate = recording
    real = model.to_model_space(tf.constant(np.random.default_rng(0).integers(0, 2, (4, 6, 5, 1)), tf.int32))
    model.d_step(real, model.noise(4, 1), tf.constant([1, 2]))
    model.g_step(model.noise(4, 2), tf.constant([3, 4]))
    assert len(seen) == 3  # real and fake in the discriminator's step, fake in the generator's
    for images in seen:
        assert set(np.unique(images)) <= {-1.0, 1.0}


def test_binary_pixels_are_refused_for_more_than_two_colours_or_an_unknown_mode():
    spec = registry.get("dcgan")
    tiny = dict(spec.config("tiny").model)
    with pytest.raises(ValueError, match="two-colour grey palette"):
        spec.cls.from_data_spec(spec.cls.conformance_spec(), **tiny, binary_pixels="bernoulli")
    with pytest.raises(ValueError, match="binary_pixels must be one of"):
        spec.cls.from_data_spec(BINARY, **tiny, binary_pixels="gumbel")


@pytest.mark.parametrize("pixels", ["threshold", "bernoulli"])
def test_binary_dcgan_export_matches_keras(tmp_path, pixels):
    model = binary_model("dcgan", pixels)
    run = Run("dcgan", "tiny", {"binary_pixels": pixels}, BINARY.name, None, BINARY, 0)
    result = exporter.export_model(model, run, tmp_path, max_batch=8, variants=("float32",))
    noise = np.random.default_rng(7).normal(size=(8, model.latent_dim)).astype(np.float32)
    want = model.generate(tf.constant(noise)).numpy()
    session = serving.ServingSession(result.saved_model)
    try:
        served = session.run("generate", {"noise": noise})["images"]
    finally:
        session.close()
    lite = TFLiteModel(result.tflite["float32"]).run("generate", noise=noise)["images"]
    if pixels == "bernoulli":  # probabilities: compared like any float output
        for got in (served, lite):
            np.testing.assert_allclose(got, want, atol=1e-4)
        return
    # Distance of each pixel's pre-threshold value from the threshold: a pixel
    # may flip between runtimes only if it sits within rounding of 0.
    margin = np.abs(model._squash(model.run_network(model.generator, noise, averaged=True)).numpy())
    for got in (served, lite):
        assert set(np.unique(got)) <= {0.0, 1.0}
        flipped = got != want
        assert np.all(margin[flipped] < 1e-4), "a pixel far from the threshold differs from Keras"
        assert flipped.mean() < 0.01
