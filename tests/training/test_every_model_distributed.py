"""Every registered model trains under `mirrored` on two logical CPU devices.

The strategy splits each batch across replicas. Training noise is drawn per
example, not per replica (`tfgen.models.base.replica_rows`), so a mirrored run
is the single-process run up to summation order, and every model must end
with the weights of a single-process run of the same steps: a train_step that
assumes one replica (a state update not combined across replicas, a wrong
slice of the batch or of its noise) ends elsewhere. The tiny configs switch on
what draws noise (pixelcnn's dropout, GRAN's augmentation and gradient penalty,
sentence-VAE free bits) so that it is covered. Not caught: PixelRNN's
time-major dropout (its tiny config has none), and a small batch statistic
taken per replica (the autoencoder's per-replica code variance moves its
weights by 3e-7 in 2 steps). Adam's update is nearly invariant to the loss's scale, so a loss
not divided by the replica count would not show in the weights;
`losses.replica_mean` is tested by hand in tests/losses.

Splitting the CPU into two devices must happen before TensorFlow starts, so
the trainings run in one fresh process, one after another under the
process's one MirroredStrategy (which also checks that a process can run
several mirrored trainings).
"""

import json
import subprocess
import sys

import pytest

from tests.helpers import REPO, tiny_training_data
from tfgen import registry

DRIVER = """
import json, sys
from tfgen.training import strategies, trainer
from tfgen.training import workdir as wd

strategies.configure_cpu_devices(2)
results = {}
for name, dataset, data_dir, workdir in json.loads(sys.argv[1]):
    summary = trainer.train(trainer.TrainOptions(
        model=name, config="tiny", dataset=dataset, data_dir=data_dir, workdir=workdir, steps=2,
        checkpoint_every=2, strategy="mirrored", num_cpu_devices=2, num_previews=0, export=False, verbose=False,
    ))
    results[name] = {k: summary[k] for k in ("replicas", "steps", "strategy")}
    trainer.train(trainer.TrainOptions(
        model=name, config="tiny", dataset=dataset, data_dir=data_dir, workdir=workdir + "-single", steps=2,
        checkpoint_every=2, num_cpu_devices=2, num_previews=0, export=False, verbose=False,
    ))  # the default strategy on the first of the process's two devices
    mirrored, single = (wd.load_model(w)[0].weights for w in (workdir, workdir + "-single"))
    results[name]["max_weight_difference"] = max(
        float(abs(a.numpy() - b.numpy()).max()) for a, b in zip(mirrored, single, strict=True)
    )
print(json.dumps(results))
"""


ATOL = 1e-5
# Two halves of the registry, so that the two pytest-xdist workers share the work.
HALVES = [registry.names()[0::2], registry.names()[1::2]]


@pytest.mark.parametrize("names", HALVES, ids=["even", "odd"])
def test_every_registered_model_trains_under_mirrored(names, tmp_path):
    runs = []
    for name in names:
        data = tiny_training_data(name)
        dataset, data_dir = data["dataset"], data.get("data_dir")
        runs.append([name, dataset, data_dir, str(tmp_path / name)])
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(runs)], capture_output=True, text=True, timeout=900, cwd=REPO
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    differences = {name: results[name].pop("max_weight_difference") for name in names}
    for name in names:
        assert results[name] == {"replicas": 2, "steps": 2, "strategy": "mirrored"}, name
    # Summation order differs between one device and two: ~1e-7. A wrong batch or noise slice,
    # or state kept per replica, moves weights by ~1e-3 or more in 2 steps.
    print("largest weight difference, mirrored against single process:", differences)
    assert all(d < ATOL for d in differences.values()), differences


def test_the_halves_cover_the_registry():
    assert sorted(HALVES[0] + HALVES[1]) == registry.names()
