"""GAN stabilisers and their wiring into training: R1, instance noise, ADA, the Gumbel-sigmoid output, mode seeking,
top-k.

Spectral normalisation is tested on the layer (tests/layers/test_conv_nets.py);
GRAN's tiny config has every stabiliser on, so the registry-wide tests (resume,
seeds, mirrored against single) cover the noise they draw and the state they carry.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import batch_for, record_discriminator_inputs
from tfgen import losses, registry
from tfgen.data import DataSpec
from tfgen.models.gan.adversarial_model import _fold

BINARY = DataSpec("binary_test", (6, 5, 1), 2, np.array([[0, 0, 0], [255, 255, 255]], np.uint8))
PLAIN = dict(d_steps=1, ema_decay=0.0)  # dcgan's tiny without its two discriminator steps and averaging


def dcgan(spec=None, seed=0, **overrides):
    keras.utils.set_random_seed(seed)
    entry = registry.get("dcgan")
    return entry.build(spec or entry.cls.conformance_spec(), "tiny", **{**PLAIN, **overrides})


def sgd(model, learning_rate=0.01):
    model.compile(d_optimizer=keras.optimizers.SGD(learning_rate), g_optimizer=keras.optimizers.SGD(learning_rate))
    return model


def test_the_discriminator_step_descends_the_loss_plus_r1():
    gamma, lr = 5.0, 0.01
    model = sgd(dcgan(r1_penalty=gamma), lr)
    real = model.to_model_space(batch_for(model, 8))
    noise, seed = model.noise(8, 1), tf.constant([2, 3])
    fake = model.generate_model_space(noise, training=True)
    variables = model.discriminator.trainable_variables
    before = [v.numpy().copy() for v in variables]
    with tf.GradientTape(persistent=True) as tape:
        with tf.GradientTape() as real_tape:
            real_tape.watch(real)
            real_logits = model.discriminate(real, training=True)
        r1 = losses.r1_penalty(real_tape.gradient(real_logits, real))
        plain = tf.reduce_mean(model.loss_spec.d(real_logits, model.discriminate(fake, training=True)))
        total = plain + gamma * tf.reduce_mean(r1)
    want = tape.gradient(total, variables)
    without_r1 = tape.gradient(plain, variables)
    out = model.d_step(real, noise, seed)
    np.testing.assert_allclose(float(out["r1_penalty"]), float(tf.reduce_mean(r1)), rtol=1e-5)
    for b, v, g in zip(before, variables, want):
        np.testing.assert_allclose((b - v.numpy()) / lr, g.numpy(), rtol=2e-3, atol=2e-5)
    # The penalty matters at this weight: the test would see it missing.
    assert max(float(tf.reduce_max(tf.abs(g - g0))) for g, g0 in zip(want, without_r1)) > 1e-2


def test_instance_noise_is_added_to_real_and_fake_and_anneals_to_zero(monkeypatch):
    sigma, steps = 0.5, 10
    model = sgd(dcgan(instance_noise=sigma, anneal_steps=steps))
    batch = batch_for(model, 64)
    real = model.to_model_space(batch).numpy()
    # The fakes of the discriminator's step (drawn before anything changes the generator or the step count).
    fake = model.generate_model_space(model.training_noise(64, 0), training=True).numpy()
    seen = record_discriminator_inputs(model, monkeypatch)
    out = model.train_step(batch)
    assert float(out["instance_noise"]) == pytest.approx(sigma)
    added_to_real = seen[0] - real
    # 64 x 6 x 5 x 3 values: the standard deviation is within a few percent of sigma.
    assert np.std(added_to_real) == pytest.approx(sigma, rel=0.05)
    assert abs(np.mean(added_to_real)) < 0.02
    fake_noise = seen[1] - fake
    assert np.std(fake_noise) == pytest.approx(sigma, rel=0.05)
    assert abs(np.corrcoef(added_to_real.ravel(), fake_noise.ravel())[0, 1]) < 0.05  # independent draws
    # Half way the deviation is half; after anneal_steps generator steps it is off.
    model.g_optimizer.iterations.assign(steps // 2)
    assert float(model.annealed()["instance_noise"]) == pytest.approx(sigma / 2)
    model.g_optimizer.iterations.assign(steps)
    seen.clear()
    model.train_step(batch)
    np.testing.assert_array_equal(seen[0], real)


def ada_model(**overrides):
    return sgd(dcgan(augment_shift=1, ada_target=0.6, ada_images=640, **overrides))


def test_ada_translates_each_image_with_probability_p():
    model = ada_model()
    images = tf.constant(np.random.default_rng(0).normal(size=(3000, 6, 5, 3)), tf.float32)
    seed = tf.constant([4, 5])

    def unchanged_fraction(p):
        model.ada_p.assign(p)
        seen = model.augment(images, seed, 1).numpy()
        return np.mean(np.all(seen == images.numpy(), axis=(1, 2, 3)))

    assert unchanged_fraction(0.0) == 1.0
    # A chosen image is moved unless its drawn offset is (0, 0): 1 in 9 for shifts of at most 1.
    assert unchanged_fraction(1.0) == pytest.approx(1 / 9, abs=0.025)
    assert unchanged_fraction(0.5) == pytest.approx(0.5 + 0.5 / 9, abs=0.03)


@pytest.mark.parametrize(("bias", "start", "want"), [(100.0, 0.2, 0.3), (-100.0, 0.2, 0.1), (-100.0, 0.05, 0.0)])
def test_ada_moves_p_by_the_batch_over_ada_images_towards_the_target(bias, start, want):
    """A judge sure every real image is real (statistic 1 > 0.6) raises p by 64 / 640; one sure they are
    all fake (-1) lowers it, clipped at 0."""
    model = ada_model()
    model.discriminator.out.bias.assign([bias])
    model.ada_p.assign(start)
    out = model.train_step(batch_for(model, 64))
    assert float(out["ada_statistic"]) == np.sign(bias)
    assert float(model.ada_p.numpy()) == pytest.approx(want, abs=1e-6)
    assert float(out["ada_p"]) == pytest.approx(start)  # the metric reports the p the step used


def test_ada_p_is_checkpointed_with_the_weights():
    model = ada_model()
    model.ada_p.assign(0.375)
    clone = ada_model()
    clone.set_weights(model.get_weights())
    assert float(clone.ada_p.numpy()) == 0.375


def test_gumbel_pixels_are_relaxed_in_training_binary_when_served(monkeypatch):
    model = sgd(dcgan(BINARY, binary_pixels="gumbel", gumbel_temperature=(1.0, 0.01), anneal_steps=4))
    images = model.generate_images(16, 3)
    assert set(np.unique(images)) == {0.0, 1.0}
    # Served: each pixel's most likely value, the sign of the generator's output.
    noise = model.noise(8, 1)
    pre = model._pre_squash(model.run_network(model.generator, noise, averaged=True)).numpy()
    np.testing.assert_array_equal(model.generate(noise).numpy() * 2 - 1, np.where(pre >= 0, 1.0, -1.0))
    # In training at temperature 1: continuous values; the draws follow the seed.
    seed = tf.constant([3, 4])
    warm = model.generate_model_space(noise, training=True, seed=seed).numpy()
    assert np.all(np.abs(warm) < 1.0) and len(np.unique(warm)) > 100
    np.testing.assert_array_equal(warm, model.generate_model_space(noise, training=True, seed=seed).numpy())
    # The temperature falls geometrically to its floor; cold draws are nearly binary.
    model.g_optimizer.iterations.assign(2)
    assert float(model.annealed()["gumbel_temperature"]) == pytest.approx(0.1, rel=1e-5)
    model.g_optimizer.iterations.assign(4)
    assert float(model.annealed()["gumbel_temperature"]) == pytest.approx(0.01, rel=1e-5)
    cold = model.generate_model_space(noise, training=True, seed=seed).numpy()
    assert np.mean(np.abs(cold) > 0.99) > 0.9
    # Both training steps show the discriminator relaxed draws, and the generator learns through them.
    seen = record_discriminator_inputs(model, monkeypatch)
    before = [v.numpy().copy() for v in model.generator_variables()]
    out = model.train_step(tf.constant(np.random.default_rng(0).integers(0, 2, (8, 6, 5, 1)), tf.int32))
    assert float(out["gumbel_temperature"]) == pytest.approx(0.01, rel=1e-5)
    assert len(seen) == 3 and not set(np.unique(seen[1])) <= {-1.0, 1.0}
    assert all(not np.array_equal(b, v.numpy()) for b, v in zip(before, model.generator_variables()))


def test_the_generator_step_descends_its_loss_plus_mode_seeking_on_expected_pixels():
    weight, lr = 2.0, 0.01
    model = sgd(dcgan(BINARY, binary_pixels="gumbel", mode_seeking=weight), lr)
    noise, seed = model.noise(8, 1), tf.constant([2, 3])
    variables = model.generator_variables()
    before = [v.numpy().copy() for v in variables]
    with tf.GradientTape(persistent=True) as tape:
        # The step's own draws (g_step's generator stream), and each pixel's expected value.
        fake, mean = model.generate_model_space(noise, training=True, seed=_fold(seed, 4), with_mean=True)
        plain = tf.reduce_mean(model.loss_spec.g(model.discriminate(fake, training=True)))
        spread = tf.reduce_mean(losses.mode_seeking(mean, noise))
        on_draws = plain + weight * tf.reduce_mean(losses.mode_seeking(fake, noise))
        total = plain + weight * spread
    want = tape.gradient(total, variables)
    out, _, _ = model.g_step(noise, seed)
    np.testing.assert_allclose(float(out["mode_seeking"]), float(spread), rtol=1e-5)
    for b, v, g in zip(before, variables, want):
        np.testing.assert_allclose((b - v.numpy()) / lr, g.numpy(), rtol=2e-3, atol=2e-5)
    # Both alternatives the step must not take move the generator elsewhere: the test would see them.
    for other in (tape.gradient(plain, variables), tape.gradient(on_draws, variables)):
        assert max(float(tf.reduce_max(tf.abs(g - g0))) for g, g0 in zip(want, other)) > 1e-2
    assert "mode_seeking" not in sgd(dcgan(BINARY, binary_pixels="gumbel")).g_step(noise, seed)[0]


def test_stabilisers_survive_the_config_round_trip_and_bad_settings_are_refused():
    model = ada_model(spectral_norm=True, minibatch_stddev=4, r1_penalty=2.0, instance_noise=0.1, anneal_steps=7)
    clone = type(model).from_config(model.get_config())
    keys = ("spectral_norm", "minibatch_stddev", "r1_penalty", "instance_noise", "anneal_steps")
    assert type(model).from_config(dcgan(mode_seeking=0.5).get_config()).mode_seeking == 0.5
    assert type(model).from_config(dcgan(top_k=0.5).get_config()).top_k == 0.5
    for key in (*keys, "ada_target", "ada_images"):
        assert getattr(clone, key) == getattr(model, key), key
    assert clone.discriminator.spectral_norm and clone.discriminator.minibatch_stddev == 4
    gumbel = dcgan(BINARY, binary_pixels="gumbel", gumbel_temperature=(2.0, 0.5))
    assert type(gumbel).from_config(gumbel.get_config()).gumbel_temperature == (2.0, 0.5)
    refusals = [
        ({"ada_target": 0.6}, "needs augment_shift"),
        ({"ada_target": 0.6, "augment_shift": 1, "loss": "wasserstein"}, "real/fake threshold"),
        ({"ada_target": 1.5, "augment_shift": 1}, "ada_target must be in"),
        ({"r1_penalty": -1.0}, "must be >= 0"),
        ({"mode_seeking": -1.0}, "mode_seeking must be >= 0"),
        ({"top_k": 0.0}, "top_k must be in"),
        ({"top_k": 1.5}, "top_k must be in"),
        ({"minibatch_stddev": -2}, "minibatch_stddev must be 0"),
        ({"anneal_steps": 0}, "anneal_steps"),
        ({"gumbel_temperature": (1.0, 0.0)}, "two positive numbers"),
    ]
    for overrides, message in refusals:
        with pytest.raises(ValueError, match=message):
            dcgan(**overrides)


def test_the_generator_step_descends_its_loss_on_the_fakes_the_discriminator_scores_highest():
    steps, share, lr = 4, 0.5, 0.01
    model = sgd(dcgan(top_k=share, anneal_steps=steps), lr)
    model.g_optimizer.iterations.assign(steps // 2)  # halfway: the share kept is 0.75
    noise, seed = model.noise(8, 1), tf.constant([2, 3])
    variables = model.generator_variables()
    before = [v.numpy().copy() for v in variables]
    with tf.GradientTape(persistent=True) as tape:
        logits = model.discriminate(model.generate_model_space(noise, training=True, seed=_fold(seed, 4)), True)
        per_example = model.loss_spec.g(logits)
        best = np.argsort(-logits.numpy(), kind="stable")[:6]  # 0.75 of 8
        kept = tf.reduce_mean(tf.gather(per_example, best))
        everything = tf.reduce_mean(per_example)
    want = tape.gradient(kept, variables)
    out, _, _ = model.g_step(noise, seed)
    np.testing.assert_allclose(float(out["top_k"]), 0.75)
    np.testing.assert_allclose(float(out["g_loss"]), float(everything), rtol=1e-5)  # reported on every fake
    for b, v, g in zip(before, variables, want):
        np.testing.assert_allclose((b - v.numpy()) / lr, g.numpy(), rtol=2e-3, atol=2e-5)
    # Keeping every fake moves the generator elsewhere: the test would see the choice missing.
    assert max(float(tf.reduce_max(tf.abs(g - g0))) for g, g0 in zip(want, tape.gradient(everything, variables))) > 1e-3
    assert "top_k" not in sgd(dcgan()).g_step(noise, seed)[0]
