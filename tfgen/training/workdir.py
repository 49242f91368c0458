"""The training workdir: what a run is (run.json) and its checkpoints.

Layout:
    run.json        model, config, dataset and its DataSpec, seed, batch size
    checkpoints/    tf.train.CheckpointManager (model, optimizer, step)
    logs/           TensorBoard (train/ and validation/)
    samples.png, completions.png
"""

import dataclasses
import json
from pathlib import Path

import tensorflow as tf

from tfgen import registry
from tfgen.data import DataSpec

RUN_FILE = "run.json"
CHECKPOINTS = "checkpoints"


@dataclasses.dataclass
class Run:
    model: str
    config_name: str
    config: dict
    dataset: str
    data_dir: str | None
    data_spec: DataSpec
    seed: int

    def to_json(self):
        d = dataclasses.asdict(self)
        d["data_spec"] = self.data_spec.to_json()
        return d

    @classmethod
    def from_json(cls, d):
        d = dict(d)
        d["data_spec"] = DataSpec.from_json(d["data_spec"])
        return cls(**d)

    def registry_config(self):
        return registry.Config(**self.config)

    def identity(self):
        # What may not change when a run is resumed in the same workdir.
        return (self.model, self.config_name, self.dataset, self.config["model"], self.seed)


def config_to_json(cfg):
    d = dataclasses.asdict(cfg)
    d["model"] = dict(d["model"])
    return d


def read_run(workdir):
    path = Path(workdir) / RUN_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no run here (train one with tools/train.py --workdir={workdir})")
    return Run.from_json(json.loads(path.read_text()))


def write_run(workdir, run):
    path = Path(workdir) / RUN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(run.to_json(), indent=2))
    tmp.replace(path)


def build_model(run):
    model = registry.get(run.model).build(run.data_spec, run.registry_config())
    model.build_for_data()
    return model


def checkpoint(model, step, **optimizers):
    """A tf.train.Checkpoint of every model weight, the step and the optimizers.

    Weights are listed explicitly: Keras 3 keeps sub-layers held in Python
    lists in its own wrapper, which tf.train.Checkpoint does not traverse, so
    `Checkpoint(model=model)` silently skipped e.g. a list of LSTM layers.
    They are keyed by position in `model.weights` (fixed by the model's
    construction code), not by path: paths contain auto-generated layer names
    ("dense_3") that change with whatever else the process has built. TF
    checks every shape when restoring.
    """
    weights = {f"w{i:04d}": v for i, v in enumerate(model.weights)}
    return tf.train.Checkpoint(weights=weights, step=step, **optimizers)


def restore_model(model, path):
    """Restores every model weight from a checkpoint, failing if any is missing."""
    step = tf.Variable(0, dtype=tf.int64)
    status = checkpoint(model, step).restore(path)
    status.expect_partial()  # optimizer slots are not needed to use the model
    status.assert_existing_objects_matched()
    return int(step.numpy())


def load_model(workdir):
    """Rebuilds the model of a workdir and restores its latest checkpoint.

    Returns (model, run, step).
    """
    run = read_run(workdir)
    model = build_model(run)
    ckpt_dir = Path(workdir) / CHECKPOINTS
    latest = tf.train.latest_checkpoint(str(ckpt_dir))
    if latest is None:
        raise FileNotFoundError(f"{ckpt_dir}: no checkpoint to load")
    return model, run, restore_model(model, latest)
