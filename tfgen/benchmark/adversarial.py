"""Training speed of the adversarial models with the generator's pass shared between their two steps.

For each model (its config, on the binarized-MNIST shape, with optional
constructor overrides): milliseconds per train step with fresh fakes for the
generator's step (`reuse_fakes=False`, the baseline) and with the last
discriminator slice's fakes reused (`reuse_fakes=True`), each built from the
same seed and timed in alternated rounds in one process, so the machine's
swings fall on both alike.
"""

import keras
import numpy as np
import tensorflow as tf

from tfgen import registry
from tfgen.benchmark.architectures import MNIST_SHAPE
from tfgen.benchmark.timing import time_call
from tfgen.training.options import parse_model_args
from tfgen.training.trainer import default_optimizers

COLUMNS = ["model", "config", "overrides", "fresh_fakes_ms", "reused_fakes_ms", "speedup"]


def parse_entry(text):
    """ "gran" or "gran:steps=5" -> ("gran", {"steps": 5})."""
    name, _, override = text.partition(":")
    return name, parse_model_args([override] if override else [])


def adversarial_row(name, overrides, config="default", spec=MNIST_SHAPE, batch_size=64, repeats=5, rounds=3):
    entry = registry.get(name)
    if entry.family != "adversarial":
        raise ValueError(f"{name} is not an adversarial model (family {entry.family!r})")
    cfg = entry.config(config)
    batch = tf.constant(entry.cls.example_batch(spec, batch_size, seed=0))
    steps = {}
    for reuse in (False, True):
        keras.utils.set_random_seed(0)
        model = entry.build(spec, config, **overrides, reuse_fakes=reuse)
        model.compile(**default_optimizers(model, cfg.learning_rate))
        step = tf.function(model.train_step, jit_compile=cfg.jit_compile, autograph=False)
        steps[reuse] = step
    times = {False: [], True: []}
    for _ in range(rounds):
        for reuse, step in steps.items():
            times[reuse].append(time_call(lambda s=step: s(batch), warmup=1, repeats=repeats))
    fresh, reused = (float(np.median(times[r])) for r in (False, True))
    return {
        "model": name,
        "config": config,
        "overrides": ",".join(f"{k}={v}" for k, v in overrides.items()) or "-",
        "fresh_fakes_ms": 1000 * fresh,
        "reused_fakes_ms": 1000 * reused,
        "speedup": fresh / reused,
    }


def adversarial_rows(entries, config="default", **kwargs):
    """One row per entry ("model" or "model:name=value")."""
    return [adversarial_row(*parse_entry(e), config=config, **kwargs) for e in entries]
