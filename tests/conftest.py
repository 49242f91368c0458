"""Shared fixtures: hermetic caches, the shared data folder, tiny workdirs (helpers: tests/helpers.py)."""

import os

# The README runs the suite as two pytest-xdist workers on a two-core machine: with TensorFlow's default of
# a thread per core for each pool, four compute threads and four inter-op threads contend for two cores.
# One of each per process (measured: docs/RESULTS.md, test suite time). Set before TensorFlow is imported
# (tests.helpers imports it), and inherited by every subprocess a test starts.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import pytest  # noqa: E402

from tests.helpers import build_once, require_browser, require_shared, run_tool, shared_tmp
from tfgen.export import web_page, web_server


def pytest_collection_modifyitems(items):
    # pytest-xdist hands tests out in collection order, so a long test collected last runs alone at the
    # end while the other worker waits. Longest first keeps both workers busy to the end.
    items.sort(key=lambda item: item.get_closest_marker("long") is None)  # stable: otherwise in order


@pytest.fixture(scope="session", autouse=True)
def _hermetic_cache(tmp_path_factory):
    # Prepared TFDS datasets and feature networks go to a cache of this test
    # run, never ~/.cache, so a stale or foreign cache can neither help nor
    # break a test run. The pytest-xdist workers of one run share it (the
    # folder above their own temporary folders): both take file locks, so a
    # dataset or network is prepared once per run, not once per worker.
    root = shared_tmp(tmp_path_factory)
    (root / "tfgen_cache").mkdir(exist_ok=True)
    os.environ["TFGEN_CACHE"] = str(root / "tfgen_cache")
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
    """A tiny PixelRNN trained 4 steps on digits by the CLI, exported (version 1). Read-only: copy it to change it.

    One per test run, shared by the pytest-xdist workers (`build_once`).
    """

    def build(folder):
        workdir = folder / "pixelrnn"
        proc = run_tool(
            "train", "--model=pixelrnn", "--config=tiny", f"--workdir={workdir}", "--steps=4", "--checkpoint_every=2"
        )
        assert "done: 4 steps" in proc.stdout, proc.stdout
        return workdir

    return build_once(tmp_path_factory, "tiny_run", build)


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian's), driven by Playwright: one per pytest-xdist worker."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = web_page.launch(p)
        yield chromium
        chromium.close()


@pytest.fixture
def served():
    """serve(*export_dirs) -> the base URL of tools/web.py's server for them, stopped after the test."""
    servers = []

    def serve(*dirs):
        server, url = web_server.serve_in_thread(list(dirs))
        servers.append(server)
        return url

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()
