"""Sampling latency of a model's exports against the Keras model itself.

For batch sizes 1 and 16: the Keras model's compiled `sample`, the SavedModel
loaded as TF Serving loads it, and each TFLite variant under ai-edge-litert;
plus file sizes and, for the quantised TFLite variants, the drift of the mean
log_prob from float32 on the same images.
"""

import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from export import exporter, serving
from export import metadata as md
from export.litert_runtime import TFLiteModel
from tfgen.benchmark.timing import time_call


def _dir_bytes(path):
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def export_rows(model, run, batches=(1, 16), repeats=5, num_threads=2, eval_images=None):
    """Returns (latency rows, size/drift rows)."""
    latency, sizes = [], []
    with tempfile.TemporaryDirectory() as tmp:
        result = exporter.export_model(model, run, tmp, max_batch=max(batches))
        meta = result.metadata
        session = serving.ServingSession(result.saved_model)
        lites = {v: TFLiteModel(p, num_threads=num_threads) for v, p in result.tflite.items()}
        keras_sample = tf.function(model.sample)
        keras_xla = tf.function(model.sample, jit_compile=True)
        for b in batches:
            inputs = md.generating_request(meta, "sample", b, seed=0)
            args = [tf.constant(inputs["noise"]), tf.constant(inputs["temperature"])]
            runners = {
                "keras (tf.function)": lambda args=args: keras_sample(*args),
                "keras (tf.function, XLA)": lambda args=args: keras_xla(*args),
                "SavedModel (Session)": lambda inputs=inputs: session.run("sample", inputs),
                **{
                    f"TFLite {v}": (lambda lite=lite, inputs=inputs: lite.run("sample", **inputs))
                    for v, lite in lites.items()
                },
            }
            for name, fn in runners.items():
                seconds = time_call(fn, warmup=1, repeats=repeats)
                latency.append({"runtime": name, "batch": b, "ms": seconds * 1e3, "images_per_s": b / seconds})
        images = (
            eval_images
            if eval_images is not None
            else keras_sample(
                *[tf.constant(v) for v in md.generating_request(meta, "sample", 16, seed=1).values()]
            ).numpy()
        )
        images = np.asarray(images, np.int32)[: meta["max_batch"]]
        reference = float(np.mean(session.run("log_prob", {"images": images})["log_prob"]))
        sizes.append(
            {
                "artifact": "SavedModel",
                "bytes": _dir_bytes(result.saved_model),
                "mean_log_prob": reference,
                "drift_vs_float32": 0.0,
            }
        )
        base = None
        for v, lite in lites.items():
            lp = float(np.mean(lite.run("log_prob", images=images)["log_prob"]))
            base = lp if v == "float32" else base
            sizes.append(
                {
                    "artifact": f"TFLite {v}",
                    "bytes": result.tflite[v].stat().st_size,
                    "mean_log_prob": lp,
                    "drift_vs_float32": (lp - base) / abs(base),
                }
            )
        session.close()
    return latency, sizes
