"""Datasets (TFDS builders and catalogue) and tf.data pipelines."""

from tfgen.data.datasets import DataSpec, load, names, spec, training_view
from tfgen.data.errors import DataError

__all__ = ["DataError", "DataSpec", "load", "names", "spec", "training_view"]
