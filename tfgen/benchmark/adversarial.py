"""Training speed of the adversarial models with one generator pass serving both updates (`reuse_fakes`).

For each entry ("model" or "model:name=value", the model's config on the
binarized-MNIST shape with that constructor override): milliseconds per
train step with fresh fakes for every update (`reuse_fakes=False`, the
baseline) and with the last discriminator slice trained on the generator
step's fakes (`reuse_fakes=True`). Both are built from the same seed and
timed in alternated rounds in one process, so the machine's swings fall on
both alike.
"""

import keras
import numpy as np
import tensorflow as tf

from tfgen import registry
from tfgen.benchmark.architectures import MNIST_SHAPE
from tfgen.benchmark.timing import time_call
from tfgen.errors import InvalidArgumentError
from tfgen.training.options import check_model_args, parse_model_args
from tfgen.training.trainer import default_optimizers

COLUMNS = ["model", "config", "overrides", "fresh_fakes_ms", "reused_fakes_ms", "speedup"]


def parse_entry(text, config="default", batch_size=64):
    """ "gran:steps=5" -> ("gran", {"steps": 5}), refusing in one line what could not be timed: a model that is
    not adversarial, an argument its constructor does not take, a config it lacks, or a batch that does not
    split into its discriminator steps."""
    flag = f"--adversarial={text}"
    name, _, override = text.partition(":")
    entry = registry.get(name)
    if entry.family != "adversarial":
        gans = ", ".join(n for n in registry.names() if registry.get(n).family == "adversarial")
        raise InvalidArgumentError(f"{flag}: {name} is not an adversarial model; the adversarial ones: {gans}")
    overrides = parse_model_args([override] if override else [], flag=flag)
    check_model_args(entry, overrides, flag=flag)
    if "reuse_fakes" in overrides:
        raise InvalidArgumentError(f"{flag}: reuse_fakes is what this benchmark varies; leave it out")
    d_steps = int(overrides.get("d_steps", entry.config(config).model.get("d_steps", 1)))
    if batch_size % d_steps:
        raise InvalidArgumentError(
            f"{flag}: a batch of {batch_size} does not split into d_steps={d_steps} slices; "
            f"give --train_batch a multiple of {d_steps}"
        )
    return name, overrides


def adversarial_row(name, overrides, config="default", spec=MNIST_SHAPE, batch_size=64, repeats=5, rounds=3):
    entry = registry.get(name)
    cfg = entry.config(config)
    batch = tf.constant(entry.cls.example_batch(spec, batch_size, seed=0))
    steps = {}
    for reuse in (False, True):
        keras.utils.set_random_seed(0)
        model = entry.build(spec, config, **overrides, reuse_fakes=reuse)
        model.compile(**default_optimizers(model, cfg.learning_rate))
        steps[reuse] = tf.function(model.train_step, jit_compile=cfg.jit_compile, autograph=False)
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


def adversarial_rows(entries, config="default", batch_size=64, **kwargs):
    """One row per entry; every entry is checked (`parse_entry`) before any is timed."""
    parsed = [parse_entry(e, config, batch_size) for e in entries]
    return [adversarial_row(name, o, config=config, batch_size=batch_size, **kwargs) for name, o in parsed]
