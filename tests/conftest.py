"""Shared fixtures: hermetic caches, the shared data folder, tiny workdirs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session", autouse=True)
def _hermetic_cache(tmp_path_factory):
    # Prepared TFDS datasets go to a per-session cache, never ~/.cache, so a
    # stale or foreign cache can neither help nor break a test run.
    os.environ["TFGEN_CACHE"] = str(tmp_path_factory.mktemp("tfgen_cache"))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def shared_data_root():
    """$TFGEN_DATA, else the `shared/data` folder beside the checkout (../shared/data)."""
    root = os.environ.get("TFGEN_DATA")
    return Path(root) if root else REPO.parent / "shared" / "data"


def require_shared(subpath):
    """Path under the shared data folder; skips (fails under CI=true) if absent."""
    path = shared_data_root() / subpath
    if not path.exists():
        message = f"shared data {path} is absent (set TFGEN_DATA to the folder holding pokemon/, tfds/, ptb/)"
        if IN_CI:
            pytest.fail(message + "; under CI=true it must be there")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def pokemon_dir():
    return require_shared("pokemon")


@pytest.fixture(scope="session")
def tfds_dir():
    return require_shared("tfds")


@pytest.fixture(scope="session")
def ptb_dir():
    return require_shared("ptb")


def run_tool(tool, *args, timeout=600, check=True):
    """Runs tools/<tool>.py in a subprocess; returns CompletedProcess (text)."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / f"{tool}.py"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"tools/{tool}.py failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
        )
    return proc


@pytest.fixture(scope="session")
def tiny_workdir(tmp_path_factory):
    """A tiny PixelRNN trained 4 steps on digits by the CLI, exported (version 1)."""
    workdir = tmp_path_factory.mktemp("run") / "pixelrnn"
    proc = run_tool(
        "train", "--model=pixelrnn", "--config=tiny", f"--workdir={workdir}", "--steps=4", "--checkpoint_every=2"
    )
    assert "done: 4 steps" in proc.stdout, proc.stdout
    return workdir
