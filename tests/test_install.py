"""The installed layout: one top-level package, the tools as `tfgen-*` commands.

Checked in a fresh interpreter started outside the checkout, so that what is
importable comes from the installation, not from the working directory.
"""

import json
import os
import shutil
import subprocess
import sys

from tests.helpers import REPO

PROBE = """
import importlib.metadata, importlib.util, json
import tfgen.export
print(json.dumps({
    "export_top_level": importlib.util.find_spec("export") is not None,
    "tfgen_export": tfgen.export.__file__,
    "tools": sorted(
        (ep.name, ep.value) for ep in importlib.metadata.entry_points(group="console_scripts")
        if ep.name.startswith("tfgen-")
    ),
    "tool_modules": [
        importlib.util.find_spec(f"tfgen.tools.{name}") is not None for name in {names}
    ],
}))
"""

TOOLS = sorted(p.stem for p in (REPO / "tools").glob("*.py") if not p.stem.startswith("_"))


def test_export_installs_inside_tfgen_and_every_tool_is_a_command(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.replace("{names}", repr(TOOLS))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert not found["export_top_level"], "a top-level `export` package is installed"
    assert found["tfgen_export"] == str(REPO / "export" / "__init__.py")
    assert found["tools"] == [[f"tfgen-{n.replace('_', '-')}", f"tfgen.tools.{n}:run"] for n in TOOLS]
    assert all(found["tool_modules"])


def test_a_console_script_runs_the_tool(tmp_path):
    # The on-device sampler imports no TensorFlow, so this costs no TF start-up.
    command = shutil.which("tfgen-tflite-sample")
    assert command, "tfgen-tflite-sample is not on PATH"
    proc = subprocess.run(
        [command, f"--model={tmp_path / 'missing.tflite'}"], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert proc.returncode == 2 and proc.stderr.strip().startswith("error: "), proc.stderr
    assert "missing.tflite" in proc.stderr and "Traceback" not in proc.stderr
