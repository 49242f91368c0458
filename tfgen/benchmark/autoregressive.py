"""Training and sampling speed of autoregressive models, against baselines.

Baselines measured in the same run, so the ratios hold on a noisy machine:
* training: the same model built from a plain `keras.layers.LSTM`;
* sampling: the naive sampler that re-runs the model on the whole canvas for
  every pixel (the keras-io PixelCNN example's approach) against the model's
  own (state-carrying or cached) sampler, for the same noise.
"""

import keras
import numpy as np
import tensorflow as tf

from tfgen import registry
from tfgen.benchmark.timing import against_matmul, time_call
from tfgen.data import DataSpec

POKEMON_SHAPE = DataSpec("pokemon-shaped", (20, 20, 1), 167, np.zeros((167, 3), np.uint8))


def _batch(spec, batch_size, seed=0):
    rng = np.random.default_rng(seed)
    return tf.constant(rng.integers(0, spec.num_classes, (batch_size, *spec.image_shape)), tf.int32)


def train_step_fn(model, jit_compile, learning_rate=1e-3):
    """The model's train step as the trainer runs it: jit_compile is its config's."""
    model.compile(**model.make_optimizers(learning_rate))
    return tf.function(model.train_step, jit_compile=bool(jit_compile), autograph=False)


def plain_keras_lstm(spec, units):
    """The PixelRNN as one would write it with stock Keras layers."""
    k = spec.num_classes
    steps = spec.num_pixels
    inputs = keras.Input((steps,), dtype="int32")
    one_hot = keras.layers.Lambda(lambda p: tf.one_hot(p, k + 1), output_shape=(steps, k + 1))(inputs)
    h = keras.layers.LSTM(units, return_sequences=True)(one_hot)
    model = keras.Model(inputs, keras.layers.Dense(k)(h))
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    return model


def paired_training(model, jit_compile, spec, batch_size, repeats=5, pairs=3, probe=None):
    """The model's train step against the matmul rate (`timing.against_matmul`): examples/s, GFLOP/s, the
    median matmul probe, the median paired fraction and its range."""
    step = train_step_fn(model, jit_compile)
    batch = _batch(spec, batch_size)
    flops = model.training_flops_per_example() * batch_size
    paired = against_matmul(lambda: step(batch), flops, pairs=pairs, repeats=repeats, probe=probe)
    return {
        "examples_per_s": batch_size / paired["seconds"],
        "gflops": paired["gflops"],
        "matmul_gflops": paired["matmul_gflops"],
        "fraction_of_matmul": paired["fraction_of_matmul"],
        "fraction_range": f"{paired['fraction_min']:.3f}-{paired['fraction_max']:.3f}",
    }


def training_rate(model_name, config, spec, batch_size, repeats=5, pairs=3, probe=None):
    """Training examples/s of a registered model (`paired_training`) and of its plain-Keras twin."""
    entry = registry.get(model_name)
    model = entry.build(spec, config)
    result = paired_training(model, entry.config(config).jit_compile, spec, batch_size, repeats, pairs, probe)
    batch = _batch(spec, batch_size)
    if hasattr(model, "units"):
        plain = plain_keras_lstm(spec, model.units)
        flat = tf.reshape(batch, [batch_size, -1])
        previous = tf.concat([tf.fill([batch_size, 1], spec.num_classes), flat[:, :-1]], 1)
        plain_seconds = time_call(lambda: plain.train_on_batch(previous, flat), warmup=2, repeats=repeats)
        result["plain_keras_examples_per_s"] = batch_size / plain_seconds
    return result


def sampling_rate(model_name, config, spec, batch_size, repeats=3, naive_repeats=1):
    """Images/s of the model's sampler and of the naive re-run-everything sampler."""
    model = registry.get(model_name).build(spec, config)
    noise = model.noise(batch_size, seed=0)
    temperature = tf.ones([batch_size])
    fast = tf.function(model.sample, autograph=False)
    compiled = model.sampler()  # the same loop XLA-compiled: what tools/sample.py runs
    naive = tf.function(model.sample_naive, autograph=False)
    fast_images, compiled_images = fast(noise, temperature), compiled(noise, temperature)
    naive_images = naive(noise, temperature)
    fast_s = time_call(lambda: fast(noise, temperature), warmup=0, repeats=repeats)
    compiled_s = time_call(lambda: compiled(noise, temperature), warmup=0, repeats=repeats)
    naive_s = time_call(lambda: naive(noise, temperature), warmup=0, repeats=naive_repeats)
    return {
        "sample_images_per_s": batch_size / fast_s,
        "xla_sample_images_per_s": batch_size / compiled_s,
        "naive_images_per_s": batch_size / naive_s,
        "same_samples": bool(
            np.array_equal(fast_images.numpy(), naive_images.numpy())
            and np.array_equal(compiled_images.numpy(), naive_images.numpy())
        ),
    }
