"""A run resumes from its newest intact checkpoint; a workdir has one writer.

One model per train_step resuming from a run rewound to an earlier checkpoint is
in test_every_train_step.py; here one model is interrupted for real by an
exception mid-run (after a step was taken, before it was checkpointed), and
the SIGKILL version is in test_resilience.py.
"""

import json
import os
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import tiny_training_data
from tfgen import registry
from tfgen.errors import CorruptFileError, WorkdirBusyError
from tfgen.training import trainer
from tfgen.training import workdir as wd


class Interrupted(Exception):
    pass


class InterruptAt(keras.callbacks.Callback):
    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.step:
            raise Interrupted(f"interrupted after step {batch}")


def options(name, workdir, **changes):
    data = tiny_training_data(name)
    base = dict(
        model=name,
        config="tiny",
        workdir=str(workdir),
        steps=4,
        checkpoint_every=2,
        num_previews=0,
        export=False,
        verbose=False,
        **data,
    )
    return trainer.TrainOptions(**{**base, **changes})


def test_an_exception_mid_run_leaves_the_last_checkpoint_and_the_run_resumes(tmp_path):
    # The registry-wide test rewinds a finished run; here the interruption is real.
    workdir = tmp_path / "run"
    with pytest.raises(Interrupted):
        trainer.train(options("pixelrnn", workdir, callbacks=(InterruptAt(3),)))
    assert tf.train.latest_checkpoint(str(workdir / "checkpoints")).endswith("ckpt-2")
    resumed = trainer.train(options("pixelrnn", workdir))  # the lock was released by the exception
    assert resumed["steps_this_run"] == 2
    assert resumed["weights_sha256"] == trainer.train(options("pixelrnn", tmp_path / "straight"))["weights_sha256"]


@pytest.mark.parametrize("name", registry.names())
def test_run_identity_survives_the_round_trip_through_run_json(name, tmp_path):
    # Every config, not only tiny: tuples in a config come back from JSON as lists.
    spec = registry.get(name)
    data_spec = registry_data_spec(spec)
    for config_name, cfg in spec.configs.items():
        run = wd.Run(name, config_name, wd.config_to_json(cfg), data_spec.name, None, data_spec, seed=3)
        wd.write_run(tmp_path, run)
        assert wd.read_run(tmp_path).identity() == run.identity(), config_name
        changed = wd.Run(name, config_name, wd.config_to_json(cfg), data_spec.name, None, data_spec, seed=4)
        assert changed.identity() != run.identity()


def registry_data_spec(spec):
    from tfgen import data as tfdata

    data = tiny_training_data(spec.name)
    return tfdata.load(data["dataset"], "validation", data.get("data_dir"))[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A pixelrnn tiny run with checkpoints at steps 2, 4 and 6, and its final weights digest."""
    workdir = tmp_path_factory.mktemp("trained") / "run"
    summary = trainer.train(options("pixelrnn", workdir, steps=6))
    return workdir, summary


def copy_run(trained, tmp_path):
    workdir = tmp_path / "run"
    shutil.copytree(trained[0], workdir)
    return workdir


def truncate(path):
    with open(path, "r+b") as f:
        f.truncate(100)


def zero_fill(path):
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.write(b"\0" * size)


@pytest.mark.parametrize("damage", [truncate, zero_fill])
def test_training_falls_back_to_the_newest_intact_checkpoint(trained, tmp_path, capsys, damage):
    workdir = copy_run(trained, tmp_path)
    newest = workdir / "checkpoints" / "ckpt-6"
    damage(f"{newest}.data-00000-of-00001")

    summary = trainer.train(options("pixelrnn", workdir, steps=6, verbose=True))
    out, err = capsys.readouterr()
    assert f"{newest}: checkpoint cannot be read" in err
    assert f"resumed from {workdir / 'checkpoints' / 'ckpt-4'} at step 4" in out
    # Steps 5 and 6 redone from step 4 give the weights the intact run had.
    assert summary["steps_this_run"] == 2
    assert summary["weights_sha256"] == trained[1]["weights_sha256"]
    # The damaged files are kept aside, not deleted, and no longer listed.
    assert sorted(p.name for p in (workdir / "checkpoints" / "corrupt").iterdir()) == [
        "ckpt-6.data-00000-of-00001",
        "ckpt-6.index",
    ]
    assert tf.train.latest_checkpoint(str(workdir / "checkpoints")).endswith("ckpt-6")  # the new, good one
    model, _, step = wd.load_model(workdir)
    assert step == 6


@pytest.mark.parametrize("damage", [truncate, zero_fill])
def test_loading_a_damaged_checkpoint_names_it(trained, tmp_path, damage):
    workdir = copy_run(trained, tmp_path)
    damage(workdir / "checkpoints" / "ckpt-6.data-00000-of-00001")
    with pytest.raises(CorruptFileError, match=f"{workdir / 'checkpoints' / 'ckpt-6'}: checkpoint cannot be read"):
        wd.load_model(workdir, "latest")
    # The best checkpoint (the run's last validation, at the same step) is separate files: nothing is lost.
    assert wd.load_model(workdir, log=lambda m: None)[2] == 6


def test_every_checkpoint_damaged_is_an_error_not_a_fresh_start(trained, tmp_path):
    workdir = copy_run(trained, tmp_path)
    for data in (workdir / "checkpoints").glob("*.data-*"):
        truncate(data)
    with pytest.raises(CorruptFileError, match="no checkpoint could be read"):
        trainer.train(options("pixelrnn", workdir, steps=8))


def test_a_live_writer_holds_the_workdir(trained, tmp_path):
    workdir = copy_run(trained, tmp_path)
    with wd.Lock(workdir):
        with pytest.raises(WorkdirBusyError, match=f"in use by process {os.getpid()} "):
            trainer.train(options("pixelrnn", workdir, steps=8))
    # Released: the same run continues.
    assert trainer.train(options("pixelrnn", workdir, steps=8))["steps"] == 8


def test_a_lock_file_left_by_a_dead_run_does_not_block(trained, tmp_path):
    workdir = copy_run(trained, tmp_path)
    # What a SIGKILLed run leaves: the file with its pid, but no flock (the kernel dropped it).
    (workdir / wd.LOCK_FILE).write_text("process 999999 (python tools/train.py)")
    assert trainer.train(options("pixelrnn", workdir, steps=8))["steps"] == 8
    assert json.loads((workdir / "summary.json").read_text())["steps"] == 8


def test_weights_equal_within_a_bug_sized_tolerance_is_not_enough():
    # The resume test compares digests: one ulp anywhere must count as different.
    a = np.float32(1.0)
    assert np.nextafter(a, np.float32(2)).tobytes() != a.tobytes()
