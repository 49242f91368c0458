"""The energy model: Langevin sampling, the replay buffer, and learning what data looks like."""

import keras
import numpy as np
import tensorflow as tf

from tests.helpers import batch_for, tiny
from tfgen import data as tfdata
from tfgen import registry
from tfgen.data import colours, pipeline
from tfgen.training.trainer import default_optimizers


def test_sample_is_deterministic_given_noise_and_stays_in_range():
    model = tiny("energy")
    init, noise = model.noise(4, 3)
    assert noise.shape == (4, model.sample_steps, 6, 5, 3)
    a = tf.function(model.sample, autograph=False)(init, noise).numpy()
    np.testing.assert_array_equal(a, tf.function(model.sample, autograph=False)(init, noise).numpy())
    assert not np.array_equal(a, tf.function(model.sample, autograph=False)(*model.noise(4, 4)).numpy())
    assert a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(model.generate_images(4, 3), a)


def test_noise_free_langevin_descends_the_energy():
    model = tiny("energy")
    init, noise = model.noise(16, 0)
    moved = model.sample(init, tf.zeros_like(noise))
    assert float(tf.reduce_mean(model.energy(moved))) < float(tf.reduce_mean(model.energy(init)))


def test_train_step_writes_its_negatives_back_to_the_buffer_only():
    model = tiny("energy")
    model.compile(**default_optimizers(model, 1e-3))
    before = model.replay_buffer.numpy().copy()
    tf.function(model.train_step, autograph=False)(batch_for(model, 8))
    after = model.replay_buffer.numpy()
    changed = np.any(before != after, axis=(1, 2, 3))
    assert changed.sum() == 8  # one slot per example, distinct slots
    assert after.min() >= 0 and after.max() <= 1
    # The buffer is a weight: checkpointed and saved with the model.
    assert any(w is model.replay_buffer for w in model.weights)


def test_trained_energy_prefers_digits_to_noise():
    images, spec = tfdata.load("digits", "train")
    keras.utils.set_random_seed(0)
    model = registry.get("energy").build(spec, "tiny")
    model.compile(**default_optimizers(model, registry.get("energy").config("tiny").learning_rate))
    step = tf.function(model.train_step, autograph=False)
    for i, batch in enumerate(pipeline.train_batches(images.cache(), 8, seed=0, epoch=0)):
        step(batch)
        if i == 150:
            break
    val, _ = tfdata.load("digits", "validation")
    real = colours.to_colours(next(iter(val.batch(100))).numpy(), spec.palette)
    uniform = np.random.default_rng(0).random(real.shape, dtype=np.float32)
    # Low energy = data-like: the discriminator side of the model has learned.
    assert float(tf.reduce_mean(model.energy(real))) < float(tf.reduce_mean(model.energy(uniform)))
