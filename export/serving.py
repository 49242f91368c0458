"""Load and run a SavedModel the way TF Serving does.

TF Serving's model server is a separate binary (Docker or apt) that a test
machine may not have, so this reproduces its path: a graph-mode load of the `serve` tag
in a `tf.compat.v1.Session`, each SignatureDef run by its tensor names, and
PredictRequest/PredictResponse protos converted the way the server does.
"""

from pathlib import Path

import numpy as np
import tensorflow as tf


class ServingSession:
    """A SavedModel version directory loaded like TF Serving loads it."""

    def __init__(self, version_dir):
        self.path = Path(version_dir)
        self.graph = tf.Graph()
        self.session = tf.compat.v1.Session(graph=self.graph)
        with self.graph.as_default():
            meta = tf.compat.v1.saved_model.loader.load(self.session, ["serve"], str(self.path))
        self.signatures = dict(meta.signature_def)

    def close(self):
        self.session.close()

    def run(self, signature_name, inputs):
        """Runs a signature on named numpy inputs; returns named numpy outputs."""
        if signature_name not in self.signatures:
            raise KeyError(f"no signature {signature_name!r}; have {sorted(self.signatures)}")
        sig = self.signatures[signature_name]
        missing = set(sig.inputs) - set(inputs)
        unexpected = set(inputs) - set(sig.inputs)
        if missing or unexpected:
            raise ValueError(f"{signature_name}: missing inputs {sorted(missing)}, unexpected {sorted(unexpected)}")
        for k, v in inputs.items():
            # The server rejects a tensor of another dtype instead of casting it.
            want = tf.dtypes.as_dtype(sig.inputs[k].dtype)
            got = np.asarray(v).dtype
            if got != want.as_numpy_dtype:
                raise TypeError(f"{signature_name}: input {k!r} expects {want.name}, got {got}")
        feed = {sig.inputs[k].name: v for k, v in inputs.items()}
        fetch = {k: t.name for k, t in sig.outputs.items()}
        return self.session.run(fetch, feed)

    def predict(self, request):
        """PredictRequest -> PredictResponse, as the server's Predict API."""
        from tensorflow_serving.apis import predict_pb2

        name = request.model_spec.signature_name or "serving_default"
        inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
        outputs = self.run(name, inputs)
        response = predict_pb2.PredictResponse()
        response.model_spec.CopyFrom(request.model_spec)
        response.model_spec.signature_name = name
        for k, v in outputs.items():
            response.outputs[k].CopyFrom(tf.make_tensor_proto(np.asarray(v)))
        return response

    def run_warmup(self):
        """Replays assets.extra/tf_serving_warmup_requests; returns the responses."""
        from tensorflow_serving.apis import prediction_log_pb2

        path = self.path / "assets.extra" / "tf_serving_warmup_requests"
        responses = []
        for record in tf.compat.v1.io.tf_record_iterator(str(path)):
            log = prediction_log_pb2.PredictionLog.FromString(record)
            responses.append((log.predict_log.request, self.predict(log.predict_log.request)))
        return responses
