"""Properties every registered model must have, one test each, parametrised over the registry."""

import importlib
import pkgutil

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgen.models
from tfgen import registry

NAMES = registry.names()
AUTOREGRESSIVE = [n for n in NAMES if registry.get(n).family == "autoregressive"]
# The autoregressive tests below use this spec; every family supplies its own for the generic tests.
SPEC = registry.get("pixelrnn").cls.conformance_spec()


def tiny(name, spec=None, seed=0):
    """The model's tiny config, built for its conformance spec (or `spec`)."""
    keras.utils.set_random_seed(seed)
    cls = registry.get(name).cls
    model = registry.get(name).build(spec or cls.conformance_spec(), "tiny")
    model.build_for_data()
    return model


def batch_for(model, n, seed=0):
    cls = type(model)
    return cls.example_batch(cls.conformance_spec(), n, seed)


def random_images(spec, n, seed=0):
    rng = np.random.default_rng(seed)
    return tf.constant(rng.integers(0, spec.num_classes, (n, *spec.image_shape)), tf.int32)


def test_every_model_package_is_registered():
    packages = [m.name for m in pkgutil.iter_modules(tfgen.models.__path__) if m.ispkg]
    assert packages, "no model packages found"
    registered_modules = {registry.get(n).cls.__module__ for n in NAMES}
    for package in packages:
        importlib.import_module(f"tfgen.models.{package}")
        prefix = f"tfgen.models.{package}."
        assert any(m.startswith(prefix) for m in registered_modules), (
            f"tfgen/models/{package} registers no model: decorate its class with "
            f"@registry.register and import the package in tfgen/models/__init__.py"
        )


def test_registry_rejects_models_without_tiny_config():
    with pytest.raises(ValueError, match="must define configs"):
        registry.register("x", configs={"default": registry.Config(model={})}, default_dataset="digits", family="x")


def test_unknown_model_lists_registered_names():
    with pytest.raises(KeyError, match="registered models: .*pixelrnn"):
        registry.get("pixelcnnn")


@pytest.mark.parametrize("name", NAMES)
def test_tiny_config_learns_a_fixed_batch(name):
    from tfgen.training.trainer import default_optimizers

    model = tiny(name)
    model.compile(**default_optimizers(model, registry.get(name).config("tiny").learning_rate))
    batch = batch_for(model, 8)
    step = tf.function(model.train_step)
    first = float(step(batch)[model.monitor])
    # A GAN's generator learns only through its discriminator, so adversarial
    # models ask for more steps (class attribute `conformance_steps`).
    for _ in range(getattr(model, "conformance_steps", 30)):
        for m in model.metrics:
            m.reset_state()
        last = float(step(batch)[model.monitor])
    assert np.isfinite(last)
    assert last < 0.8 * first, (model.monitor, first, last)


@pytest.mark.parametrize("name", NAMES)
def test_get_config_round_trip(name):
    model = tiny(name)
    config = model.get_config()
    clone = type(model).from_config(config)
    assert clone.get_config() == config


@pytest.mark.parametrize("name", NAMES)
def test_save_and_reload_give_identical_outputs(name, tmp_path):
    model = tiny(name)
    batch = batch_for(model, 4)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    for a, b in zip(tf.nest.flatten(model(batch)), tf.nest.flatten(loaded(batch))):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# -- autoregressive models ---------------------------------------------------


def flat_logits(model, images):
    return tf.reshape(model(images), [images.shape[0], model.num_pixels, model.num_classes]).numpy()


@pytest.mark.parametrize("name", AUTOREGRESSIVE)
def test_causality(name):
    """Logits for pixel t depend on pixels before t only, and do depend on them."""
    model = tiny(name)
    base = random_images(SPEC, 2, seed=1).numpy().reshape(2, -1)
    reference = flat_logits(model, tf.constant(base.reshape(2, *SPEC.image_shape)))
    steps = model.num_pixels
    for t in range(steps):
        changed = base.copy()
        changed[:, t:] = (changed[:, t:] + 1 + np.arange(steps - t)) % SPEC.num_classes
        logits = flat_logits(model, tf.constant(changed.reshape(2, *SPEC.image_shape)))
        np.testing.assert_allclose(
            logits[:, : t + 1],
            reference[:, : t + 1],
            atol=1e-5,
            err_msg=f"logits at or before pixel {t} changed when pixels >= {t} changed",
        )
        if t + 1 < steps:
            # The pixel just before t+1 must matter, or the model sees nothing.
            assert np.abs(logits[:, t + 1] - reference[:, t + 1]).max() > 1e-6, f"pixel {t + 1} ignores pixel {t}"


@pytest.mark.parametrize("name", AUTOREGRESSIVE)
def test_log_prob_equals_one_pixel_at_a_time(name):
    model = tiny(name)
    images = random_images(SPEC, 3, seed=2)
    parallel = model.log_prob(images).numpy()
    _, per_pixel = model._autoregress(images, tf.fill([3], model.num_pixels), model.noise(3, 0), tf.ones([3]))
    np.testing.assert_allclose(per_pixel.numpy().sum(axis=1), parallel, rtol=1e-5)
    # And the parallel number is the softmax cross-entropy of the logits, by hand.
    logits = flat_logits(model, images)
    log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    by_hand = np.take_along_axis(log_softmax, images.numpy().reshape(3, -1, 1), -1).sum(axis=(1, 2))
    np.testing.assert_allclose(parallel, by_hand, rtol=1e-5)


@pytest.mark.parametrize("name", AUTOREGRESSIVE)
def test_sampling_is_deterministic_given_noise(name):
    model = tiny(name)
    sample = tf.function(model.sample)
    a = sample(model.noise(6, 7), tf.ones([6])).numpy()
    b = sample(model.noise(6, 7), tf.ones([6])).numpy()
    c = sample(model.noise(6, 8), tf.ones([6])).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.dtype == np.int32 and a.shape == (6, *SPEC.image_shape)
    assert a.min() >= 0 and a.max() < SPEC.num_classes


@pytest.mark.parametrize("name", AUTOREGRESSIVE)
def test_fast_sampler_equals_naive_sampler(name):
    model = tiny(name)
    noise, temps = model.noise(4, 3), tf.fill([4], 0.7)
    np.testing.assert_array_equal(
        tf.function(model.sample)(noise, temps).numpy(), tf.function(model.sample_naive)(noise, temps).numpy()
    )


@pytest.mark.parametrize("name", AUTOREGRESSIVE)
def test_completion_keeps_known_pixels(name):
    model = tiny(name)
    images = random_images(SPEC, 4, seed=3)
    num_known = tf.constant([0, 3, 6, 12])
    out = tf.function(model.complete)(images, num_known, model.noise(4, 0), tf.ones([4])).numpy()
    flat_in, flat_out = images.numpy().reshape(4, -1), out.reshape(4, -1)
    for b, k in enumerate(num_known.numpy()):
        np.testing.assert_array_equal(flat_out[b, :k], flat_in[b, :k])
    assert not np.array_equal(flat_out[0], flat_in[0])  # unknown pixels are really sampled


def test_sampler_draws_from_the_model_distribution():
    """Frequencies of the first pixel over many draws match softmax(logits) at T and at 2T."""
    model = tiny("pixelrnn")
    n = 4000
    logits = flat_logits(model, tf.zeros([1, *SPEC.image_shape], tf.int32))[0, 0]
    sample = tf.function(model.sample)
    for temperature in (1.0, 2.0):
        draws = sample(model.noise(n, 11), tf.fill([n], temperature)).numpy().reshape(n, -1)[:, 0]
        p = np.exp(logits / temperature) / np.exp(logits / temperature).sum()
        freq = np.bincount(draws, minlength=SPEC.num_classes) / n
        # 4 standard errors of a binomial proportion.
        np.testing.assert_array_less(np.abs(freq - p), 4 * np.sqrt(p * (1 - p) / n) + 1e-3)
