"""Datasets (TFDS builders and catalogue) and tf.data pipelines."""

from tfgen.data.datasets import DataSpec, load, names, spec
from tfgen.data.errors import DataError

__all__ = ["DataError", "DataSpec", "load", "names", "spec"]
