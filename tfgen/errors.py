"""Errors that mean "the user asked for something wrong", as opposed to bugs.

Every tool in `tools/` runs through `tfgen.cli.run`, which prints a `UserError`
as one line (`error: ...`) and exits with status 2; anything else is a bug and
keeps its traceback. Library code raises these for bad flags, missing or
foreign workdirs, corrupt files and unknown names. Each class also derives from
the builtin a caller would expect (`ValueError`, `FileNotFoundError`,
`KeyError`), so `except ValueError` keeps working.
"""


class UserError(Exception):
    """Bad input from the user: a value, a name, a file or a workdir."""


class InvalidArgumentError(UserError, ValueError):
    """A value out of range or of the wrong kind (a flag, a request field)."""


class UnknownNameError(UserError, KeyError, ValueError):
    """An unknown model, config, dataset or split; the message lists the choices.

    Both a `KeyError` (the registry's lookups raised that) and a `ValueError`
    (the dataset catalogue's did), so either `except` keeps working.
    """

    def __str__(self):
        # KeyError would print its message in quotes.
        return str(self.args[0]) if self.args else ""


class MissingFileError(UserError, FileNotFoundError):
    """A file or folder the command needs is not there."""


class ExistingFileError(UserError, FileExistsError):
    """A file or version the command would write is already there (and is never overwritten)."""


class CorruptFileError(UserError, ValueError):
    """A file is there but cannot be read (truncated, zero-filled, not the format)."""


class WorkdirBusyError(UserError, RuntimeError):
    """Another live process is training in this workdir."""


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
