"""Latent-variable image models side by side on the binarized-MNIST shape, against the VAE.

For each model: training examples/s of its train step (XLA-compiled when its
config says so, as `tools/train.py` runs it) and sampling images/s of its
`sample` signature (prior noise in, images out), each also as a ratio to the
VAE measured in the same run, which is the baseline row.
"""

import numpy as np
import tensorflow as tf

from tfgen import registry
from tfgen.benchmark.architectures import MNIST_SHAPE
from tfgen.benchmark.timing import time_call
from tfgen.training.trainer import default_optimizers

BASELINE = "vae"
COLUMNS = [
    "model",
    "config",
    "params",
    "xla",
    "train_examples_per_s",
    "train_vs_vae",
    "sample_images_per_s",
    "sample_vs_vae",
]


def latent_row(name, config, spec, train_batch=100, sample_batch=16, repeats=5):
    entry = registry.get(name)
    cfg = entry.config(config)
    model = entry.build(spec, config)
    model.compile(**default_optimizers(model, cfg.learning_rate))
    step = tf.function(model.train_step, jit_compile=cfg.jit_compile, autograph=False)
    batch = tf.constant(type(model).example_batch(spec, train_batch, seed=0))
    seconds = time_call(lambda: step(batch), warmup=2, repeats=repeats)
    sample = next(s for s in model.signatures() if s.name == "sample")
    noise = tf.random.stateless_normal([sample_batch, model.latent_dim], seed=[0, 0])
    sampler = tf.function(sample.fn, autograph=False)
    sample_seconds = time_call(lambda: sampler(noise), warmup=1, repeats=repeats)
    return {
        "model": name,
        "config": config,
        "params": int(sum(np.prod(v.shape) for v in model.trainable_variables)),
        "xla": bool(cfg.jit_compile),
        "train_examples_per_s": train_batch / seconds,
        "sample_images_per_s": sample_batch / sample_seconds,
    }


def latent_rows(entries, spec=MNIST_SHAPE, baseline_config="default", **kwargs):
    """Rows for the VAE (always first: the baseline) and `entries`, with their ratios to it.

    Args:
        entries: (model name, config name) pairs.
        baseline_config: the VAE's config.
    """
    baseline = (BASELINE, baseline_config)
    entries = [baseline] + [tuple(e) for e in entries if tuple(e) != baseline]
    rows = [latent_row(name, config, spec, **kwargs) for name, config in entries]
    for row in rows:
        row["train_vs_vae"] = row["train_examples_per_s"] / rows[0]["train_examples_per_s"]
        row["sample_vs_vae"] = row["sample_images_per_s"] / rows[0]["sample_images_per_s"]
    return rows
