"""Serving signatures that models declare and the export layer builds.

A model lists its signatures (`model.signatures()`); each says its named
inputs with their per-example shape, dtype and valid range, its outputs, and
the function computing them. The exporter turns that one declaration into
SavedModel signatures with in-graph validation, TFLite signatures, the
metadata JSON the on-device runtime validates against, and warmup requests,
so no model is special-cased in `export/`.

Randomness is always an input (uniform or normal noise): exported samplers
are deterministic functions of their inputs, and TFLite has no random ops.
"""

import dataclasses
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class TensorInput:
    """One named input; the leading batch dimension is implicit.

    Attributes:
        name: the SignatureDef key (and TFLite signature input name).
        shape: per-example shape, e.g. (20, 20, 1); () for one value per example.
        dtype: "float32", "int32" or "string" (text; string signatures cannot go to TFLite).
        low, high: valid range; None for unbounded.
        low_open, high_open: whether the bound itself is excluded.
        doc: one line for the docs.
    """

    name: str
    shape: tuple
    dtype: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    doc: str = ""

    def range_text(self):
        if self.low is None and self.high is None:
            return "any finite value" if self.dtype.startswith("float") else "any value"
        lo = "-inf" if self.low is None else _num(self.low)
        hi = "inf" if self.high is None else _num(self.high)
        left = "(" if self.low_open or self.low is None else "["
        right = ")" if self.high_open or self.high is None else "]"
        return f"{left}{lo}, {hi}{right}"

    def to_json(self):
        return dataclasses.asdict(self) | {"shape": list(self.shape)}

    @classmethod
    def from_json(cls, d):
        return cls(**{**d, "shape": tuple(d["shape"])})


def _num(v):
    return str(int(v)) if float(v).is_integer() else str(v)


@dataclasses.dataclass(frozen=True)
class Signature:
    """A serving signature.

    Attributes:
        name: signature key ("sample", "complete", "log_prob", ...).
        inputs: the TensorInputs, in the order `fn` takes them.
        outputs: {output name: description}.
        fn: takes the inputs as tensors (batch first) and returns a dict of
            outputs keyed like `outputs`.
        exact_outputs: outputs that must match the Keras model bit for bit
            in every export (discrete samples); the others are compared with
            a relative tolerance.
        tflite: whether the signature goes into the TFLite models.
        doc: one line for the docs.
        reference: what the Keras model computes for the same inputs, when
            `fn` takes another route to it (e.g. a TFLite-friendly loop);
            exports are checked against it. Defaults to `fn`.
    """

    name: str
    inputs: tuple
    outputs: dict
    fn: Callable
    exact_outputs: tuple = ()
    tflite: bool = True
    doc: str = ""
    reference: Callable | None = None

    def expected(self, *args):
        return (self.reference or self.fn)(*args)

    def metadata(self):
        return {
            "inputs": [i.to_json() for i in self.inputs],
            "outputs": dict(self.outputs),
            "exact_outputs": list(self.exact_outputs),
            "tflite": self.tflite,
            "doc": self.doc,
        }
