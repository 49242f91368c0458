"""TFLite conversion of a model's signatures, builtin ops only.

The converter reads a SavedModel written by `keras.export.ExportArchive`:
the one the export has just written for TF Serving when there is one, so the
signatures are traced and saved once for both formats. The converter drops
its in-graph validation (assertion ops have no TFLite counterpart and no
outputs); the runtime in `export.litert_runtime` validates instead. Variants:

* float32: exact conversion;
* float16: weights stored as float16, computed in float32;
* int8: dynamic-range quantisation (int8 weights, float activations).

Only TFLITE_BUILTINS are allowed, so a model needing Select TF (Flex) ops
fails to convert instead of shipping a runtime dependency.
"""

import re
import tempfile
from pathlib import Path

import tensorflow as tf

from tfgen.export import saved_model

VARIANTS = ("float32", "float16", "int8")


def set_variant(converter, variant):
    """Sets `converter` up for `variant`, whatever variant it was set up for before."""
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if variant not in VARIANTS:
        raise ValueError(f"unknown TFLite variant {variant!r}; choose from {VARIANTS}")
    converter.optimizations = set() if variant == "float32" else [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16] if variant == "float16" else set()


def convert(model, out_dir, max_batch, variants=VARIANTS, saved_model_dir=None):
    """Writes <out_dir>/<variant>.tflite for each variant; returns {variant: path}.

    saved_model_dir: the model's SavedModel (`saved_model.export`) to convert; without it a temporary one is
    written.
    """
    signatures = [s for s in model.signatures() if s.tflite]
    keys = [s.name for s in signatures]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if saved_model_dir is None:  # only what the converter reads
            saved_model.build_archive(model, signatures, keys[0], max_batch).write_out(tmp, verbose=False)
            saved_model_dir = tmp
        # One converter for every variant: `from_saved_model` loads the SavedModel, and each `convert`
        # reads it again anyway.
        converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir), signature_keys=keys)
        # The converter's own record of its options and environment costs a Python decode and re-encode of
        # the whole flatbuffer per variant, and no runtime reads it; what a device needs is in the export's
        # metadata file (`export.metadata`).
        converter.exclude_conversion_metadata = True
        paths = {}
        for variant in variants:
            set_variant(converter, variant)
            path = out_dir / f"{variant}.tflite"
            path.write_bytes(converter.convert())
            paths[variant] = path
    return paths


def _analysis(path):
    """TFLite's own description of a .tflite file: every subgraph's ops and tensors (WHILE bodies included)."""
    import contextlib
    import io

    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        tf.lite.experimental.Analyzer.analyze(model_path=str(path))
    return text.getvalue()


def op_names(path):
    """Every op in every subgraph of a .tflite file."""
    return sorted(set(re.findall(r"Op#\d+ (\w+)\(", _analysis(path))))


def stored_weight_types(path):
    """{type: count} of the constant (read-only) tensors of a .tflite file, e.g. {"FLOAT32": 9, "INT8": 2}.

    Shows what quantisation did: dynamic-range int8 stores only weights of at least 1024 elements as
    INT8 and leaves smaller ones FLOAT32.
    """
    counts = {}
    for kind in re.findall(r"type:(\w+) RO", _analysis(path)):
        counts[kind] = counts.get(kind, 0) + 1
    return counts
