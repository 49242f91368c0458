"""Shared fixtures: hermetic caches, the shared data folder, tiny workdirs (helpers: tests/helpers.py)."""

import os

import pytest

from tests.helpers import require_shared, run_tool


@pytest.fixture(scope="session", autouse=True)
def _hermetic_cache(tmp_path_factory):
    # Prepared TFDS datasets go to a per-session cache, never ~/.cache, so a
    # stale or foreign cache can neither help nor break a test run.
    os.environ["TFGEN_CACHE"] = str(tmp_path_factory.mktemp("tfgen_cache"))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def pokemon_dir():
    return require_shared("pokemon")


@pytest.fixture(scope="session")
def tfds_dir():
    return require_shared("tfds")


@pytest.fixture(scope="session")
def ptb_dir():
    return require_shared("ptb")


@pytest.fixture(scope="session")
def speech_dir():
    return require_shared("speech")


@pytest.fixture(scope="session")
def tiny_workdir(tmp_path_factory):
    """A tiny PixelRNN trained 4 steps on digits by the CLI, exported (version 1)."""
    workdir = tmp_path_factory.mktemp("run") / "pixelrnn"
    proc = run_tool(
        "train", "--model=pixelrnn", "--config=tiny", f"--workdir={workdir}", "--steps=4", "--checkpoint_every=2"
    )
    assert "done: 4 steps" in proc.stdout, proc.stdout
    return workdir


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Keeps the tests that share a module-scoped fixture (an export, a trained workdir) on one xdist worker.

    Under `--dist loadgroup` (the project's pytest options) xdist sends tests with the same
    `xdist_group` to the same worker; without it each worker that runs one of them builds the
    fixture again, which doubled the cost of most exports and trained workdirs in the suite.
    """
    for item in items:
        shared = []
        for name in item.fixturenames:
            definitions = item._fixtureinfo.name2fixturedefs.get(name)
            if definitions and definitions[-1].scope == "module":
                params = getattr(item, "callspec", None)
                param = params.params.get(name) if params else None
                # No brackets in a group name: xdist ignores a group suffix followed by "]".
                shared.append(f"{item.module.__name__}.{name}" + ("" if param is None else f"={param}"))
        if shared:
            item.add_marker(pytest.mark.xdist_group("+".join(sorted(shared))))
