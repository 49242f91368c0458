"""Following docs/ARCHITECTURE.md's "Add a model" recipe is enough.

`tests/example_model.py` defines a model by the recipe (a class, its configs,
the register decorator, nothing else). In a fresh pytest process that loads it
as a plugin, the registry-wide tests pick it up: it learns a fixed batch,
round-trips its config and `.keras` file, trains under `fit`, resumes, trains
under `mirrored` as in one process, and exports to a SavedModel and TFLite
that match it (the autoregressive family's causality and sampler tests too).
"""

import re
import subprocess
import sys

import pytest

from tests.helpers import REPO

# tests/example_model.py's name; not imported here, so it registers in its own process only.
NAME = "example_markov_pixels"

MODULES = [
    "tests/models/test_conformance.py",
    "tests/export/test_export_conformance.py",
    "tests/training/test_resume.py",
    "tests/training/test_every_train_step.py",
]


@pytest.mark.long
def test_a_model_added_by_the_recipe_passes_the_registry_wide_tests():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tests.example_model",
            "-k",
            NAME,
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            *MODULES,
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    summary = proc.stdout.strip().splitlines()[-1]
    # Every registry-wide test of those modules ran on it (23 cases), and none was skipped.
    assert int(re.search(r"(\d+) passed", summary).group(1)) >= 23 and "skipped" not in summary, summary
