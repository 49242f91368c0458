"""Every registered model trains under `mirrored` on two logical CPU devices.

The strategy splits each batch across replicas, so a model whose train_step
assumes one replica (a loss not scaled by the global batch, a state update not
aggregated across replicas, a random op that is not per replica) fails here or
stops on non-finite weights. One process per model: two MirroredStrategy
instances in one process reuse collective group and instance keys, and the
second training's all-reduces then collide with the first's (a TensorFlow
limitation, not a model bug), so the CLI is the unit here.
"""

import json

import pytest

from tests.conftest import require_shared, run_tool
from tfgen import registry


@pytest.mark.parametrize("name", registry.names())
def test_registered_model_trains_under_mirrored(name, tmp_path):
    text = registry.get(name).family == "latent_text"
    data = ["--dataset=ptb", f"--data_dir={require_shared('ptb')}"] if text else ["--dataset=digits"]
    workdir = tmp_path / "run"
    run_tool(
        "train",
        f"--model={name}",
        "--config=tiny",
        *data,
        "--steps=2",
        "--checkpoint_every=2",
        "--strategy=mirrored",
        "--num_cpu_devices=2",
        "--num_previews=0",
        "--noexport",
        f"--workdir={workdir}",
    )
    summary = json.loads((workdir / "summary.json").read_text())
    assert (summary["replicas"], summary["steps"], summary["strategy"]) == (2, 2, "mirrored")
