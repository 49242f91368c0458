"""Waiting for other processes that prepare the same thing (a dataset, a feature network, a test fixture).

The first process to take the lock does the work; the others block until it
is done and then find the result. (A workdir's one-writer lock is another
matter: it refuses a second writer instead of waiting, `training/workdir.py`.)
"""

import fcntl
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(path):
    """Holds an exclusive lock on the file `path` (created if absent) for the `with` block, waiting for it."""
    with open(Path(path), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield  # released when the file closes, also when the process dies
