"""Sampling latency of a model's exports against the Keras model itself.

For batch sizes 1 and 16, the model's default signature (`sample` or
`generate`: noise in, images out) through the Keras model's compiled function,
the SavedModel loaded as TF Serving loads it, and each TFLite variant under
ai-edge-litert; plus file sizes and, for models with a `log_prob` signature,
the drift of the quantised TFLite variants' mean log_prob from float32 on the
same images.
"""

import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfgen.benchmark.timing import time_call
from tfgen.export import exporter, serving
from tfgen.export import metadata as md
from tfgen.export.litert_runtime import TFLiteModel


def _dir_bytes(path):
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def export_rows(model, run, batches=(1, 16), repeats=5, num_threads=2, eval_images=None):
    """Returns (latency rows, size/drift rows) for the model's default signature
    (noise in: `sample` or `generate`). The drift column needs a `log_prob`
    signature; other models get sizes only."""
    latency, sizes = [], []
    with tempfile.TemporaryDirectory() as tmp:
        result = exporter.export_model(model, run, tmp, max_batch=max(batches))
        meta = result.metadata
        name = meta["default_signature"]
        signature = next(s for s in model.signatures() if s.name == name)
        session = serving.ServingSession(result.saved_model)
        lites = {
            v: TFLiteModel(p, num_threads=num_threads)
            for v, p in result.tflite.items()
            if signature.tflite  # string signatures are SavedModel-only
        }
        keras_fn = tf.function(signature.fn, autograph=False)
        keras_xla = tf.function(signature.fn, jit_compile=True, autograph=False)
        for b in batches:
            inputs = md.generating_request(meta, name, b, seed=0)
            args = [tf.constant(inputs[t.name]) for t in md.signature_inputs(meta, name)]
            runners = {
                "keras (tf.function)": lambda args=args: keras_fn(*args),
                "keras (tf.function, XLA)": lambda args=args: keras_xla(*args),
                "SavedModel (Session)": lambda inputs=inputs: session.run(name, inputs),
                **{
                    f"TFLite {v}": (lambda lite=lite, inputs=inputs: lite.run(name, **inputs))
                    for v, lite in lites.items()
                },
            }
            for runtime, fn in runners.items():
                seconds = time_call(fn, warmup=1, repeats=repeats)
                latency.append({"runtime": runtime, "batch": b, "ms": seconds * 1e3, "images_per_s": b / seconds})
        has_log_prob = "log_prob" in meta["signatures"]
        if has_log_prob:
            images = (
                eval_images
                if eval_images is not None
                else model.sample(
                    *[
                        tf.constant(v)
                        for v in md.generating_request(meta, "sample", min(16, meta["max_batch"]), seed=1).values()
                    ]
                ).numpy()
            )
            images = np.asarray(images, np.int32)[: meta["max_batch"]]
            input_name = md.signature_inputs(meta, "log_prob")[0].name  # "images", or "audio" for sound
            reference = float(np.mean(session.run("log_prob", {input_name: images})["log_prob"]))
        sizes.append(
            {
                "artifact": "SavedModel",
                "bytes": _dir_bytes(result.saved_model),
                "mean_log_prob": reference if has_log_prob else None,
                "drift_vs_float32": 0.0 if has_log_prob else None,
            }
        )
        base = None
        for v, path in result.tflite.items():
            row = {"artifact": f"TFLite {v}", "bytes": path.stat().st_size, "mean_log_prob": None}
            if has_log_prob and v in lites:
                lp = float(np.mean(lites[v].run("log_prob", **{input_name: images})["log_prob"]))
                base = lp if v == "float32" else base
                row.update(mean_log_prob=lp, drift_vs_float32=(lp - base) / abs(base))
            sizes.append(row)
        session.close()
    return latency, sizes
