"""The one way every tool in `tools/` starts: flags, then `main`, with one error contract.

A user error (a bad flag value, a missing or foreign workdir, a corrupt file, an
unknown name) prints one line starting with `error:` to stderr and exits with
status 2. Anything else is a bug and keeps its traceback.

absl tools end with `cli.run(main)`. A tool that must run without absl (the
on-device `tools/tflite_sample.py`) parses with `cli.ArgumentParser` and ends
with `cli.run_plain(main)`: same contract. absl is imported only by `run`.
"""

import argparse
import sys

from tfgen.errors import UserError

USAGE_ERROR = 2


def fail(message):
    """Prints `error: message` and exits with the usage-error status."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(USAGE_ERROR)


def one_line(error):
    """An exception's message on one line (absl's flag errors span several)."""
    text = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
    return text or type(error).__name__


def run(main):
    """`absl.app.run(main)`, with user errors as one line and exit status 2."""
    from absl import app, flags

    def parse_flags(argv):
        try:
            return flags.FLAGS(argv)
        except flags.Error as e:
            fail(one_line(e))

    def guarded(argv):
        try:
            return main(argv)
        except (UserError, app.UsageError) as e:
            fail(one_line(e))

    app.run(guarded, flags_parser=parse_flags)


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose errors (a bad or missing argument) follow the contract: one `error:` line, status 2."""

    def error(self, message):
        fail(message)


def run_plain(main, argv=None):
    """Calls `main(argv)` of an argparse tool; a `UserError` becomes one line and status 2.

    Returns what `main` returns (no `sys.exit` on success, so the tool can be
    run in-process, e.g. by `runpy`).
    """
    try:
        return main(argv)
    except UserError as e:
        fail(one_line(e))
