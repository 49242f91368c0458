"""TF Serving requests and responses for tfgen signatures (REST and gRPC).

REST: POST http://HOST:8501/v1/models/<name>[/versions/<v>]:predict with
`{"signature_name": ..., "inputs": {...}}` (columnar format); the response
is `{"outputs": ...}` (a bare value when the signature has one output).
gRPC: `PredictionService/Predict` on HOST:8500 with a `PredictRequest`.
"""

import json
import urllib.request

import numpy as np


def rest_url(host, model_name, version=None):
    version_part = f"/versions/{int(version)}" if version is not None else ""
    return f"http://{host}/v1/models/{model_name}{version_part}:predict"


def rest_body(signature, inputs):
    """The JSON body of a REST predict request (columnar `inputs` format)."""
    return {"signature_name": signature, "inputs": {k: np.asarray(v).tolist() for k, v in inputs.items()}}


def parse_rest_response(body, output_names):
    """Response JSON (dict or text) -> {output name: ndarray}."""
    if isinstance(body, str | bytes):
        body = json.loads(body)
    if "error" in body:
        raise RuntimeError(f"server refused the request: {body['error']}")
    outputs = body["outputs"]
    if not isinstance(outputs, dict):  # one output: TF Serving drops the name
        (name,) = output_names
        outputs = {name: outputs}
    return {k: np.asarray(v) for k, v in outputs.items()}


def post_rest(host, model_name, signature, inputs, output_names, version=None, timeout=60):
    data = json.dumps(rest_body(signature, inputs)).encode()
    request = urllib.request.Request(
        rest_url(host, model_name, version), data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return parse_rest_response(response.read(), output_names)


def grpc_request(model_name, signature, inputs, version=None):
    """A PredictRequest for a signature with numpy inputs."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = int(version)
    for k, v in inputs.items():
        request.inputs[k].CopyFrom(tf.make_tensor_proto(np.asarray(v)))
    return request


def parse_grpc_response(response):
    import tensorflow as tf

    return {k: tf.make_ndarray(v) for k, v in response.outputs.items()}


def call_grpc(host, request, timeout=60):
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    with grpc.insecure_channel(host) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        return parse_grpc_response(stub.Predict(request, timeout=timeout))
