"""Runs many command lines of the tools in ONE process, as `python tools/<tool>.py ...` would run them.

    python tests/tools/error_contract_driver.py cases.json results.json

cases.json is a list of {"tool", "id", "args"}; results.json gets, per case,
{"tool", "id", "status", "stdout", "stderr"}. Starting a process per command
line would import TensorFlow each time (5-10 s on a slow machine); here each
tool module is imported once (not as `__main__`, so it does not run), and
each case runs the body of the tool's own `if __name__ == "__main__":` block
(e.g. `cli.run(main)`) in the module, with `sys.argv` set. Between tools,
the flags the previous tool defined are deleted, so the next one can define
its own `--workdir`. Output is captured at the file-descriptor level,
so absl logging and TensorFlow's C++ logs are captured as a user sees them.
A `SystemExit` gives the exit status (as the interpreter maps it), any other
exception is printed as the interpreter prints it, with status 1.
"""

import ast
import contextlib
import importlib.util
import json
import os
import sys
import tempfile
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def load_tool(name):
    spec = importlib.util.spec_from_file_location(f"tfgen_tool_{name}", REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # absl files the module's flags under its name
    spec.loader.exec_module(module)
    return module


def main_block(path):
    """The compiled body of the file's `if __name__ == "__main__":` block."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "__name__ == '__main__'":
            return compile(ast.Module(body=node.body, type_ignores=[]), str(path), "exec")
    raise ValueError(f"{path} has no `if __name__ == '__main__':` block")


@contextlib.contextmanager
def captured(into):
    """Redirects fds 1 and 2 to temporary files; stores their text in `into`."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            for name, f in (("stdout", out), ("stderr", err)):
                f.seek(0)
                into[name] = f.read().decode(errors="replace")


def exit_status(code):
    """The process exit status of `sys.exit(code)`; a string is printed to stderr (status 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def run_case(tool, module, args):
    from absl import flags

    flags.FLAGS.unparse_flags()
    path = REPO / "tools" / f"{tool}.py"
    sys.argv = [str(path), *args]
    try:
        exec(main_block(path), vars(module))
        return 0
    except SystemExit as e:
        return exit_status(e.code)
    except BaseException:  # noqa: B036 - what the interpreter does with an uncaught exception
        traceback.print_exc()
        return 1


def main(cases_path, results_path):
    from absl import flags

    cases = json.loads(Path(cases_path).read_text())
    results = []
    tools = list(dict.fromkeys(c["tool"] for c in cases))
    for tool in tools:
        import_error = {}
        module = None
        with captured(import_error):
            try:
                module = load_tool(tool)
            except BaseException:  # noqa: B036
                traceback.print_exc()
        for case in (c for c in cases if c["tool"] == tool):
            result = {"tool": tool, "id": case["id"]}
            if module is None:
                result.update(status=None, stdout=import_error["stdout"], stderr=import_error["stderr"])
            else:
                with captured(result):
                    result["status"] = run_case(tool, module, case["args"])
            results.append(result)
            Path(results_path).write_text(json.dumps(results, indent=1))
        flags.FLAGS.unparse_flags()
        if module is not None:
            for flag in flags.FLAGS.get_flags_for_module(module.__name__):
                for name in (flag.name, flag.short_name):
                    if name and name in flags.FLAGS:
                        delattr(flags.FLAGS, name)


if __name__ == "__main__":
    main(*sys.argv[1:])
