"""DRAW: the canvas recurrence, its two paths (posterior and generation), its likelihood bounds, pictures."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import batch_for
from tfgen import registry
from tfgen.data import DataSpec
from tfgen.evaluation import importance
from tfgen.losses import latent as latent_losses
from tfgen.models.draw import draw_pictures

BINARY = DataSpec("binary", (12, 10, 1), 2, np.array([[0, 0, 0], [255, 255, 255]], np.uint8))


def draw_model(spec=None, **overrides):
    keras.utils.set_random_seed(0)
    spec = spec or registry.get("draw").cls.conformance_spec()
    return registry.get("draw").build(spec, "tiny", **overrides)


def binary_batch(n=6, seed=0):
    return registry.get("draw").cls.example_batch(BINARY, n, seed)


@pytest.mark.parametrize("spec", [None, BINARY], ids=["palette", "binary"])
@pytest.mark.parametrize("read_size, write_size", [(2, 3), (0, 0)], ids=["attention", "whole_image"])
def test_generation_replays_the_posterior_pass(spec, read_size, write_size):
    """The decoder alone, fed the codes the posterior pass drew, paints the same canvas: generation and
    training share one decoder path (and `call` equals decode(encode(x)) in one pass)."""
    model = draw_model(spec, read_size=read_size, write_size=write_size)
    images = batch_for(model, 5) if spec is None else binary_batch(5)
    eps = tf.random.stateless_normal([5, model.steps, model.code_size], seed=[3, 4])
    out = model._infer(images, eps)
    replay = model.decode_logits(tf.reshape(out["codes"], [5, -1]))
    np.testing.assert_allclose(replay.numpy(), model.canvas_logits(out["canvas"]).numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        model(images).numpy(), model.decode_logits(model.encode(images)).numpy(), rtol=1e-5, atol=1e-5
    )
    # The codes are reparameterised draws from each step's q.
    np.testing.assert_allclose(
        out["codes"].numpy(), (out["means"] + tf.exp(0.5 * out["log_vars"]) * eps).numpy(), rtol=1e-5, atol=1e-6
    )


def test_the_canvas_accumulates_one_write_per_step():
    model = draw_model(BINARY)
    codes = tf.random.stateless_normal([3, model.latent_dim], seed=[1, 2])
    logits, windows = model.drawing_steps(codes=codes)
    assert logits.shape == (model.steps, 3, 12, 10, 1, 1)
    np.testing.assert_allclose(logits[-1], model.decode_logits(codes).numpy(), rtol=1e-5, atol=1e-6)
    # Each step changes the canvas (a write is never a no-op) ...
    assert all(np.abs(logits[t] - logits[t - 1]).max() > 1e-4 for t in range(1, model.steps))
    # ... and the windows recorded are the ones the writes used: one per step and image.
    assert set(windows) == {"write"} and windows["write"]["centre_x"].shape == (model.steps, 3)


@pytest.mark.parametrize("read_size", [2, 0], ids=["attention", "whole_image"])
def test_the_encoder_reads_the_error_image(read_size):
    """Step 1's posterior depends on the canvas only through the error image x - sigmoid(c_0) (the
    decoder state is still 0): changing the initial canvas must change it."""
    model = draw_model(BINARY, read_size=read_size)
    images = binary_batch(3)
    zeros = tf.zeros([3, model.steps, model.code_size])
    before = model._infer(images, zeros)["means"][:, 0].numpy()
    model.canvas_bias.assign(model.canvas_bias + 2.0)
    after = model._infer(images, zeros)["means"][:, 0].numpy()
    assert np.abs(after - before).max() > 1e-3
    canvas = tf.random.stateless_normal([1, 1, 12, 10], seed=[0, 1])
    np.testing.assert_allclose(model.expected_features(canvas).numpy(), tf.sigmoid(canvas).numpy())


def test_palette_features_and_their_expectation_under_the_canvas():
    model = draw_model()
    k = model.num_classes
    h, w, _ = model.image_shape
    table = model.embedding.embeddings.numpy()  # [K, E]
    images = batch_for(model, 2)
    features = model.pixel_features(images).numpy()  # [B, E, H, W] for one channel
    np.testing.assert_allclose(features, np.transpose(table[images.numpy()[..., 0]], [0, 3, 1, 2]), rtol=1e-6)
    canvas = tf.random.stateless_normal([2, k, h, w], seed=[5, 6])
    probs = tf.nn.softmax(tf.transpose(canvas, [0, 2, 3, 1]), axis=-1).numpy()  # [B, H, W, K]
    want = np.transpose(probs @ table, [0, 3, 1, 2])
    np.testing.assert_allclose(model.expected_features(canvas).numpy(), want, rtol=1e-5, atol=1e-6)
    # The canvas's K planes are the K logits of each pixel.
    logits = model.canvas_logits(canvas).numpy()
    np.testing.assert_array_equal(logits[:, :, :, 0, :], np.transpose(canvas.numpy(), [0, 2, 3, 1]))


def test_log_importance_weights_are_the_elbo_terms_of_the_same_draw():
    """For one code sequence per image, log w = log p(x|c) + sum_t [log p(z_t) - log q(z_t)]; its
    average over draws is the ELBO: -(reconstruction + KL) up to Monte Carlo error. A KL off by a
    constant per step or dimension (or log w missing a step) fails the second check."""
    model = draw_model(BINARY)
    images = binary_batch(4)
    samples = 4000
    eps = tf.random.stateless_normal([4, samples, model.latent_dim], seed=[7, 8])
    log_w = model.log_importance_weights(model.encode_for_likelihood(images), eps).numpy()  # [4, S]
    # The first draw, worked through `_infer` by hand.
    first = model._infer(images, tf.reshape(eps[:, 0], [4, model.steps, model.code_size]))
    log_lik = model.log_likelihood(images, model.canvas_logits(first["canvas"]))
    want = log_lik + tf.reduce_sum(
        latent_losses.standard_normal_log_prob(first["codes"])
        - latent_losses.gaussian_log_prob(first["codes"], first["means"], first["log_vars"]),
        axis=1,
    )
    np.testing.assert_allclose(log_w[:, 0], want.numpy(), rtol=1e-5)
    # E[log w] = ELBO: compare per draw with -(reconstruction + analytic KL) of the same draw.
    flat = tf.reshape(tf.repeat(images[:, None], samples, axis=1), [-1, *model.image_shape])
    rec, kl = model.elbo_terms(flat, tf.reshape(eps, [-1, model.steps, model.code_size]))
    gap = log_w.reshape(-1) + (rec + kl).numpy()  # zero mean: log p(z) - log q(z) averages to -KL
    assert abs(gap.mean()) < 4 * gap.std() / math.sqrt(gap.size) + 1e-3, (gap.mean(), gap.std())


def test_importance_weighted_bound_tightens_the_elbo():
    model = draw_model(BINARY)
    images = tf.tile(binary_batch(6), [50, 1, 1, 1])  # every image 50 times: means over 50 draws each
    negative_elbo = model.per_example_metrics(images)["negative_elbo"].numpy()
    k1 = importance.make_estimator(model, 1, seed=1)(images).numpy()
    k200 = float(tf.reduce_mean(importance.make_estimator(model, 200, chunk_size=50, seed=1)(images)))
    # One draw estimates the ELBO (with other noise than the metrics'): equal within 4 standard errors.
    difference = -k1 - negative_elbo  # paired by image
    stderr = difference.std() / math.sqrt(len(difference))
    assert abs(difference.mean()) < 4 * stderr, (difference.mean(), stderr)
    # 200 draws give a higher bound on log p(x).
    assert k200 > k1.mean() + 0.1 and k200 < 0


def test_posterior_means_are_the_codes_of_the_mean_path():
    model = draw_model(BINARY)
    images = binary_batch(3)
    zeros = tf.zeros([3, model.steps, model.code_size])
    means = model._infer(images, zeros)["means"]
    np.testing.assert_allclose(model.posterior_means(images).numpy(), tf.reshape(means, [3, -1]).numpy())
    assert model.importance_noise_dim() == model.steps * model.code_size == model.latent_dim


def test_latent_dim_is_derived_and_checked():
    model = draw_model(BINARY, steps=4, code_size=3)
    assert model.latent_dim == 12
    assert type(model).from_config(model.get_config()).latent_dim == 12
    with pytest.raises(ValueError, match="steps \\* code_size"):
        draw_model(BINARY, steps=4, code_size=3, latent_dim=10)


def test_step_strip_draws_the_windows_as_boxes():
    palette = BINARY.palette
    model = draw_model(BINARY)
    # A read window smaller than the image (the first windows both span it, and the write box is drawn last).
    kernel, bias = model.reader.to_window.get_weights()
    model.reader.to_window.set_weights([kernel, bias + np.array([0, 0, 0, np.log(0.3), 0], np.float32)])
    pictures = draw_pictures.drawing_previews(model, binary_batch(3), palette, num=3)
    scale = 80 // 12
    for name in ("drawing_samples", "drawing_reconstructions"):
        rgb = pictures[name]
        # 3 rows of T columns (one per drawing step) of 12 x 10 tiles, enlarged, with 2-pixel padding.
        assert rgb.shape == (3 * (12 * scale + 2) + 2, model.steps * (10 * scale + 2) + 2, 3), name
        assert np.any(np.all(rgb == draw_pictures.WRITE_RGB, axis=-1)), name
    assert np.any(np.all(pictures["drawing_reconstructions"] == draw_pictures.READ_RGB, axis=-1))
    plain = draw_model(BINARY, read_size=0, write_size=0)
    rgb = draw_pictures.drawing_previews(plain, binary_batch(3), palette, num=3)["drawing_samples"]
    assert not np.any(np.all(rgb == draw_pictures.WRITE_RGB, axis=-1))


def test_window_box_in_enlarged_pixels():
    # Grid of N = 3 centres at 1-based pixels 4, 6, 8 (centre 6, stride 2): pixel p spans [p - 1, p)
    # at scale 1, so the box edges are at 3.5 and 7.5, times 4.
    box = draw_pictures.window_box({"centre_x": 6.0, "centre_y": 6.0, "stride": 2.0}, 3, 4)
    assert box == (14, 14, 30, 30)


def test_step_columns():
    assert draw_pictures.step_columns(5) == [0, 1, 2, 3, 4]
    columns = draw_pictures.step_columns(64)
    assert len(columns) == 16 and columns[0] == 0 and columns[-1] == 63


def test_outline_draws_a_box_and_frames_the_image_when_larger():
    from tfgen import visualize

    rgb = visualize.outline(np.zeros((6, 8, 3), np.uint8), (1, 2, 4, 5), (9, 9, 9))
    drawn = np.all(rgb == 9, axis=-1)
    want = np.zeros((6, 8), bool)
    want[[1, 4], 2:6] = True
    want[1:5, [2, 5]] = True
    np.testing.assert_array_equal(drawn, want)
    framed = np.all(visualize.outline(np.zeros((6, 8, 3), np.uint8), (-3, -3, 20, 20), (9, 9, 9)) == 9, axis=-1)
    assert framed[0].all() and framed[-1].all() and framed[:, 0].all() and framed[:, -1].all()
    assert not framed[1:-1, 1:-1].any()


def test_kl_warmup_weighs_the_kl_of_the_first_step_by_zero():
    """With the whole run as warm-up, step 0 trains on reconstruction alone: its update differs from
    a model trained on the full -ELBO from the same weights, and both report the unweighted -ELBO."""
    images = binary_batch(8)
    updates, reported = [], []
    for warmup in (0.0, 1.0):
        model = draw_model(BINARY, kl_warmup=warmup)
        model.plan_run(100)
        model.compile(**model.make_optimizers(1e-2))
        before = [w.numpy() for w in model.trainable_weights]
        eps = model._training_noise([8, model.steps, model.code_size])
        rec, kl = model.elbo_terms(images, eps, training=True)
        logs = model.train_step(images)
        reported.append((float(logs["loss"]), float(tf.reduce_mean(rec + kl))))
        updates.append(np.concatenate([(w.numpy() - b).ravel() for w, b in zip(model.trainable_weights, before)]))
    assert np.abs(updates[0] - updates[1]).max() > 1e-4
    for logged, negative_elbo in reported:
        assert logged == pytest.approx(negative_elbo, rel=1e-5)
    with pytest.raises(ValueError, match="kl_warmup"):
        draw_model(BINARY, kl_warmup=1.5)
