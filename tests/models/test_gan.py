"""The GAN family (DCGAN, GRAN): alternating updates, losses, randomness, canvases, monitoring."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import batch_for, tiny
from tfgen import data as tfdata
from tfgen import losses, registry, sampling
from tfgen.data import DataSpec, pipeline
from tfgen.models.gan import gran_model
from tfgen.training import callbacks, trainer
from tfgen.training.trainer import default_optimizers

ADVERSARIAL = [n for n in registry.names() if registry.get(n).family == "adversarial"]


def compiled(name, spec=None, **compile_kwargs):
    model = tiny(name, spec)
    model.compile(**default_optimizers(model, 1e-3), **compile_kwargs)
    return model


def snapshot(variables):
    return [v.numpy().copy() for v in variables]


def unchanged(before, variables):
    return all(np.array_equal(a, v.numpy()) for a, v in zip(before, variables))


def test_both_adversarial_models_are_registered():
    assert set(ADVERSARIAL) >= {"dcgan", "gran"}


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_each_step_updates_only_its_own_network(name):
    model = compiled(name)
    real = model.to_model_space(batch_for(model, 4))
    noise = model.noise(4, 1)
    g_vars, d_vars = model.generator_variables(), model.discriminator.trainable_variables
    assert g_vars and d_vars and not {id(v) for v in g_vars} & {id(v) for v in d_vars}
    # Every trainable weight belongs to exactly one of the two networks.
    assert len(g_vars) + len(d_vars) == len(model.trainable_variables)

    g_before, d_before = snapshot(g_vars), snapshot(d_vars)
    tf.function(model.d_step, autograph=False)(real, noise, tf.constant([1, 2]))
    assert unchanged(g_before, g_vars), "the discriminator step changed the generator"
    assert not unchanged(d_before, d_vars)

    d_before = snapshot(d_vars)
    tf.function(model.g_step, autograph=False)(noise, tf.constant([3, 4]))
    assert unchanged(d_before, d_vars), "the generator step changed the discriminator"
    assert not unchanged(g_before, g_vars)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_k_discriminator_steps_per_generator_step(k):
    keras.utils.set_random_seed(0)
    spec = registry.get("dcgan").cls.conformance_spec()
    model = registry.get("dcgan").build(spec, "tiny", d_steps=k)
    model.compile(**default_optimizers(model, 1e-3))
    tf.function(model.train_step, autograph=False)(batch_for(model, 8))
    assert int(model.d_optimizer.iterations) == k and int(model.g_optimizer.iterations) == 1


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_reused_fakes_train_as_fresh_fakes_of_the_same_noise_with_one_generator_pass_fewer(name):
    """With `reuse_fakes` the last discriminator slice and the generator step share one generator pass. Given
    that slice the generator step's noise, the step without it must land on exactly the same weights: the
    discriminator updated first, the generator's gradient taken through the shared pass. (The tiny configs
    draw no Gumbel pixel noise, whose seed this does not redirect.)"""
    entry = registry.get(name)
    d_steps = entry.config("tiny").model["d_steps"]
    assert d_steps > 1  # so that the slices before the last keep their own fakes
    models, passes = {}, {}
    for reuse in (False, True):
        keras.utils.set_random_seed(0)
        model = entry.build(entry.cls.conformance_spec(), "tiny", reuse_fakes=reuse)
        model.compile(**default_optimizers(model, 1e-2))
        own_noise, own_generate = model.training_noise, model.generate_model_space
        # The last slice draws the generator step's noise (stream d_steps), as reuse_fakes gives it.
        model.training_noise = lambda n, stream, f=own_noise: f(n, d_steps if stream == d_steps - 1 else stream)
        calls = []
        model.generate_model_space = lambda *a, f=own_generate, c=calls, **k: c.append(1) or f(*a, **k)
        before = snapshot(model.generator_variables())
        model.train_step(batch_for(model, 8))  # eagerly, so each pass is counted once
        models[reuse], passes[reuse] = model, len(calls)
    assert (passes[False], passes[True]) == (d_steps + 1, d_steps)
    assert not unchanged(before, models[True].generator_variables())

    # Every weight (optimizer state apart) but GRAN's running means of the reading and their averages: they
    # see one pass fewer.
    def compared(model):
        running = [w for w in model.weights if "reading_centre" in w.path]
        skip = {w.path for w in running} | {
            model.average_of(w).path for w in running if model.average_of(w) is not None
        }
        return {w.path: w for w in model.weights if w.path not in skip}

    fresh, reused = compared(models[False]), compared(models[True])
    assert sorted(fresh) == sorted(reused) and len(fresh) > len(models[True].trainable_variables)
    for path, w in fresh.items():
        np.testing.assert_allclose(w.numpy(), reused[path].numpy(), rtol=1e-5, atol=1e-6, err_msg=path)


def test_batch_that_does_not_split_into_d_steps_is_refused():
    model = compiled("dcgan")  # tiny: d_steps=2
    with pytest.raises(ValueError, match="d_steps=2"):
        model.train_step(batch_for(model, 5))
    # A batch whose size is only known when the step runs (a traced step without a static batch).
    batch = batch_for(model, 5)
    step = tf.function(
        model.train_step, input_signature=[tf.TensorSpec([None, *batch.shape[1:]], batch.dtype)], autograph=False
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="d_steps=2"):
        step(batch)


@pytest.mark.parametrize("loss", sorted(losses.ADVERSARIAL_LOSSES))
def test_every_loss_trains(loss):
    model = compiled("dcgan", loss=loss)
    step = tf.function(model.train_step, autograph=False)
    for _ in range(3):
        out = step(batch_for(model, 8))
    assert all(np.isfinite(float(v)) for v in out.values())
    assert ("gradient_penalty" in out) == (loss == "wasserstein")


def test_gradient_penalty_is_taken_between_real_and_fake_with_uniform_weights():
    model = compiled("dcgan", loss="wasserstein")
    real = model.to_model_space(batch_for(model, 4))
    fake = model.generate_model_space(model.noise(4, 2))
    seed = tf.constant([5, 6])
    eps = losses.interpolation_weights(4, seed)
    x_hat = eps[:, None, None, None] * real + (1 - eps[:, None, None, None]) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        out = model.discriminate(x_hat, training=True)
    grads = tape.gradient(out, x_hat).numpy().reshape(4, -1)
    want = (np.linalg.norm(grads, axis=1) - 1) ** 2
    np.testing.assert_allclose(model.penalty(real, fake, seed).numpy(), want, rtol=1e-4)


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_weight_averages_follow_the_recurrence_and_serve(name):
    model = compiled(name)  # tiny: ema_decay 0.9
    variables = [v for net in (model.generator, model.discriminator) for v in net.weights]
    floats = [(model.average_of(v), v) for v in variables if "float" in str(v.dtype)]
    assert floats and all(a is not None for a, _ in floats)
    assert all(any(w is a for w in model.weights) for a, _ in floats)  # checkpointed
    expected = [v.numpy().copy() for _, v in floats]  # they start at the initial weights
    np.testing.assert_array_equal(expected[0], floats[0][0].numpy())
    step = tf.function(model.train_step, autograph=False)
    for t in range(4):
        step(batch_for(model, 8))
        decay = min(0.9, (1 + (t + 1)) / (10 + (t + 1)))  # read after the generator step counted t + 1
        expected = [decay * e + (1 - decay) * v.numpy() for e, (_, v) in zip(expected, floats)]
    for e, (a, _) in zip(expected, floats):
        np.testing.assert_allclose(a.numpy(), e, rtol=1e-5, atol=1e-7)
    # Serving uses the averages, training the live weights.
    noise = model.noise(3, 0)
    live = model.generate_model_space(noise).numpy()
    served = model.generate(noise).numpy() * 2 - 1
    assert np.abs(live - served).max() > 1e-4
    np.testing.assert_allclose(served, model.generate_model_space(noise, averaged=True).numpy(), atol=1e-6)


def test_training_noise_depends_on_seed_weight_step_and_stream():
    model = compiled("dcgan")
    a, b = model.training_noise(3, 0).numpy(), model.training_noise(3, 0).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, model.training_noise(3, 1).numpy())
    model.g_optimizer.iterations.assign_add(1)
    assert not np.array_equal(a, model.training_noise(3, 0).numpy())


def test_probe_noise_is_standard_normal():
    spec = DataSpec("g", (28, 28, 1), 2, np.array([[0] * 3, [255] * 3], np.uint8))
    model = registry.get("dcgan").build(spec, "default")
    probes = model.probe_noise.numpy()
    assert probes.shape == (16, 64) and 0.9 < probes.std() < 1.1 and abs(probes.mean()) < 0.1


def test_colour_space_grey_and_rgb():
    grey = DataSpec("g", (8, 8, 1), 3, np.array([[255] * 3, [128] * 3, [0] * 3], np.uint8))
    model = tiny("dcgan", grey)
    assert model.colour_shape == (8, 8, 1)
    x = model.to_model_space(tf.constant([[[[0], [2]]]])).numpy()
    np.testing.assert_allclose(x.ravel(), [1.0, -1.0])
    rgb = tiny("dcgan").colour_shape
    assert rgb == (6, 5, 3)
    images = tiny("dcgan").generate(tf.random.normal([2, 8])).numpy()
    assert images.shape == (2, 6, 5, 3) and images.min() >= 0 and images.max() <= 1


@pytest.mark.parametrize("steps", [1, 3, 5])
def test_gran_canvas_is_the_squashed_sum_of_updates(steps):
    spec = registry.get("gran").cls.conformance_spec()
    keras.utils.set_random_seed(0)
    model = registry.get("gran").build(spec, "tiny", steps=steps)
    noise = model.noise(3, 0)
    canvases = model.canvases(noise, averaged=True).numpy()
    assert canvases.shape == (3, steps, 6, 5, 3)
    sheet = model.canvas_steps(noise).numpy()
    # The image is the last canvas squashed; each canvas adds one update to the previous one.
    np.testing.assert_allclose(sheet[:, -1], model.generate(noise).numpy(), atol=1e-6)
    np.testing.assert_allclose(sheet, (np.tanh(canvases) + 1) / 2, atol=1e-6)
    generator = model.generator
    reading = generator.canvas_encoder(tf.zeros([3, 6, 5, 3])) - generator.reading_centres[0].moving_mean
    first = generator.decoder(
        generator.cell(tf.concat([reading, generator.noise_code(noise)], -1), [tf.zeros([3, model.hidden_dim])])[0]
    )
    np.testing.assert_allclose(canvases[:, 0], first.numpy(), rtol=1e-5, atol=1e-6)  # C_1 = 0 + f(h_1)
    if steps > 1:
        updates = np.diff(canvases, axis=1)
        assert all(np.abs(u).max() > 0 for u in np.moveaxis(updates, 1, 0)), "a step drew nothing"
    pictures = model.previews(None, None, num_samples=4, seed=0)
    assert set(pictures) == {"samples", "canvas_steps"}


def test_mean_only_batch_norm_subtracts_the_batch_mean_in_training_and_the_running_mean_otherwise():
    norm = gran_model.MeanOnlyBatchNorm(momentum=0.75)
    x = np.array([[1.0, 2.0], [3.0, 10.0], [5.0, 0.0]], np.float32)
    np.testing.assert_allclose(norm(x, training=True).numpy(), x - x.mean(0), atol=1e-6)
    np.testing.assert_allclose(norm.moving_mean.numpy(), 0.25 * x.mean(0), rtol=1e-6)
    norm(2 * x, training=True)
    running = 0.75 * 0.25 * x.mean(0) + 0.25 * 2 * x.mean(0)
    np.testing.assert_allclose(norm.moving_mean.numpy(), running, rtol=1e-6)
    np.testing.assert_allclose(norm(x).numpy(), x - running, rtol=1e-6)  # not training: the batch is not used
    np.testing.assert_allclose(norm(x[:1]).numpy(), x[:1] - running, rtol=1e-6)


def test_gran_reading_of_the_empty_canvas_is_centred_away_in_training():
    """At T = 1 every example reads the same empty canvas, so the centred reading is exactly 0 in training."""
    spec = registry.get("gran").cls.conformance_spec()
    for centre in (True, False):
        keras.utils.set_random_seed(0)
        model = registry.get("gran").build(spec, "tiny", steps=1, centre_reading=centre)
        generator = model.generator
        noise = model.noise(4, 0)
        canvas = generator(noise, training=True)[:, 0].numpy()
        reading = generator.canvas_encoder(tf.zeros([4, 6, 5, 3]))
        if centre:
            reading = tf.zeros_like(reading)
        state = [tf.zeros([4, model.hidden_dim])]
        hidden = generator.cell(tf.concat([reading, generator.noise_code(noise)], -1), state, training=True)[0]
        np.testing.assert_allclose(canvas, generator.decoder(hidden, training=True).numpy(), rtol=1e-5, atol=1e-6)


def test_gran_samples_do_not_depend_on_the_rest_of_the_batch():
    model = compiled("gran")
    step = tf.function(model.train_step, autograph=False)
    for _ in range(3):
        step(batch_for(model, 8))
    means = [c.moving_mean.numpy() for c in model.generator.reading_centres]
    # Trained away from 0 (the empty canvas reads as nearly 0 at initialisation).
    assert len(means) == model.steps and all(np.abs(m).max() > 0 for m in means) and np.abs(means[-1]).max() > 1e-3
    noise = model.noise(5, 0)
    np.testing.assert_allclose(model.generate(noise[:1]).numpy(), model.generate(noise).numpy()[:1], atol=1e-6)


def digits_batches(batch_size, steps):
    images, spec = tfdata.load("digits", "train")
    images = images.cache()
    out, epoch = [], 0
    while len(out) < steps:
        out += list(pipeline.train_batches(images, batch_size, seed=0, epoch=epoch))
        epoch += 1
    return out[:steps], spec


def run_with_alarm(force_one_image, tmp_path, steps=1100, max_warmup=None):
    """The trainer's calls (train_step, then the callbacks) on digits, tiny DCGAN, default alarm settings
    (but `max_warmup`, if given)."""
    batches, spec = digits_batches(8, steps)
    keras.utils.set_random_seed(0)
    model = registry.get("dcgan").build(spec, "tiny")
    if force_one_image:
        # No path from the noise to the image: one image whatever the noise,
        # while the rest of the generator keeps training.
        kernel = model.generator.project.kernel
        kernel.assign(tf.zeros_like(kernel))
        kernel.trainable = False
    model.compile(**default_optimizers(model, registry.get("dcgan").config("tiny").learning_rate))
    (alarm,) = [c for c in callbacks.for_model(model, tmp_path, spec) if isinstance(c, callbacks.ModeCollapseAlarm)]
    alarm.max_warmup = max_warmup or alarm.max_warmup
    alarm.set_model(model)
    alarm.on_train_begin()
    step = tf.function(model.train_step, autograph=False)
    per_epoch = 202  # 1618 digits / 8
    for i, batch in enumerate(batches):
        if i % per_epoch == 0:
            # As the trainer: trackers (running means) reset at each epoch start.
            for m in model.metrics:
                m.reset_state()
            alarm.on_epoch_begin(i // per_epoch)
        logs = {k: float(v) for k, v in step(batch).items()}
        alarm.on_train_batch_end(i + 1, logs)
    return alarm


def test_mode_collapse_alarm_trips_on_a_one_image_generator(tmp_path, caplog):
    with caplog.at_level("WARNING", logger="tfgen"):
        alarm = run_with_alarm(True, tmp_path, steps=260, max_warmup=200)  # the default waits 1000 steps
    # Never diverse, so armed at max_warmup, where it fires at once.
    assert [a["step"] for a in alarm.alarms] == [200]
    assert alarm.alarms[0]["diversity_ratio"] < 0.01
    assert json.loads((tmp_path / callbacks.ALARMS_FILE).read_text()) == alarm.alarms
    assert "mode collapse suspected at step 200" in caplog.text
    assert list((tmp_path / "logs" / "alarms").glob("events.out.tfevents.*"))


def test_mode_collapse_alarm_stays_quiet_on_a_healthy_run(tmp_path):
    alarm = run_with_alarm(False, tmp_path)
    assert alarm.diverse_once and alarm.alarms == [] and not (tmp_path / callbacks.ALARMS_FILE).exists()
    assert alarm.ratio() > 0.6  # measured ~0.9


def test_alarm_fires_on_a_collapse_late_in_an_epoch():
    # Running means over a 1000-step epoch: a collapse at step 900 moves the
    # epoch mean little, but the per-step values it is built from are recovered.
    alarm = callbacks.ModeCollapseAlarm(None, window=20, warmup=0)
    alarm.on_epoch_begin(0)
    fake_sum = 0.0
    for step in range(1, 1001):
        fake = 0.9 if step < 900 else 0.0
        fake_sum += fake
        alarm.on_train_batch_end(step, {"fake_diversity": fake_sum / step, "real_diversity": 1.0})
    # Steps 900..912 are 13 zeros: the window mean is 7 * 0.9 / 20 = 0.315 < 0.35 (at 911: 0.36).
    assert [a["step"] for a in alarm.alarms] == [912]


def test_alarm_rearms_after_recovery():
    alarm = callbacks.ModeCollapseAlarm(None, threshold=0.3, window=2, warmup=0, rearm=0.6)
    values = [0.9, 0.9, 0.1, 0.1, 0.9, 0.9, 0.9, 0.1, 0.1]
    alarm.on_epoch_begin(0)
    total = 0.0
    for step, fake in enumerate(values, start=1):
        total += fake
        alarm.on_train_batch_end(step, {"fake_diversity": total / step, "real_diversity": 1.0})
    assert [a["step"] for a in alarm.alarms] == [4, 9]


def test_training_writes_progress_grids_every_epoch(tmp_path):
    options = trainer.TrainOptions(
        model="gran",
        config="tiny",
        workdir=str(tmp_path),
        epochs=2,
        batch_size=128,
        export=False,
        num_previews=4,
        quality_samples=300,  # the default 2,000 needs more than the 1,618 training digits
        verbose=False,
    )
    # Two epochs of digits in large batches, so few steps (1618 examples // 128 = 12 steps each).
    summary = trainer.train(options)
    scores = json.loads((tmp_path / callbacks.QUALITY_FILE).read_text())
    assert [(r["epoch"], r["step"]) for r in scores] == [(1, 12), (2, 24)]
    assert all(0 <= r["recall"] <= 1 and 0 <= r["precision"] <= 1 and r["fid"] > 0 for r in scores), scores
    assert summary["steps"] == 2 * 12
    for epoch in (1, 2):
        for name in ("samples", "canvas_steps"):
            assert (tmp_path / "progress" / f"{name}-epoch{epoch:04d}.png").is_file()
    assert list((tmp_path / "logs" / "samples").glob("events.out.tfevents.*"))
    assert (tmp_path / "samples.png").is_file() and (tmp_path / "canvas_steps.png").is_file()
    assert set(summary["validation"]) == {"d_score", "d_error"}
    # tools/sample.py's library call draws through the image hook.
    images = sampling.sample_workdir(tmp_path, tmp_path / "drawn.png", num=5, seed=1)
    assert images.shape == (5, 8, 8, 1) and (tmp_path / "drawn.png").is_file()
    with pytest.raises(ValueError, match="cannot complete"):
        sampling.sample_workdir(tmp_path, tmp_path / "x.png", cover=0.5)


def test_pokemon_sprites_are_generated_as_rgb_and_snap_to_the_palette(tmp_path, pokemon_dir):
    from tfgen.data import colours
    from tfgen.training import workdir as wd

    options = trainer.TrainOptions(
        model="dcgan",
        config="tiny",
        dataset="pokemon",
        data_dir=str(pokemon_dir),
        workdir=str(tmp_path),
        steps=3,
        export=False,
        num_previews=4,
        verbose=False,
    )
    trainer.train(options)
    model, run, _ = wd.load_model(tmp_path)
    palette = run.data_spec.palette
    assert len(palette) == 167 and not colours.is_grey(palette)
    rgb = model.generate_images(6, 0)
    assert rgb.shape == (6, 20, 20, 3) and rgb.min() >= 0 and rgb.max() <= 1
    indices = colours.nearest_index(rgb, palette)
    assert indices.shape == (6, 20, 20, 1) and indices.min() >= 0 and indices.max() < 167
    # Brute force on some pixels: the chosen colour is the nearest palette entry.
    table = palette.astype(np.float64) / 255
    flat, chosen = rgb.reshape(-1, 3), indices.ravel()
    for p in range(0, len(flat), 97):
        d = ((table - flat[p]) ** 2).sum(1)
        assert d[chosen[p]] == pytest.approx(d.min())
