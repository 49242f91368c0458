"""SavedModel export for TF Serving: validated signatures, warmup, metadata.

Built with `keras.export.ExportArchive`, which tracks the Keras 3 variables
correctly (a hand-made tf.Module holding Keras 3 variables converts to a TFLite
model whose weights are uninitialised and whose outputs are garbage).
"""

import keras
import numpy as np
import tensorflow as tf

from tfgen.export import layout
from tfgen.export import metadata as md
from tfgen.export.noise import noise_for

WARMUP_FILE = "tf_serving_warmup_requests"
WARMUP_BATCH = 2


def tensor_spec(inp):
    return tf.TensorSpec((None, *inp.shape), tf.as_dtype(inp.dtype), name=inp.name)


def validated(signature, max_batch):
    """Wraps a signature's fn with in-graph request validation.

    Every failure is an InvalidArgumentError whose message starts with the
    input's name; the checks run before the model, so a refused request
    costs nothing and leaves the loaded model untouched.
    """
    inputs = signature.inputs
    first = inputs[0].name

    def fn(*args):
        batch = tf.shape(args[0])[0]
        checks = [
            tf.debugging.assert_greater_equal(batch, 1, message=f"{first}: empty batch"),
            tf.debugging.assert_less_equal(
                batch, max_batch, message=f"{first}: batch size over the export's maximum of {max_batch}"
            ),
        ]
        for inp, x in zip(inputs[1:], args[1:]):
            message = f"{inp.name}: batch size differs from {first}'s"
            checks.append(tf.debugging.assert_equal(tf.shape(x)[0], batch, message=message))
        for inp, x in zip(inputs, args):
            checks.extend(_range_checks(inp, x))
        with tf.control_dependencies(checks):
            args = [tf.identity(a) for a in args]
        return signature.fn(*args)

    return fn


def _range_checks(inp, x):
    message = f"{inp.name}: values must be in {inp.range_text()}"
    out = []
    if x.dtype.is_floating:
        out.append(tf.debugging.assert_all_finite(x, message=f"{inp.name}: values must be finite"))
    if inp.low is not None:
        low = tf.cast(inp.low, x.dtype)
        op = tf.debugging.assert_greater if inp.low_open else tf.debugging.assert_greater_equal
        out.append(op(x, low, message=message))
    if inp.high is not None:
        high = tf.cast(inp.high, x.dtype)
        op = tf.debugging.assert_less if inp.high_open else tf.debugging.assert_less_equal
        out.append(op(x, high, message=message))
    return out


def build_archive(model, signatures, default_signature, max_batch):
    archive = keras.export.ExportArchive()
    archive.track(model)
    endpoints = {}
    for sig in signatures:
        specs = [tensor_spec(i) for i in sig.inputs]
        endpoints[sig.name] = archive.add_endpoint(sig.name, validated(sig, max_batch), specs)
    # serving_default is the default signature's function itself: one trace for both names, not two.
    default = endpoints[default_signature]
    default.get_concrete_function()  # add_endpoint takes a tf.function without a signature only once traced
    archive.add_endpoint("serving_default", default)
    return archive


# Words for example text requests; any words are valid (unknown ones map to <unk>).
EXAMPLE_WORDS = ("the", "market", "fell", "in", "new", "york", "shares", "of", "company", "said", "N", "<unk>")


def example_inputs(signature, num=WARMUP_BATCH, seed=0):
    """A small valid request for a signature (noise drawn from the declared range)."""
    out = {}
    for stream, inp in enumerate(signature.inputs):
        if inp.dtype == "string":
            # Object arrays of bytes: what TF Serving's protos and sessions hold for tf.string.
            rng = np.random.default_rng([seed, stream])
            sentences = [" ".join(rng.choice(EXAMPLE_WORDS, size=rng.integers(1, 9))) for _ in range(num)]
            out[inp.name] = np.array([s.encode() for s in sentences], dtype=object).reshape(num, *inp.shape)
        elif inp.dtype.startswith("float"):
            if inp.name == "temperature" or (inp.low is not None and inp.high is None):
                out[inp.name] = np.ones((num, *inp.shape), np.float32)
            else:
                out[inp.name] = noise_for(inp, num, seed, stream)
        else:
            rng = np.random.default_rng([seed, stream])
            low = int(inp.low or 0)
            high = int(inp.high) if inp.high is not None else low + 1
            out[inp.name] = rng.integers(low, high + 1, (num, *inp.shape)).astype(np.int32)
    return out


def write_warmup(path, model_name, signatures, default_signature):
    """assets.extra/tf_serving_warmup_requests: one PredictionLog per signature."""
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    path.parent.mkdir(parents=True, exist_ok=True)
    names = [s.name for s in signatures] + ["serving_default"]
    by_name = {s.name: s for s in signatures}
    with tf.io.TFRecordWriter(str(path)) as writer:
        for name in names:
            sig = by_name[default_signature if name == "serving_default" else name]
            request = predict_pb2.PredictRequest(model_spec=model_pb2.ModelSpec(name=model_name, signature_name=name))
            for key, value in example_inputs(sig).items():
                request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())


def export(model, base, version, model_name, meta, max_batch):
    """Writes <base>/<version> atomically; returns its path."""
    signatures = model.signatures()
    with layout.atomic_version_dir(base, version) as tmp:
        archive = build_archive(model, signatures, model.default_signature, max_batch)
        archive.write_out(str(tmp), verbose=False)
        extra = tmp / "assets.extra"
        write_warmup(extra / WARMUP_FILE, model_name, signatures, model.default_signature)
        md.write(extra / md.METADATA_FILE, meta)
    return base / str(version)
