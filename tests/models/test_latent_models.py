"""The autoencoder and the VAE: reparameterisation, trackers, likelihoods, pictures, Bernoulli export."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import assert_matches, expected, fake_run, requests_for, tiny
from tfgen import registry, visualize
from tfgen.data import DataSpec
from tfgen.evaluation import importance
from tfgen.export import exporter, serving
from tfgen.export.litert_runtime import TFLiteModel
from tfgen.losses import latent as latent_losses
from tfgen.models import latent_pictures
from tfgen.training.trainer import default_optimizers

BINARY = DataSpec("binary", (28, 28, 1), 2, np.array([[0, 0, 0], [255, 255, 255]], np.uint8))


def built(name, spec=None, **overrides):
    """The tiny config with some constructor arguments changed."""
    model = registry.get(name).build(spec or registry.get(name).cls.conformance_spec(), "tiny", **overrides)
    return model


def compiled(name, spec=None, **overrides):
    model = built(name, spec, **overrides)
    model.compile(**default_optimizers(model, registry.get(name).config("tiny").learning_rate))
    return model


def batch_of(model, n=8, seed=0):
    cls = type(model)
    spec = DataSpec("x", model.image_shape, model.num_classes, np.zeros((model.num_classes, 3), np.uint8))
    return cls.example_batch(spec, n, seed)


def test_gradients_reach_the_encoder_through_the_reparameterisation():
    model = tiny("vae")
    images = batch_of(model)
    eps = tf.random.stateless_normal([8, model.latent_dim], seed=[1, 1])
    encoder_weights = model.encoder.trainable_weights + model.to_posterior.trainable_weights
    with tf.GradientTape(persistent=True) as tape:
        mean, log_var = model.posterior(images)
        codes = latent_losses.reparameterize(mean, log_var, eps)
        reconstruction = tf.reduce_mean(-model.log_likelihood(images, model.decode_logits(codes)))
        blocked = tf.reduce_mean(-model.log_likelihood(images, model.decode_logits(tf.stop_gradient(codes))))
    grads = tape.gradient(reconstruction, encoder_weights)
    assert all(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)
    # The reconstruction term reaches the encoder only through the sampled code.
    assert all(g is None for g in tape.gradient(blocked, encoder_weights))
    # Both halves of q: the mean and the log variance get gradients from reconstruction alone.
    d_mean, d_log_var = tape.gradient(reconstruction, [mean, log_var])
    assert float(tf.reduce_max(tf.abs(d_mean))) > 0 and float(tf.reduce_max(tf.abs(d_log_var))) > 0


def test_train_step_reports_total_reconstruction_and_kl_separately():
    model = compiled("vae", beta=4.0)
    out = tf.function(model.train_step, autograph=False)(batch_of(model))
    assert set(out) == {"loss", "reconstruction", "kl"}
    assert float(out["kl"]) > 0 and float(out["reconstruction"]) > 0
    np.testing.assert_allclose(float(out["loss"]), float(out["reconstruction"]) + 4.0 * float(out["kl"]), rtol=1e-5)


def test_kl_warmup_rises_linearly_to_beta_over_a_fraction_of_the_run():
    model = compiled("vae", beta=2.0, kl_warmup=0.5)
    model.plan_run(8)  # warm-up over 4 steps
    weights = []
    for _ in range(6):
        weights.append(float(model.kl_weight()))
        model.optimizer.iterations.assign_add(1)
    np.testing.assert_allclose(weights, [0.0, 0.5, 1.0, 1.5, 2.0, 2.0])


def test_per_example_metrics_add_up_and_are_reproducible():
    model = tiny("vae")
    images = batch_of(model)
    a, b = model.per_example_metrics(images), model.per_example_metrics(images)
    np.testing.assert_array_equal(a["negative_elbo"].numpy(), b["negative_elbo"].numpy())
    np.testing.assert_allclose(a["negative_elbo"], a["reconstruction"] + a["kl"], rtol=1e-6)
    np.testing.assert_allclose(a["kl"], latent_losses.gaussian_kl(*model.posterior(images)), rtol=1e-6)


def test_importance_weighting_is_no_worse_than_one_sample():
    """On the same batch, the k = 100 estimate of log p(x) is on average above the k = 1 (ELBO) one."""
    model = compiled("vae")
    images = batch_of(model, 32)
    step = tf.function(model.train_step, autograph=False)
    for _ in range(20):  # a posterior that is neither the prior nor degenerate
        step(images)
    one = importance.make_estimator(model, 1, seed=5)(images).numpy()
    many = importance.make_estimator(model, 100, chunk_size=30, seed=5)(images).numpy()
    assert many.mean() > one.mean(), (many.mean(), one.mean())
    # The k = 1 estimate is a one-sample ELBO: on average it matches -(reconstruction + KL).
    elbo = -model.per_example_metrics(images)["negative_elbo"].numpy()
    assert abs(one.mean() - elbo.mean()) < 3 * (one.std() + elbo.std()) / math.sqrt(32)


def test_bernoulli_likelihood_and_outputs():
    model = tiny("vae", BINARY)
    images = tf.constant(np.random.default_rng(0).integers(0, 2, (3, 28, 28, 1)), tf.int32)
    logits = model(images)
    assert logits.shape == (3, 28, 28, 1, 1)  # one logit per pixel
    np.testing.assert_allclose(
        model.log_likelihood(images, logits), latent_losses.bernoulli_log_prob(logits[..., 0], images), rtol=1e-6
    )
    probs = model.probabilities(logits).numpy()
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(probs[..., 1], tf.sigmoid(logits[..., 0]).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(model.most_likely(logits).numpy(), (probs[..., 1] > 0.5).astype(np.int32))


def test_categorical_likelihood_by_hand():
    model = tiny("vae")
    images = batch_of(model, 2)
    logits = model(images).numpy()
    log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    by_hand = np.take_along_axis(log_softmax, images.numpy()[..., None], -1).sum(axis=(1, 2, 3, 4))
    np.testing.assert_allclose(model.log_likelihood(images, logits).numpy(), by_hand, rtol=1e-5)


def test_autoencoder_tracks_its_code_statistics_for_sampling():
    model = compiled("autoencoder", code_momentum=0.0)  # momentum 0: the last batch's statistics
    images = batch_of(model)
    tf.function(model.train_step, autograph=False)(images)
    codes = model.encode(images).numpy()  # after the step; the step used the codes before it
    assert not np.allclose(model.code_mean.numpy(), 0.0)
    noise = tf.zeros([2, model.latent_dim])
    np.testing.assert_allclose(model.prior_codes(noise).numpy()[0], model.code_mean.numpy(), rtol=1e-6)
    assert model.code_variance.numpy().min() > 0
    assert codes.shape == (8, model.latent_dim)


@pytest.mark.parametrize("name", ["autoencoder", "vae"])
def test_interpolation_strip_starts_and_ends_with_the_images(name):
    model = tiny(name)
    images = batch_of(model, 4).numpy()
    palette = type(model).conformance_spec().palette
    strip = latent_pictures.interpolation_strips(model, images[:2], images[2:], palette, steps=5)
    decoded_start = model.render(model.decode_logits(model.encode(images[:2])), palette)
    # The strip is grid(scale s, pad 2): tile (row r, column c) starts at pad + c * (w * s + pad).
    h, w = model.image_shape[:2]
    s, pad = visualize.upscale_factor(h), 2

    def tile(r, c):
        top, left = pad + r * (h * s + pad), pad + c * (w * s + pad)
        return strip[top : top + h * s : s, left : left + w * s : s]

    for r in range(2):
        np.testing.assert_array_equal(tile(r, 0), visualize.render(images[r : r + 1], palette)[0])
        np.testing.assert_array_equal(tile(r, 1), decoded_start[r])
        np.testing.assert_array_equal(tile(r, 6), visualize.render(images[2 + r : 3 + r], palette)[0])


def test_code_grid_spans_minus_to_plus_one_and_a_half():
    model = built("vae", latent_dim=2)
    palette = type(model).conformance_spec().palette
    grid = latent_pictures.code_grid(model, palette, size=3)
    h, w = model.image_shape[:2]
    corners = {(0, 0): (-1.5, 1.5), (0, 2): (1.5, 1.5), (2, 0): (-1.5, -1.5), (1, 1): (0.0, 0.0)}
    for (r, c), code in corners.items():
        want = model.render(model.decode_logits(tf.constant([code])), palette)[0]
        np.testing.assert_array_equal(grid[r * 2 * h : (r + 1) * 2 * h : 2, c * 2 * w : (c + 1) * 2 * w : 2], want)
    with pytest.raises(ValueError, match="needs a 2-D code"):
        latent_pictures.code_grid(tiny("vae"), palette)


def test_previews_include_the_code_grid_for_two_dimensional_codes():
    model = built("autoencoder", latent_dim=2)
    spec = type(model).conformance_spec()
    pictures = model.previews(batch_of(model, 6).numpy(), spec.palette, num_samples=4)
    assert set(pictures) == {"samples", "reconstructions", "interpolations", "midpoints", "code_grid"}
    assert all(p.dtype == np.uint8 and p.ndim == 3 and p.shape[2] == 3 for p in pictures.values())
    assert "code_grid" not in tiny("autoencoder").previews(batch_of(model, 6).numpy(), spec.palette, num_samples=4)


def test_code_map_projects_wide_codes():
    rng = np.random.default_rng(0)
    two = latent_pictures.code_map(rng.normal(size=(50, 2)), "two")
    many = latent_pictures.code_map(rng.normal(size=(50, 7)), "seven")
    assert two.shape == many.shape and two.shape[2] == 3


def test_binary_vae_exports_at_mnist_size(tmp_path):
    """The MNIST shape with Bernoulli pixels through SavedModel (as served) and TFLite."""
    model = tiny("vae", BINARY)
    result = exporter.export_model(model, fake_run("vae", BINARY), tmp_path, max_batch=4, variants=("float32",))
    session = serving.ServingSession(result.saved_model)
    lite = TFLiteModel(result.tflite["float32"])
    try:
        for sig, inputs in requests_for(model, num=3).values():
            want = expected(sig, inputs)
            assert_matches(sig, session.run(sig.name, inputs), want, rtol=1e-5)
            assert_matches(sig, lite.run(sig.name, **inputs), want, rtol=1e-4)
    finally:
        session.close()
