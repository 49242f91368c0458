"""The export's metadata file (tfgen.json) and request validation, numpy only.

The SavedModel validates requests inside its graph; a TFLite model cannot
(TFLite drops assertion ops), so the runtime that feeds it validates with
`validate_inputs` against the same declarations, read from tfgen.json.
"""

import json
from pathlib import Path

import numpy as np

from tfgen.errors import CorruptFileError, InvalidArgumentError, MissingFileError
from tfgen.export.signatures import TensorInput

METADATA_FILE = "tfgen.json"


class RequestError(InvalidArgumentError):
    """A request that the model must refuse; the message names the input (a user error, so a ValueError)."""


def write(path, metadata):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metadata, indent=2))


def read(path):
    path = Path(path)
    if path.is_dir():
        candidates = [path / METADATA_FILE, path / "assets.extra" / METADATA_FILE]
        path = next((p for p in candidates if p.is_file()), candidates[0])
    if not path.is_file():
        raise MissingFileError(f"{path}: no tfgen export metadata here")
    try:
        metadata = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CorruptFileError(f"{path}: not tfgen export metadata ({e})") from None
    if not isinstance(metadata, dict) or not {"signatures", "max_batch"} <= set(metadata):
        raise CorruptFileError(f"{path}: not tfgen export metadata (no 'signatures' and 'max_batch')")
    return metadata


def signature_inputs(metadata, signature):
    if signature not in metadata["signatures"]:
        raise RequestError(f"unknown signature {signature!r}; this model has {', '.join(metadata['signatures'])}")
    return [TensorInput.from_json(d) for d in metadata["signatures"][signature]["inputs"]]


def validate_inputs(metadata, signature, inputs):
    """Checks a request's named inputs; returns them as contiguous arrays.

    Raises RequestError naming the input for: a missing or unexpected input,
    the wrong dtype, the wrong per-example shape, differing batch sizes, a
    batch over the export's maximum, and values outside the declared range.
    """
    specs = signature_inputs(metadata, signature)
    names = [s.name for s in specs]
    unexpected = sorted(set(inputs) - set(names))
    if unexpected:
        raise RequestError(f"{signature}: unexpected input(s) {unexpected}; it takes {names}")
    out = {}
    batch = None
    max_batch = int(metadata["max_batch"])
    for spec in specs:
        if spec.name not in inputs:
            raise RequestError(f"{signature}: missing input {spec.name!r}")
        x = np.asarray(inputs[spec.name])
        if x.dtype != np.dtype(spec.dtype):
            raise RequestError(f"{spec.name}: expected dtype {spec.dtype}, got {x.dtype}")
        if x.ndim != 1 + len(spec.shape) or tuple(x.shape[1:]) != tuple(spec.shape):
            want = "[B" + "".join(f", {d}" for d in spec.shape) + "]"
            raise RequestError(f"{spec.name}: expected shape {want}, got {list(x.shape)}")
        if batch is None:
            batch = x.shape[0]
            if not 1 <= batch <= max_batch:
                raise RequestError(f"{spec.name}: batch size {batch} is outside 1..{max_batch}")
        elif x.shape[0] != batch:
            raise RequestError(f"{spec.name}: batch size {x.shape[0]} differs from {names[0]}'s {batch}")
        _check_range(spec, x)
        out[spec.name] = np.ascontiguousarray(x)
    return out


def _check_range(spec, x):
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        first = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
        raise RequestError(f"{spec.name}: values must be finite; got {x[first]} at index {list(first)}")
    bad = np.zeros(x.shape, bool)
    if spec.low is not None:
        bad |= (x <= spec.low) if spec.low_open else (x < spec.low)
    if spec.high is not None:
        bad |= (x >= spec.high) if spec.high_open else (x > spec.high)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise RequestError(f"{spec.name}: values must be in {spec.range_text()}; got {x[first]} at index {list(first)}")


def generating_request(metadata, signature, num, seed, temperature=1.0):
    """Validated inputs for a noise-in signature: the batch size is checked
    before any noise is drawn, so an absurd count fails fast, not out of memory."""
    from tfgen.export import noise

    max_batch = int(metadata["max_batch"])
    if not 1 <= num <= max_batch:
        raise RequestError(f"batch size {num} is outside 1..{max_batch} (the export's maximum)")
    inputs = noise.request_inputs(signature_inputs(metadata, signature), num, seed, temperature)
    return validate_inputs(metadata, signature, inputs)
