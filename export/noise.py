"""Seeded noise for exported samplers, numpy only.

Both `tools/sample.py --export_dir` (SavedModel) and `tools/tflite_sample.py`
(device path) draw their noise here, so the same seed gives the same images
from either artifact.
"""

import numpy as np


def noise_for(inp, num, seed, stream=0):
    """Noise for one TensorInput: uniform in its range, or standard normal if unbounded."""
    rng = np.random.default_rng([seed, stream])
    shape = (num, *inp.shape)
    if inp.low is not None and inp.high is not None:
        return (inp.low + (inp.high - inp.low) * rng.random(shape, dtype=np.float32)).astype(np.float32)
    return rng.standard_normal(shape, dtype=np.float32)


def request_inputs(signature_inputs, num, seed, temperature=1.0):
    """Inputs for a generating signature (only noise and a temperature).

    Bounded float inputs get uniform noise, unbounded ones normal noise, and
    `temperature` the given value. The SavedModel and TFLite sampling tools
    both build their requests here, so the same seed gives the same images.
    """
    out = {}
    for stream, inp in enumerate(signature_inputs):
        if inp.name == "temperature":
            out[inp.name] = np.full((num, *inp.shape), temperature, np.float32)
        elif inp.dtype == "float32":
            out[inp.name] = noise_for(inp, num, seed, stream)
        else:
            raise ValueError(f"input {inp.name!r} is not noise; this signature needs real data")
    return out
