"""DiffAugment translation for discriminators: the pure function and its wiring into GAN training."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import batch_for, record_discriminator_inputs
from tfgen import registry
from tfgen.models.gan import augment
from tfgen.training.trainer import default_optimizers


def reference_translate(images, offsets):
    """Loop version of out[b, i, j] = images[b, clip(i - dy), clip(j - dx)]."""
    b, h, w, _ = images.shape
    out = np.empty_like(images)
    for n in range(b):
        dy, dx = offsets[n]
        for i, j in itertools.product(range(h), range(w)):
            out[n, i, j] = images[n, min(max(i - dy, 0), h - 1), min(max(j - dx, 0), w - 1)]
    return out


def test_translate_matches_the_loop_reference():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(6, 5, 7, 3)).astype(np.float32)
    offsets = np.array([[0, 0], [1, 0], [0, -1], [-2, 2], [2, -2], [4, 6]], np.int32)
    got = augment.translate(tf.constant(images), tf.constant(offsets)).numpy()
    np.testing.assert_array_equal(got, reference_translate(images, offsets))
    np.testing.assert_array_equal(got[0], images[0])  # a zero offset is the identity
    # Content moves down by dy: row 1 of the shifted image is row 0 of the original.
    np.testing.assert_array_equal(got[1, 1], images[1, 0])
    np.testing.assert_array_equal(got[1, 0], images[1, 0])  # the edge repeats


def test_translate_gradient_sums_over_the_pixels_each_input_feeds():
    rng = np.random.default_rng(1)
    images = tf.constant(rng.normal(size=(3, 4, 4, 1)).astype(np.float32))
    offsets = np.array([[1, -1], [0, 2], [-1, 0]], np.int32)
    weights = rng.normal(size=(3, 4, 4, 1)).astype(np.float32)
    with tf.GradientTape() as tape:
        tape.watch(images)
        loss = tf.reduce_sum(augment.translate(images, tf.constant(offsets)) * weights)
    got = tape.gradient(loss, images).numpy()
    want = np.zeros_like(weights)
    for n, (dy, dx) in enumerate(offsets):
        for i, j in itertools.product(range(4), range(4)):
            want[n, min(max(i - dy, 0), 3), min(max(j - dx, 0), 3)] += weights[n, i, j]
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_random_offsets_cover_the_range_and_follow_the_seed():
    offsets = augment.random_offsets(2000, 2, tf.constant([3, 4])).numpy()
    assert offsets.min() == -2 and offsets.max() == 2
    assert len({tuple(o) for o in offsets}) == 25  # every (dy, dx) in {-2..2}^2 occurs
    np.testing.assert_array_equal(offsets, augment.random_offsets(2000, 2, tf.constant([3, 4])).numpy())
    assert not np.array_equal(offsets, augment.random_offsets(2000, 2, tf.constant([3, 5])).numpy())
    images = tf.ones([2, 4, 4, 1])
    assert augment.random_translate(images, 0, tf.constant([0, 0])) is images


def shifted_model(shift):
    spec = registry.get("dcgan").cls.conformance_spec()
    tf.keras.utils.set_random_seed(0)
    model = registry.get("dcgan").build(spec, "tiny", augment_shift=shift)
    model.compile(**default_optimizers(model, 1e-3))
    return model


SHIFTS = list(itertools.product(range(-1, 2), repeat=2))


def shifts_of(seen, originals):
    """The (dy, dx) that maps each original to what the discriminator saw; fails if none does."""
    found = []
    for x, original in zip(seen, originals):
        match = [o for o in SHIFTS if np.array_equal(reference_translate(original[None], np.array([o]))[0], x)]
        assert match, "the discriminator saw something that is not a translation of the image by at most 1 pixel"
        found.append(match[0])
    return found


def test_train_step_shows_the_discriminator_shifted_real_and_fake_images_in_both_steps(monkeypatch):
    model = shifted_model(1)
    model.d_steps = 1  # one discriminator step, then the generator step: three discriminator calls
    batch = batch_for(model, 8)
    real = model.to_model_space(batch).numpy()
    # The fakes each step will draw: the training noise depends only on the seed weight, the
    # generator optimizer's step and the stream, and the generator does not change before its own step.
    d_fake = model.generate_model_space(model.training_noise(8, 0), training=True).numpy()
    g_fake = model.generate_model_space(model.training_noise(8, 1), training=True).numpy()
    seen = record_discriminator_inputs(model, monkeypatch)
    model.train_step(batch)
    assert len(seen) == 3
    real_shifts, d_fake_shifts, g_fake_shifts = (
        shifts_of(seen[0], real),
        shifts_of(seen[1], d_fake),
        shifts_of(seen[2], g_fake),
    )
    for shifts in (real_shifts, d_fake_shifts, g_fake_shifts):
        assert len(set(shifts)) > 1  # each image draws its own shift
    assert real_shifts != d_fake_shifts != g_fake_shifts  # independent draws for each input


def test_augmentation_is_off_outside_training_and_configs_round_trip():
    plain, shifted = shifted_model(0), shifted_model(2)
    shifted.set_weights(plain.get_weights())
    images = batch_for(plain, 6)
    # Judging (validation metrics, GAM) and generating never augment.
    colours = plain.colour_table.lookup(images)
    np.testing.assert_array_equal(plain.discriminate_colours(colours), shifted.discriminate_colours(colours))
    np.testing.assert_array_equal(plain.generate(plain.noise(4, 0)), shifted.generate(shifted.noise(4, 0)))
    for k, v in plain.per_example_metrics(images).items():
        np.testing.assert_array_equal(v, shifted.per_example_metrics(images)[k])
    (signature,) = shifted.signatures()
    np.testing.assert_array_equal(signature.fn(plain.noise(4, 0))["images"], plain.generate(plain.noise(4, 0)))
    assert shifted.get_config()["augment_shift"] == 2
    assert type(shifted).from_config(shifted.get_config()).augment_shift == 2


@pytest.mark.parametrize("shift", [-1, 8])
def test_absurd_shift_is_refused(shift):
    with pytest.raises(ValueError, match="augment_shift"):
        shifted_model(shift)


def test_augmented_training_is_deterministic_given_weights_and_step():
    # A resumed run restores the weights, the noise seed and the optimizers' step counts;
    # the shifts are drawn from those alone, so it takes exactly the steps an
    # uninterrupted run would. The same run without the shifts ends elsewhere.
    first, second, other = shifted_model(1), shifted_model(1), shifted_model(0)
    second.set_weights(first.get_weights())
    other.set_weights(first.get_weights())
    batch = batch_for(first, 8)
    for model in (first, second, other):
        for _ in range(2):
            model.train_step(batch)
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first.get_weights(), other.get_weights()))
