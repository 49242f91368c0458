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
