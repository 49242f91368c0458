"""Training survives a SIGKILL and refuses to continue past a NaN."""

import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import REPO, run_tool
from tfgen.training import trainer
from tfgen.training import workdir as wd

KILL_ARGS = ["--model=pixelrnn", "--config=tiny", "--steps=120", "--checkpoint_every=20", "--noexport"]


def latest_step(workdir):
    path = tf.train.latest_checkpoint(str(workdir / "checkpoints"))
    return int(path.rsplit("-", 1)[1]) if path else 0


def final_weights(workdir):
    model, _, step = wd.load_model(workdir)
    return step, [v.numpy() for v in model.weights]


def test_sigkill_then_same_command_resumes_to_the_same_weights(tmp_path):
    reference = tmp_path / "uninterrupted"
    options = dict(model="pixelrnn", config="tiny", steps=120, checkpoint_every=20, export=False, verbose=False)
    trainer.train(trainer.TrainOptions(**options, workdir=str(reference)))

    workdir = tmp_path / "killed"
    command = [sys.executable, str(REPO / "tools" / "train.py"), *KILL_ARGS, f"--workdir={workdir}"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    deadline = time.time() + 240
    while time.time() < deadline and latest_step(workdir) < 40:
        if proc.poll() is not None:
            pytest.fail("training finished before it could be killed")
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = latest_step(workdir)
    assert 40 <= killed_at < 120, killed_at

    resumed = run_tool("train", *KILL_ARGS, f"--workdir={workdir}")
    assert f"resumed from {workdir / 'checkpoints'}/ckpt-{killed_at} at step {killed_at}" in resumed.stdout
    step, got = final_weights(workdir)
    ref_step, want = final_weights(reference)
    assert step == ref_step == 120
    worst = max(float(np.max(np.abs(a - b))) for a, b in zip(got, want))
    assert worst < 1e-5, f"resumed weights differ from the uninterrupted run's by {worst}"


def test_nan_stops_with_step_and_keeps_last_checkpoint(tmp_path):
    workdir = tmp_path / "run"
    tiny = dict(model="pixelrnn", config="tiny", workdir=str(workdir), export=False, num_previews=0, verbose=False)
    trainer.train(trainer.TrainOptions(**tiny, steps=4))
    before = final_weights(workdir)
    # An infinite learning rate: step 5's loss is still finite, its update is not.
    # (The CLI's one-line message for this is in tests/tools/test_error_contract.py.)
    with pytest.raises(trainer.NonFiniteLossError, match="non-finite weights at step 5.*stopped without saving"):
        trainer.train(trainer.TrainOptions(**tiny, steps=40, checkpoint_every=1, learning_rate=float("inf")))
    assert latest_step(workdir) == 4  # nothing written after the blow-up, not even the good-looking step 5
    after = final_weights(workdir)
    for a, b in zip(before[1], after[1]):
        np.testing.assert_array_equal(a, b)
    assert not (workdir / "summary.json").read_text().count("nan")


def test_mixed_precision_and_xla_train_and_export_float32(tmp_path):
    workdir = tmp_path / "run"
    options = dict(model="pixelrnn", config="tiny", steps=30, mixed_precision=True, jit_compile=True, verbose=False)
    summary = trainer.train(trainer.TrainOptions(**options, workdir=str(workdir)))
    assert summary["mixed_precision"] and summary["jit_compile"]
    assert summary["validation"]["nll"] < 64 * np.log(17)  # learned something: below uniform
    # Variables stay float32 under mixed precision, and so does the export.
    _, values = final_weights(workdir)
    assert all(v.dtype == np.float32 for v in values)
    assert (workdir / "export" / "tflite" / "pixelrnn" / "1" / "float32.tflite").is_file()
