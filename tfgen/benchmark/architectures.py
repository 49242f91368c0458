"""The PixelRNN paper's architectures side by side on the binarized-MNIST shape.

For each model: training examples/s of its train step (XLA-compiled when its
config says so, as the trainer runs it), the GFLOP/s that
implies (from the model's own multiply-add count) as a fraction of this
machine's float32 matmul rate, each step timing paired with a matmul probe
just before it (median fraction and its range over the pairs), and sampling images/s of the
plain sampler (the whole network re-run for every pixel) and, where the
model has one, of its cached sampler, as a plain tf.function and
XLA-compiled (`model.sampler()`, what the tools use), checked to give the
same images for the same noise.
"""

import numpy as np
import tensorflow as tf

from tfgen import registry
from tfgen.benchmark.autoregressive import paired_training
from tfgen.benchmark.timing import time_call
from tfgen.data import DataSpec
from tfgen.models.autoregressive import AutoregressiveImageModel

ARCHITECTURES = ("row_lstm", "diagonal_bilstm", "pixelcnn")
MNIST_SHAPE = DataSpec("binarized_mnist-shaped", (28, 28, 1), 2, np.array([[0, 0, 0], [255, 255, 255]], np.uint8))
COLUMNS = [
    "model",
    "config",
    "params",
    "train_xla",
    "train_examples_per_s",
    "train_gflops",
    "matmul_gflops",
    "fraction_of_matmul",
    "fraction_range",
    "plain_images_per_s",
    "cached_images_per_s",
    "cached_vs_plain",
    "xla_images_per_s",
    "xla_vs_plain",
    "same_samples",
]


def has_cached_sampler(model):
    return type(model)._step_state is not AutoregressiveImageModel._step_state


def architecture_row(
    name, config, spec, train_batch=32, sample_batch=16, repeats=5, pairs=3, probe=None, sampling=True
):
    """One model's row. Training: `pairs` timings of `repeats` steps, each paired with a matmul probe
    (`timing.against_matmul`; `probe` defaults to `timing.matmul_gflops`). sampling=False leaves the
    samplers out (the plain sampler of a recurrent model takes minutes)."""
    entry = registry.get(name)
    model = entry.build(spec, config)
    xla = bool(entry.config(config).jit_compile)
    training = paired_training(model, xla, spec, train_batch, repeats, pairs, probe)
    row = {
        "model": name,
        "config": config,
        "params": int(sum(np.prod(v.shape) for v in model.trainable_variables)),
        "train_xla": xla,
        "train_examples_per_s": training["examples_per_s"],
        "train_gflops": training["gflops"],
        **{k: training[k] for k in ("matmul_gflops", "fraction_of_matmul", "fraction_range")},
    }
    if not sampling:
        return row
    noise, temperature = model.noise(sample_batch, seed=0), tf.ones([sample_batch])
    plain = tf.function(model.sample_naive, autograph=False)
    plain_images = plain(noise, temperature)  # traces; the timed call below does not
    row["plain_images_per_s"] = sample_batch / time_call(lambda: plain(noise, temperature), warmup=0, repeats=1)
    if has_cached_sampler(model):
        cached = tf.function(model.sample, autograph=False)
        cached_images = cached(noise, temperature)
        row["cached_images_per_s"] = sample_batch / time_call(lambda: cached(noise, temperature), warmup=0, repeats=3)
        row["cached_vs_plain"] = row["cached_images_per_s"] / row["plain_images_per_s"]
        compiled = model.sampler()  # the same loop XLA-compiled: what tools/sample.py runs
        compiled_images = compiled(noise, temperature)
        row["xla_images_per_s"] = sample_batch / time_call(lambda: compiled(noise, temperature), warmup=0, repeats=3)
        row["xla_vs_plain"] = row["xla_images_per_s"] / row["plain_images_per_s"]
        row["same_samples"] = bool(
            np.array_equal(cached_images.numpy(), plain_images.numpy())
            and np.array_equal(compiled_images.numpy(), plain_images.numpy())
        )
    return row


def architecture_rows(names, config, **kwargs):
    return [architecture_row(n, config, MNIST_SHAPE, **kwargs) for n in names]
