"""The adversarial benchmark: the train step with fresh fakes (baseline) against reused ones, in one run."""

import numpy as np
import pytest

from tfgen.benchmark import adversarial
from tfgen.data import DataSpec
from tfgen.errors import InvalidArgumentError

SPEC = DataSpec("small", (8, 8, 1), 2, np.array([[0, 0, 0], [255, 255, 255]], np.uint8))


def test_rows_time_both_steps_and_divide_the_baseline_by_the_reused():
    # The benchmark's code is the same for every adversarial model: DCGAN, whose tiny step traces fastest,
    # as given and with an override.
    rows = adversarial.adversarial_rows(
        ["dcgan", "dcgan:d_steps=1"], config="tiny", spec=SPEC, batch_size=4, repeats=1, rounds=1
    )
    assert [(r["model"], r["overrides"]) for r in rows] == [("dcgan", "-"), ("dcgan", "d_steps=1")]
    for row in rows:
        assert row["fresh_fakes_ms"] > 0 and row["reused_fakes_ms"] > 0
        np.testing.assert_allclose(row["speedup"], row["fresh_fakes_ms"] / row["reused_fakes_ms"])


def test_entries_parse_into_a_model_and_its_override():
    assert adversarial.parse_entry("gran:steps=5") == ("gran", {"steps": 5})
    assert adversarial.parse_entry("dcgan") == ("dcgan", {})


def test_every_entry_is_checked_before_any_is_timed(monkeypatch):
    timed = []
    monkeypatch.setattr(adversarial, "adversarial_row", lambda *a, **k: timed.append(a))
    with pytest.raises(InvalidArgumentError, match="vae is not an adversarial model"):
        adversarial.adversarial_rows(["dcgan", "vae"], config="tiny", spec=SPEC, batch_size=4)
    with pytest.raises(InvalidArgumentError, match="a batch of 6 does not split into d_steps=4"):
        adversarial.adversarial_rows(["dcgan", "gran:d_steps=4"], config="tiny", spec=SPEC, batch_size=6)
    assert timed == []
