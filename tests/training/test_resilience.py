"""Training survives a SIGKILL and refuses to continue past a NaN."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import REPO, run_tool
from tfgen.training import trainer
from tfgen.training import workdir as wd

KILL_ARGS = ["--model=pixelrnn", "--config=tiny", "--steps=120", "--checkpoint_every=20", "--noexport"]


def latest_step(workdir):
    path = tf.train.latest_checkpoint(str(workdir / "checkpoints"))
    return int(path.rsplit("-", 1)[1]) if path else 0


def final_weights(workdir):
    model, _, step = wd.load_model(workdir)
    return step, [v.numpy() for v in model.weights]


@pytest.mark.long
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
    summary = json.loads((workdir / "summary.json").read_text())  # the summary of the good run
    assert summary["steps"] == 4 and all(np.isfinite(v) for v in summary["validation"].values())


def test_a_nan_loss_stops_the_run_and_names_the_loss(tmp_path):
    """A checkpoint whose weights give a NaN loss (here: a NaN logit bias) stops the next step on its loss."""
    workdir = tmp_path / "run"
    tiny = dict(model="pixelrnn", config="tiny", workdir=str(workdir), export=False, num_previews=0, verbose=False)
    trainer.train(trainer.TrainOptions(**tiny, steps=4))
    model, run, _ = wd.load_model(workdir)
    optimizers = trainer.default_optimizers(model, 0.01)
    model.compile(**optimizers)
    for opt in optimizers.values():
        opt.build(model.trainable_variables)
    step = tf.Variable(0, dtype=tf.int64)
    ckpt = wd.checkpoint(model, step, **optimizers)
    wd.restore(ckpt, tf.train.latest_checkpoint(str(workdir / "checkpoints")))
    bias = model.head.bias
    bias.assign(tf.fill(bias.shape, float("nan")))
    tf.train.CheckpointManager(ckpt, str(workdir / "checkpoints"), max_to_keep=5).save(checkpoint_number=5)
    with pytest.raises(trainer.NonFiniteLossError, match="non-finite loss at step 5 .*nll=nan"):
        trainer.train(trainer.TrainOptions(**tiny, steps=8))
    assert latest_step(workdir) == 5  # nothing saved after it


@pytest.mark.long
def test_mixed_precision_and_xla_train_and_export_float32(tmp_path):
    import keras

    from tfgen.export.litert_runtime import TFLiteModel

    class Dtypes(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.compute = self.model.compute_dtype
            self.variables = {v.dtype for v in self.model.trainable_weights}

    seen = Dtypes()
    workdir = tmp_path / "run"
    options = dict(model="pixelrnn", config="tiny", steps=30, mixed_precision=True, jit_compile=True, verbose=False)
    options.update(tflite_variants=("float32",))  # the one this test reads
    summary = trainer.train(trainer.TrainOptions(**options, workdir=str(workdir), callbacks=(seen,)))
    assert summary["mixed_precision"] and summary["jit_compile"]
    # The model that trained computed in bfloat16 (CPU) and kept float32 variables.
    assert (seen.compute, seen.variables) == ("bfloat16", {"float32"})
    assert summary["compute_dtype"] == "bfloat16"
    assert summary["validation"]["nll"] < 64 * np.log(17)  # learned something: below uniform
    # The export is float32 and computes what the restored float32 model computes.
    model, _, _ = wd.load_model(workdir)
    assert model.compute_dtype == "float32"
    tflite_dir = workdir / "export" / "tflite" / "pixelrnn" / "1"
    assert sorted(p.name for p in tflite_dir.glob("*.tflite")) == ["float32.tflite"]  # only the variant asked for
    lite = TFLiteModel(tflite_dir / "float32.tflite")
    images = np.random.default_rng(0).integers(0, 17, (3, 8, 8, 1)).astype(np.int32)
    want = model.log_prob(tf.constant(images)).numpy()
    np.testing.assert_allclose(lite.run("log_prob", images=images)["log_prob"], want, rtol=1e-4)


def test_only_the_newest_checkpoints_are_kept(tmp_path):
    workdir = tmp_path / "run"
    options = dict(model="pixelrnn", config="tiny", steps=6, checkpoint_every=1, keep_checkpoints=2)
    trainer.train(trainer.TrainOptions(**options, workdir=str(workdir), export=False, num_previews=0, verbose=False))
    kept = sorted(int(p.name.split("-")[1].split(".")[0]) for p in (workdir / "checkpoints").glob("ckpt-*.index"))
    assert kept == [5, 6]
