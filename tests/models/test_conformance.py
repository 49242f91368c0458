"""Properties every registered model must have, one test each, parametrised over the registry."""

import inspect
import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgen.models
from tests.helpers import STOCHASTIC_TRAINING, TRAIN_STEP_MODELS, batch_for, tiny
from tfgen import registry
from tfgen.data import DataSpec
from tfgen.models.base import GenerativeModel

NAMES = registry.names()
AUTOREGRESSIVE = [n for n in NAMES if registry.get(n).family == "autoregressive"]
# The autoregressive tests below use this spec; every family supplies its own for the generic tests.
SPEC = registry.get("pixelrnn").cls.conformance_spec()


def random_images(spec, n, seed=0):
    rng = np.random.default_rng(seed)
    return tf.constant(rng.integers(0, spec.num_classes, (n, *spec.example_shape)), tf.int32)


def test_every_model_package_is_registered():
    """In a fresh process (nothing imported a family first), `registry.names()` alone registers every folder."""
    packages = sorted(p.name for p in Path(tfgen.models.__path__[0]).iterdir() if (p / "__init__.py").is_file())
    assert packages, "no model packages found"
    script = (
        "import json; from tfgen import registry; "
        "print(json.dumps(sorted({registry.get(n).cls.__module__ for n in registry.names()})))"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    registered_modules = json.loads(proc.stdout.strip().splitlines()[-1])
    for package in packages:
        prefix = f"tfgen.models.{package}."
        assert any(m.startswith(prefix) for m in registered_modules), (
            f"tfgen/models/{package} registers no model: decorate its class with "
            f"@registry.register and import the package in tfgen/models/__init__.py"
        )


def test_registry_rejects_models_without_tiny_config():
    with pytest.raises(ValueError, match="must define configs"):
        registry.register("x", configs={"default": registry.Config(model={})}, default_dataset="digits")


def test_registry_rejects_classes_that_do_not_implement_the_protocol():
    from tfgen.models.base import GenerativeModel

    configs = {"default": registry.Config(model={}), "tiny": registry.Config(model={})}
    with pytest.raises(TypeError, match="not a subclass of tfgen.models.base.GenerativeModel"):
        registry.register("x", configs=configs, default_dataset="digits")(keras.Model)

    class Half(GenerativeModel):
        family = "test"

        def call(self, batch, training=False):
            return batch

    with pytest.raises(
        TypeError,
        match="Half does not define from_data_spec, conformance_spec, example_batch, "
        "build_for_data, train_step, per_example_metrics, previews, signatures, monitor",
    ):
        registry.register("x", configs=configs, default_dataset="digits")(Half)
    assert "x" not in registry.names()


def test_unknown_model_lists_registered_names():
    with pytest.raises(KeyError, match="registered models: .*pixelrnn"):
        registry.get("pixelcnnn")


@pytest.mark.parametrize("name", sorted(TRAIN_STEP_MODELS))
def test_keras_fit_on_a_freshly_built_model_learns_a_fixed_batch(name):
    """The Keras convention, `compile(**optimizers)` and `fit(dataset)` straight after `registry.build`,
    trains with every train_step (one model each; the others share theirs): its monitor falls on a
    fixed batch. One step an epoch, so each epoch's metric is that one step's."""
    model = tiny(name)
    model.compile(**model.make_optimizers(registry.get(name).config("tiny").learning_rate))
    # A GAN's generator learns only through its discriminator, so adversarial
    # models ask for more steps (class attribute `conformance_steps`).
    steps = getattr(model, "conformance_steps", 30)
    dataset = tf.data.Dataset.from_tensors(batch_for(model, 8)).repeat()
    values = model.fit(dataset, epochs=steps + 1, steps_per_epoch=1, verbose=0).history[model.monitor]
    assert np.isfinite(values).all()
    assert values[-1] < 0.8 * values[0], (model.monitor, values[0], values[-1])


@pytest.mark.parametrize("name", NAMES)
def test_get_config_round_trip(name):
    model = tiny(name)
    config = model.get_config()
    clone = type(model).from_config(config)
    assert clone.get_config() == config
    # Every constructor argument, the base classes' included, is in the config: one left out
    # would come back as its default and still round-trip above.
    arguments = set()
    for cls in type(model).__mro__:
        if issubclass(cls, GenerativeModel) and "__init__" in vars(cls):
            arguments |= {
                p.name
                for p in inspect.signature(cls.__init__).parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
            }
    # A subclass that sets a base argument itself under its own name (image models
    # pass their image_shape as the base's example_shape) says so.
    renamed = getattr(type(model), "renamed_arguments", {})
    arguments = {renamed.get(a, a) for a in arguments}
    assert arguments and arguments <= set(config), sorted(arguments - set(config))


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
    return tf.reshape(model(images), [images.shape[0], model.num_positions, model.num_classes]).numpy()


def check_causality(model, spec):
    """Logits for pixel t depend on pixels before t only, and do depend on them.

    t runs in raster order with channels innermost, so for colour images
    channel G of a pixel may depend on its R, and not on its B.
    """
    base = random_images(spec, 2, seed=1).numpy().reshape(2, -1)
    reference = flat_logits(model, tf.constant(base.reshape(2, *spec.example_shape)))
    steps = model.num_positions
    for t in range(steps):
        changed = base.copy()
        changed[:, t:] = (changed[:, t:] + 1 + np.arange(steps - t)) % spec.num_classes
        logits = flat_logits(model, tf.constant(changed.reshape(2, *spec.example_shape)))
        np.testing.assert_allclose(
            logits[:, : t + 1],
            reference[:, : t + 1],
            atol=1e-5,
            err_msg=f"logits at or before pixel {t} changed when pixels >= {t} changed",
        )
        if t + 1 < steps:
            # The pixel just before t+1 must matter, or the model sees nothing.
            assert np.abs(logits[:, t + 1] - reference[:, t + 1]).max() > 1e-6, f"pixel {t + 1} ignores pixel {t}"


# Colour: three channels per pixel, so the channel masks (R before G before B) are exercised.
RGB_SPEC = DataSpec("test-rgb", (3, 4, 3), 6, np.zeros((6, 3), np.uint8))


def _image_model(name):
    from tfgen.models.autoregressive import AutoregressiveImageModel

    return issubclass(registry.get(name).cls, AutoregressiveImageModel)


def with_colours(names, marks=lambda name: ()):
    """(name, colour) cases: every model on its own spec, image models also on colour images."""
    return [
        pytest.param(n, colour, id=f"{'rgb' if colour else 'grey'}-{n}", marks=marks(n))
        for n in names
        for colour in ((False, True) if _image_model(n) else (False,))
    ]


def spec_for(name, colour):
    return RGB_SPEC if colour else registry.get(name).cls.conformance_spec()


@pytest.mark.parametrize("name, colour", with_colours(AUTOREGRESSIVE))
def test_causality(name, colour):
    spec = spec_for(name, colour)
    check_causality(tiny(name, spec), spec)


def _allow(conv, rows, cols, in_group=None, out_group=None):
    """Opens kernel taps [rows, cols] of a masked conv (optionally only in_group -> out_group)."""
    from tfgen.layers import channel_groups

    mask = conv.mask.copy()
    if in_group is None:
        mask[rows, cols] = 1
    else:
        fin, fout = mask.shape[2:]
        channels = conv.num_channels
        g_in, g_out = channel_groups(fin, channels), channel_groups(fout, channels, conv.out_blocks)
        mask[rows, cols, (g_in == in_group)[:, None] & (g_out == out_group)[None, :]] = 1
    conv.mask = mask


# (model, colour, how the mask is broken): each must make check_causality fail.
BROKEN_MASKS = {
    "first layer mask B (a pixel sees itself)": ("pixelcnn", False, lambda m: _allow(m.input_conv, 3, 3)),
    "tap right of the centre": ("pixelcnn", False, lambda m: _allow(m.blocks[0].conv, 1, 2)),
    "G sees B of its own pixel": ("pixelcnn", True, lambda m: _allow(m.blocks[0].conv, 1, 1, 2, 1)),
    "first layer lets R see G": ("pixelcnn", True, lambda m: _allow(m.input_conv, 3, 3, 1, 0)),
    "row LSTM input-to-state sees the right": (
        "row_lstm",
        False,
        lambda m: _allow(m.blocks[0].recurrent.input_to_state, 0, 2),
    ),
    "diagonal BiLSTM G gate sees B": (
        "diagonal_bilstm",
        True,
        lambda m: _allow(m.blocks[1].recurrent.input_to_state, 0, 0, 2, 1),
    ),
}


@pytest.mark.parametrize("breakage", sorted(BROKEN_MASKS))
def test_causality_check_catches_a_broken_mask(breakage):
    name, colour, brk = BROKEN_MASKS[breakage]
    spec = spec_for(name, colour)
    model = tiny(name, spec)
    brk(model)
    with pytest.raises(AssertionError, match="changed when pixels"):
        check_causality(model, spec)


def test_causality_check_catches_an_unshifted_diagonal_bilstm(monkeypatch):
    """The right-to-left direction must be shifted down one row: without it row i's future leaks in."""
    spec = spec_for("diagonal_bilstm", False)
    model = tiny("diagonal_bilstm", spec)
    monkeypatch.setattr("tfgen.layers.diagonal_bilstm.shift_down", lambda x: x)
    with pytest.raises(AssertionError, match="changed when pixels"):
        check_causality(model, spec)


@pytest.mark.parametrize("name, colour", with_colours(AUTOREGRESSIVE))
def test_log_prob_equals_one_pixel_at_a_time(name, colour):
    spec = spec_for(name, colour)
    model = tiny(name, spec)
    images = random_images(spec, 3, seed=2)
    parallel = model.log_prob(images).numpy()
    _, per_pixel = model._autoregress(images, tf.fill([3], model.num_positions), model.noise(3, 0), tf.ones([3]))
    np.testing.assert_allclose(per_pixel.numpy().sum(axis=1), parallel, rtol=1e-5)
    # And the parallel number is the softmax cross-entropy of the logits, by hand.
    logits = flat_logits(model, images)
    log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    by_hand = np.take_along_axis(log_softmax, images.numpy().reshape(3, -1, 1), -1).sum(axis=(1, 2))
    np.testing.assert_allclose(parallel, by_hand, rtol=1e-5)


@pytest.mark.parametrize("name", AUTOREGRESSIVE)
def test_sampling_is_deterministic_given_noise(name):
    model, spec = tiny(name), spec_for(name, False)
    sample = tf.function(model.sample, autograph=False)
    a = sample(model.noise(6, 7), tf.ones([6])).numpy()
    b = sample(model.noise(6, 7), tf.ones([6])).numpy()
    c = sample(model.noise(6, 8), tf.ones([6])).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.dtype == np.int32 and a.shape == (6, *spec.example_shape)
    assert a.min() >= 0 and a.max() < spec.num_classes


@pytest.mark.parametrize("name, colour", with_colours(AUTOREGRESSIVE))
def test_fast_sampler_equals_naive_sampler(name, colour):
    from tfgen.models.autoregressive import AutoregressiveModel

    # Without its own `_step_state`, `sample` and `sample_naive` run the same code: nothing would be compared.
    assert registry.get(name).cls._step_state is not AutoregressiveModel._step_state, f"{name} has no fast path"
    model = tiny(name, spec_for(name, colour))
    noise, temps = model.noise(4, 3), tf.fill([4], 0.7)
    naive = tf.function(model.sample_naive, autograph=False)(noise, temps).numpy()
    np.testing.assert_array_equal(tf.function(model.sample, autograph=False)(noise, temps).numpy(), naive)
    # The XLA-compiled sampler that the tools and training pictures use draws the same values.
    np.testing.assert_array_equal(model.sampler()(noise, temps).numpy(), naive)


@pytest.mark.parametrize("name", AUTOREGRESSIVE)
def test_completion_keeps_known_pixels(name):
    model = tiny(name)
    images = random_images(spec_for(name, False), 4, seed=3)
    num_known = tf.constant([0, 3, 6, 12])
    out = tf.function(model.complete, autograph=False)(images, num_known, model.noise(4, 0), tf.ones([4])).numpy()
    np.testing.assert_array_equal(model.completer()(images, num_known, model.noise(4, 0), tf.ones([4])).numpy(), out)
    flat_in, flat_out = images.numpy().reshape(4, -1), out.reshape(4, -1)
    for b, k in enumerate(num_known.numpy()):
        np.testing.assert_array_equal(flat_out[b, :k], flat_in[b, :k])
    assert not np.array_equal(flat_out[0], flat_in[0])  # unknown pixels are really sampled


def test_sampler_draws_from_the_model_distribution():
    """Frequencies of the first pixel over many draws match softmax(logits) at T and at 2T."""
    model = tiny("pixelrnn")
    n = 4000
    logits = flat_logits(model, tf.zeros([1, *SPEC.image_shape], tf.int32))[0, 0]
    sample = tf.function(model.sample, autograph=False)
    for temperature in (1.0, 2.0):
        draws = sample(model.noise(n, 11), tf.fill([n], temperature)).numpy().reshape(n, -1)[:, 0]
        p = np.exp(logits / temperature) / np.exp(logits / temperature).sum()
        freq = np.bincount(draws, minlength=SPEC.num_classes) / n
        # 4 standard errors of a binomial proportion.
        np.testing.assert_array_less(np.abs(freq - p), 4 * np.sqrt(p * (1 - p) / n) + 1e-3)


@pytest.mark.parametrize("name", NAMES)
def test_training_randomness_follows_the_run_seed(name):
    """From the same weights and batch, a step is repeatable; a model that draws noise draws it from its
    checkpointed `noise_seed`, which the run's --seed sets, and another seed gives another step."""
    from tfgen.training.trainer import default_optimizers

    model = tiny(name, seed=0)
    optimizers = default_optimizers(model, registry.get(name).config("tiny").learning_rate)
    model.compile(**optimizers)
    for opt in optimizers.values():
        opt.build(model.trainable_variables)
    state = list(model.variables) + [v for opt in optimizers.values() for v in opt.variables]
    start = [v.numpy() for v in state]
    seeds = [v for v in model.variables if v.path.endswith("noise_seed")]
    assert bool(seeds) == (name in STOCHASTIC_TRAINING), (name, [v.path for v in seeds])
    step, batch = tf.function(model.train_step, autograph=False), batch_for(model, 8)

    def one_step(noise_seed=None):
        for v, value in zip(state, start):
            v.assign(value)
        if noise_seed is not None:
            seeds[0].assign(noise_seed)
        step(batch)
        return [v.numpy() for v in model.trainable_weights]

    first = one_step()
    for a, b in zip(first, one_step()):
        np.testing.assert_array_equal(a, b)
    if seeds:
        assert int(tiny(name, seed=1).noise_seed.numpy()) != int(seeds[0].numpy())  # --seed sets it
        other = one_step(int(seeds[0].numpy()) + 1)
        assert any(not np.array_equal(a, b) for a, b in zip(first, other)), f"{name}: the noise ignores noise_seed"
