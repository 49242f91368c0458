"""Row LSTM, Diagonal BiLSTM and PixelCNN: what the registry-wide conformance tests do not cover.

The cached samplers against the plain ones on larger images, wider kernels,
colour, 256 levels and a single row; the output heads; the paper config.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgen import registry
from tfgen.data import DataSpec
from tfgen.layers.diagonal_bilstm import DEFAULT_RUN_COLUMNS
from tfgen.models.autoregressive import AutoregressiveImageModel

PAPER_MODELS = ("row_lstm", "diagonal_bilstm", "pixelcnn")


def build(name, shape, num_classes, **overrides):
    keras.utils.set_random_seed(0)
    spec = DataSpec("test", shape, num_classes, np.zeros((num_classes, 3), np.uint8))
    model = registry.get(name).build(spec, "tiny", **overrides)
    return model, spec


CACHED_CASES = {
    "binary 7x9, 3 blocks": ((7, 9, 1), 2, dict(units=8, num_layers=3)),
    "5 values, 5x5 kernels": ((6, 5, 1), 5, dict(num_layers=3, kernel_size=5, input_kernel=5)),
    "RGB, 256 levels": ((4, 5, 3), 256, dict(num_layers=2)),
    "one row": ((1, 6, 1), 3, dict(num_layers=2)),
}


@pytest.mark.parametrize(
    "name, case",
    [
        (name, case)
        for name in PAPER_MODELS
        for case in sorted(CACHED_CASES)
        if name == "pixelcnn" or "kernel_size" not in CACHED_CASES[case][2]  # the recurrent blocks have none
    ],
)
def test_cached_sampler_equals_the_plain_sampler(name, case):
    shape, num_classes, overrides = CACHED_CASES[case]
    model, spec = build(name, shape, num_classes, **overrides)
    n = 4
    noise, temperature = model.noise(n, 5), tf.fill([n], 0.8)
    cached = tf.function(model.sample, autograph=False)(noise, temperature).numpy()
    plain = tf.function(model.sample_naive, autograph=False)(noise, temperature).numpy()
    np.testing.assert_array_equal(cached, plain)
    # Stronger than equal samples: every step's distribution, with the pixels
    # forced to a fixed random image, through both loops.
    images = tf.constant(np.random.default_rng(1).integers(0, num_classes, (n, *shape)), tf.int32)
    everything = tf.fill([n], model.num_pixels)
    plain_step = AutoregressiveImageModel._step_state.__get__(model)
    _, lp_cached = tf.function(model._autoregress, autograph=False)(images, everything, noise, temperature)
    _, lp_plain = tf.function(lambda *a: model._autoregress(*a, step=plain_step), autograph=False)(
        images, everything, noise, temperature
    )
    np.testing.assert_allclose(lp_cached.numpy(), lp_plain.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", PAPER_MODELS)
def test_cached_sampler_completes_like_the_plain_sampler(name):
    model, spec = build(name, (5, 6, 3), 4)
    images = tf.constant(np.random.default_rng(2).integers(0, 4, (3, 5, 6, 3)), tf.int32)
    num_known = tf.constant([0, 17, 61])
    noise, temperature = model.noise(3, 1), tf.ones([3])
    plain_step = AutoregressiveImageModel._step_state.__get__(model)
    cached, _ = tf.function(model._autoregress, autograph=False)(images, num_known, noise, temperature)
    plain, _ = tf.function(lambda *a: model._autoregress(*a, step=plain_step), autograph=False)(
        images, num_known, noise, temperature
    )
    np.testing.assert_array_equal(cached.numpy(), plain.numpy())


@pytest.mark.parametrize("num_classes, embedding_dim, folds", [(4, 5, True), (4, 4, True), (6, 3, False)])
def test_first_layer_folds_the_embedding_into_the_kernel_with_the_same_values_and_gradients(
    num_classes, embedding_dim, folds, monkeypatch
):
    model, _ = build("pixelcnn", (5, 6, 3), num_classes, embedding_dim=embedding_dim)
    images = tf.constant(np.random.default_rng(3).integers(0, num_classes, (3, 5, 6, 3)), tf.int32)
    weights = tf.constant(np.random.default_rng(4).normal(size=(3, 5, 6, model.input_conv.filters)), tf.float32)
    variables = [model.embeddings, model.input_conv.kernel, model.input_conv.bias]

    def values_and_gradients(first_layer):
        with tf.GradientTape() as tape:
            y = first_layer()
            loss = tf.reduce_sum(y * weights)
        return [y] + tape.gradient(loss, variables)

    expected = values_and_gradients(lambda: model.input_conv(model.embed(images)))
    if folds:  # the folded path must not embed the image at all
        monkeypatch.setattr(model, "embed", lambda images: pytest.fail("embedded instead of folding"))
    got = values_and_gradients(lambda: model.first_layer(images))
    for want, have in zip(expected, got):
        np.testing.assert_allclose(tf.convert_to_tensor(have), tf.convert_to_tensor(want), rtol=1e-5, atol=1e-5)
    # Not equal by accident: the embedding's gradient is there and a wrong group in the fold moves the values.
    assert np.abs(tf.convert_to_tensor(expected[1]).numpy()).max() > 1e-3


@pytest.mark.parametrize("name", PAPER_MODELS)
def test_binary_head_is_one_bernoulli_logit_per_channel(name):
    model, _ = build(name, (3, 4, 1), 2)
    assert model.logits_conv.filters == 1
    images = tf.constant(np.random.default_rng(0).integers(0, 2, (2, 3, 4, 1)), tf.int32)
    logits = model(images).numpy()
    assert logits.shape == (2, 3, 4, 1, 2)
    np.testing.assert_array_equal(logits[..., 0], 0.0)
    # log p(x) is the Bernoulli log-likelihood of sigmoid(z).
    z, x = logits[..., 1], images.numpy()
    bernoulli = np.where(x == 1, -np.log1p(np.exp(-z)), -np.log1p(np.exp(z))).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(model.log_prob(images).numpy(), bernoulli, rtol=1e-5)


@pytest.mark.parametrize("name", PAPER_MODELS)
def test_palette_and_rgb_heads(name):
    palette, _ = build(name, (3, 4, 1), 167)
    assert palette.logits_conv.filters == 167 and palette(tf.zeros([1, 3, 4, 1], tf.int32)).shape == (1, 3, 4, 1, 167)
    rgb, _ = build(name, (3, 4, 3), 256)
    assert rgb.logits_conv.filters == 3 * 256
    images = tf.constant(np.random.default_rng(0).integers(0, 256, (2, 3, 4, 3)), tf.int32)
    # An untrained model is near uniform: about log(256) nats per channel.
    np.testing.assert_allclose(-rgb.log_prob(images).numpy() / 36, np.log(256), rtol=0.05)


def test_serving_log_prob_equals_log_prob():
    for name in PAPER_MODELS:
        model, _ = build(name, (3, 4, 3), 6)
        images = tf.constant(np.random.default_rng(0).integers(0, 6, (3, 3, 4, 3)), tf.int32)
        np.testing.assert_allclose(model.serving_log_prob(images).numpy(), model.log_prob(images).numpy(), rtol=1e-6)


def test_paper_configs():
    """[1] section 5 / table 4: the binarized MNIST Diagonal BiLSTM has 7 layers of 16 units."""
    paper = registry.get("diagonal_bilstm").config("paper").model
    assert paper["num_layers"] == 7 and paper["units"] == 16
    for name in PAPER_MODELS:
        assert {"tiny", "default", "paper"} <= set(registry.get(name).configs)
        assert registry.get(name).default_dataset == "binarized_mnist"


def test_diagonal_bilstm_run_columns_reach_every_layer_and_survive_serialisation():
    """The model's run_columns is each Diagonal BiLSTM layer's: tiny configs train in one loop, the
    others in runs of columns; and a model rebuilt from its config keeps it."""
    for config, want in (("tiny", None), ("default", DEFAULT_RUN_COLUMNS)):
        assert registry.get("diagonal_bilstm").config(config).model.get("run_columns", DEFAULT_RUN_COLUMNS) == want
    tiny, _ = build("diagonal_bilstm", (5, 4, 1), 2)
    assert [b.recurrent.run_columns for b in tiny.blocks] == [None, None]
    model, _ = build("diagonal_bilstm", (5, 4, 1), 2, run_columns=3)
    rebuilt = type(model).from_config(model.get_config())
    for m in (model, rebuilt):
        assert [b.recurrent.run_columns for b in m.blocks] == [3, 3]


@pytest.mark.parametrize("name", ["row_lstm", "diagonal_bilstm"])
def test_recurrent_models_train_alike_with_their_configs_xla_step(name):
    """Their default and paper configs XLA-compile the whole train step (the recurrences are compiled
    loops of their own inside it): two steps must move the weights as the uncompiled step does."""
    for config in ("default", "paper"):
        assert registry.get(name).config(config).jit_compile, config
    images = tf.constant(np.random.default_rng(6).integers(0, 2, (4, 6, 5, 1)), tf.int32)
    weights = []
    for jit_compile in (False, True):
        model, _ = build(name, (6, 5, 1), 2)
        model.compile(**model.make_optimizers(1e-2))  # the trainer's (fused) Adam, compiled with the step
        step = tf.function(model.train_step, jit_compile=jit_compile, autograph=False)
        start = [w.numpy() for w in model.trainable_weights]
        for _ in range(2):
            step(images)
        weights.append([w.numpy() for w in model.trainable_weights])
    moved = max(float(np.abs(a - b).max()) for a, b in zip(weights[0], start))
    assert moved > 1e-3  # the steps did change the weights
    for plain, compiled in zip(*weights, strict=True):
        np.testing.assert_allclose(compiled, plain, rtol=1e-4, atol=1e-5)


def test_colour_history_marks_each_value_seen_before_the_pixel():
    model, spec = build("pixelcnn", (3, 4, 2), 5, colour_history=True)
    images = np.random.default_rng(3).integers(0, 5, (2, 3, 4, 2))
    got = model.colours_before(tf.constant(images)).numpy()
    want = np.zeros((2, 3, 4, 2 * 5), np.float32)
    for b in range(2):
        flat = images[b].reshape(12, 2)
        for p in range(12):
            for earlier in flat[:p]:
                for c, value in enumerate(earlier):
                    want[b, p // 4, p % 4, c * 5 + value] = 1
    np.testing.assert_array_equal(got, want)
    # The cached sampler grows the same rows one pixel at a time.
    canvas = tf.constant(images.reshape(2, -1))
    seen = model._history_step(tf.constant(want[:, 1, 2]), canvas, tf.constant(7), tf.constant(True))
    np.testing.assert_array_equal(seen.numpy(), want[:, 1, 3])
    assert "history_table" in {v.name for v in model.weights}
    assert build("pixelcnn", (3, 4, 2), 5, colour_history=False)[0].colours_before(tf.constant(images)) is None
