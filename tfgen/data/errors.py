"""Errors raised for bad input data, always naming the file and line.

`DataError` lives in `tfgen.errors` so that TensorFlow-free code (the WAV
reader of `tfgen.audio`) can raise it too; it is re-exported here.
"""

from tfgen.errors import DataError

__all__ = ["DataError"]
