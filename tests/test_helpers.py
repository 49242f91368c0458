"""The test helpers' own promises: shared data is required under CI, optional elsewhere."""

import pytest

from tests import helpers


def test_ci_is_recognised_as_ci_services_set_it():
    assert all(helpers.is_ci(v) for v in ("true", "TRUE", "1", " yes "))
    assert not any(helpers.is_ci(v) for v in (None, "", "0", "false", "no"))


def test_missing_shared_data_fails_under_ci_and_skips_elsewhere(monkeypatch, tmp_path):
    monkeypatch.setenv("TFGEN_DATA", str(tmp_path))
    monkeypatch.setattr(helpers, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="absent.*under CI it must be there"):
        helpers.require_shared("pokemon")
    monkeypatch.setattr(helpers, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="absent"):
        helpers.require_shared("pokemon")
    (tmp_path / "pokemon").mkdir()
    assert helpers.require_shared("pokemon") == tmp_path / "pokemon"


def test_build_once_builds_in_the_first_worker_and_the_others_read_its_value(tmp_path, monkeypatch):
    """Two workers ask for the same thing at once: one builds it while the other waits, both get its value.

    Threads stand in for the worker processes: each takes the file lock through its own open file, so
    they exclude each other as processes do."""
    import threading
    import time

    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")  # the shared folder is the one above each worker's

    class Factory:
        def __init__(self, worker):
            self.worker = worker

        def getbasetemp(self):
            return tmp_path / self.worker

    builds, values = [], {}

    def build(folder):
        builds.append(folder)
        folder.mkdir(parents=True)
        time.sleep(0.5)  # still building when the other worker asks
        return {"folder": folder, "numbers": [1, 2]}

    def ask(worker):
        values[worker] = helpers.build_once(Factory(worker), "thing", build)

    threads = [threading.Thread(target=ask, args=(w,)) for w in ("gw0", "gw1")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert builds == [tmp_path / "built_once" / "thing" / "folder"]
    assert values["gw0"] == values["gw1"] == {"folder": builds[0], "numbers": [1, 2]}
