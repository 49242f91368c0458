"""WaveNet's speed: training samples/s, and generation samples/s of every way to sample, against real time.

Generation rows, all at batch 1 (one voice, as on a device):
* queue sampler: `model.sample` (one while loop, per-block queues), XLA-compiled
  as `model.sampler()` (what tools/sample.py runs) and as a plain tf.function;
* naive sampler: the same loop re-running the stack over the receptive field
  for every sample (the baseline, `vs_naive` divides by its tf.function row;
  its cost per sample does not depend on the clip's length, so it is timed
  on a shorter clip with the same network), also XLA-compiled;
* SavedModel (loaded as TF Serving loads it) and each TFLite variant
  (float32, float16, int8) of the exported `sample` signature.
The real-time factor is seconds of audio made per second of compute (above 1:
faster than real time).
"""

import keras
import numpy as np
import tensorflow as tf

from tfgen import registry
from tfgen.benchmark.timing import time_call
from tfgen.data import DataSpec

COLUMNS = ["sampler", "samples_per_s", "real_time_factor", "vs_naive"]


def speech_shape(seconds=1.0, sample_rate=8000):
    return DataSpec(
        "speech-shaped",
        (int(seconds * sample_rate),),
        256,
        np.zeros((0, 3), np.uint8),
        kind="audio",
        sample_rate=sample_rate,
    )


def training_rate(config, batch_size, repeats=5, spec=None):
    """Training samples/s of WaveNet `config` on random 1-second windows (the config's XLA setting)."""
    spec = spec or speech_shape()
    entry = registry.get("wavenet")
    model = entry.build(spec, config)
    model.compile(**model.make_optimizers(1e-3))  # as the trainer does
    step = tf.function(model.train_step, jit_compile=entry.config(config).jit_compile, autograph=False)
    x = tf.constant(np.random.default_rng(0).integers(0, 256, (batch_size, *spec.example_shape)), tf.int32)
    seconds = time_call(lambda: step(x), warmup=2, repeats=repeats)
    return {"train_samples_per_s": batch_size * spec.num_positions / seconds, "train_batch": batch_size}


def generation_rows(config, seconds=1.0, naive_seconds=0.05, repeats=3, exports=True, num_threads=1):
    """Rows of COLUMNS for the queue and naive samplers and (exports=True) the SavedModel and TFLite files.

    TFLite runs with `num_threads` interpreter threads: one by default, since
    at batch 1 every op is tiny and a second thread costs more in
    synchronisation than it saves (measured: about half the rate).
    """
    from tfgen.benchmark import export_latency
    from tfgen.training import workdir as wd

    entry = registry.get("wavenet")
    spec = speech_shape(seconds)
    keras.utils.set_random_seed(0)
    model = entry.build(spec, config)
    rate = spec.sample_rate

    def row(sampler, samples_per_s):
        return {"sampler": sampler, "samples_per_s": samples_per_s, "real_time_factor": samples_per_s / rate}

    one = tf.ones([1])
    rows = []
    for name, fast in (
        ("queue sampler (XLA, model.sampler)", model.sampler()),
        ("queue sampler (tf.function)", tf.function(model.sample, autograph=False)),
    ):
        fast_s = time_call(lambda f=fast: f(model.noise(1, 0), one), warmup=1, repeats=repeats)
        rows.append(row(name, spec.num_positions / fast_s))

    # The naive sampler on a shorter clip, same weights: equal samples for equal noise, and its time.
    short_spec = speech_shape(naive_seconds)
    short = entry.build(short_spec, config)
    short.set_weights(model.get_weights())
    noise = short.noise(1, 0)
    naive_fn, naive_xla = (
        tf.function(short.sample_naive, autograph=False),
        tf.function(short.sample_naive, jit_compile=True, autograph=False),
    )
    naive_samples = naive_fn(noise, one).numpy()
    same = all(
        np.array_equal(naive_samples, f(noise, one).numpy())
        for f in (tf.function(short.sample, autograph=False), short.sampler(), naive_xla)
    )
    naive_s = time_call(lambda: naive_fn(noise, one), warmup=0, repeats=1)
    rows.append(row("naive sampler (tf.function)", short_spec.num_positions / naive_s))
    naive_xla_s = time_call(lambda: naive_xla(noise, one), warmup=0, repeats=1)
    rows.append(row("naive sampler (XLA)", short_spec.num_positions / naive_xla_s))

    if exports:
        run = wd.Run("wavenet", config, {}, spec.name, None, spec, 0)
        latency, _ = export_latency.export_rows(model, run, batches=(1,), repeats=repeats, num_threads=num_threads)
        for r in latency:
            if r["runtime"].startswith(("SavedModel", "TFLite")):
                name = r["runtime"] + (f" ({num_threads} thread)" if r["runtime"].startswith("TFLite") else "")
                rows.append(row(name, r["images_per_s"] * spec.num_positions))
    naive_rate = next(r["samples_per_s"] for r in rows if r["sampler"] == "naive sampler (tf.function)")
    for r in rows:
        r["vs_naive"] = r["samples_per_s"] / naive_rate
    return rows, {"same_samples": same, "receptive_field": model.receptive_field, "clip_seconds": seconds}
