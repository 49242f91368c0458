"""Errors raised for bad input data, always naming the file and line."""

from tfgen.errors import UserError


class DataError(UserError, ValueError):
    """A data file is missing or malformed.

    The message starts with `path:line:` (or just `path:`) so that editors and
    terminals can jump to the offending place.
    """

    def __init__(self, path, message, line=None):
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")
