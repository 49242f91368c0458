"""Every registered model trains under `mirrored` on two logical CPU devices.

The strategy splits each batch across replicas, so a model whose train_step
assumes one replica (a loss not scaled by the global batch, a state update not
aggregated across replicas, a random op that is not per replica) fails here or
stops on non-finite weights. Splitting the CPU into two devices must happen
before TensorFlow starts, so the trainings run in one fresh process, one after
another under the process's one MirroredStrategy (which also checks that a
process can run several mirrored trainings).
"""

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO, require_shared
from tfgen import registry

DRIVER = """
import json, sys
from tfgen.training import strategies, trainer

strategies.configure_cpu_devices(2)
results = {}
for name, dataset, data_dir, workdir in json.loads(sys.argv[1]):
    summary = trainer.train(trainer.TrainOptions(
        model=name, config="tiny", dataset=dataset, data_dir=data_dir, workdir=workdir, steps=2,
        checkpoint_every=2, strategy="mirrored", num_cpu_devices=2, num_previews=0, export=False, verbose=False,
    ))
    results[name] = {k: summary[k] for k in ("replicas", "steps", "strategy")}
print(json.dumps(results))
"""


# Two halves of the registry, so that the two pytest-xdist workers share the work.
HALVES = [registry.names()[0::2], registry.names()[1::2]]


@pytest.mark.parametrize("names", HALVES, ids=["even", "odd"])
def test_every_registered_model_trains_under_mirrored(names, tmp_path):
    runs = []
    for name in names:
        text = registry.get(name).family == "latent_text"
        dataset, data_dir = ("ptb", str(require_shared("ptb"))) if text else ("digits", None)
        runs.append([name, dataset, data_dir, str(tmp_path / name)])
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(runs)], capture_output=True, text=True, timeout=900, cwd=REPO
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert results == {name: {"replicas": 2, "steps": 2, "strategy": "mirrored"} for name in names}


def test_the_halves_cover_the_registry():
    assert sorted(HALVES[0] + HALVES[1]) == registry.names()
