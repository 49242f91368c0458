"""Two workers end with the weights of one process, and survive a slow chief and a dead peer.

Data order is a function of (seed, epoch) and each replica takes its slice of
the same global batch, so two workers and one process take identical
optimizer steps up to floating-point summation order. (Two mirrored devices
against one process, for one model per train_step: test_every_train_step.py.)
"""

import json
import re
import sys

import numpy as np
import pytest

from tests.helpers import REPO
from tfgen.training import local_cluster, trainer
from tfgen.training import workdir as wd

STEPS = 9
# Batch 256 makes an epoch 6 steps, so every run crosses an epoch end
# (validation, checkpoint, the chief's callbacks) in the middle.
OPTIONS = dict(
    model="pixelrnn", config="tiny", steps=STEPS, batch_size=256, checkpoint_every=4, num_previews=0, export=False
)
# Observed differences are ~1e-7 (summation order); a wrong data slice or a
# missing gradient reduction moves weights by ~1e-3 in 9 steps.
ATOL = 2e-5


def weights(workdir):
    model, _, step = wd.load_model(workdir)
    assert step == STEPS
    return [v.numpy() for v in model.weights]


def assert_close(a, b):
    assert len(a) == len(b)
    worst = max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))
    assert worst < ATOL, f"weights differ by up to {worst}"
    return worst


def digest(stdout):
    return re.search(r"weights sha256 ([0-9a-f]{64})", stdout).group(1)


@pytest.fixture(scope="module")
def single_process(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("single") / "run"
    trainer.train(trainer.TrainOptions(**OPTIONS, workdir=str(workdir), verbose=False))
    return weights(workdir)


# Two workers through the library, the chief with slow work of its own before
# the first step and at the epoch end (as a GAN's sample grids are).
SLOW_CHIEF = """
import json, sys, time
import keras
from tfgen.training import trainer

class SlowChief(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        time.sleep(float(sys.argv[2]))

    def on_epoch_end(self, epoch, logs=None):
        time.sleep(float(sys.argv[2]))

options = dict(json.loads(sys.argv[3]), workdir=sys.argv[1], strategy="multi_worker", collective_timeout=4)
summary = trainer.train(trainer.TrainOptions(**options, callbacks=(SlowChief(),)))
print("weights sha256", summary["weights_sha256"])
"""


@pytest.mark.long
def test_two_workers_with_a_slow_chief_match_each_other_and_a_single_process(single_process, tmp_path):
    """The chief pauses 6 s before the first step and at the epoch end (step 6 of 9); the step timeout is 4 s.

    Only the chief runs callbacks, so the other worker reaches the first step
    and the step after the epoch end 6 s early, and waits there. A timeout
    that covered those waits would kill this healthy cluster.
    """
    workdir = tmp_path / "run"
    # With pictures on, the model's monitor (its epoch grid) runs too, and must write on the chief only.
    command = [sys.executable, "-c", SLOW_CHIEF, str(workdir), "6", json.dumps({**OPTIONS, "num_previews": 1})]
    outputs = local_cluster.run(command, num_workers=2, cwd=REPO, timeout=300)
    assert [code for code, _, _ in outputs] == [0, 0], "\n\n".join(err[-3000:] for _, _, err in outputs)
    chief_digest, worker_digest = (digest(out) for _, out, _ in outputs)
    assert chief_digest == worker_digest  # bit-identical replicas
    # Only the chief wrote checkpoints; the other worker's scratch is gone.
    assert not list((workdir / ".worker-tmp").glob("*/ckpt*"))
    # Only the chief wrote summaries: one event file per log, none from the other worker's monitors.
    event_files = sorted(p.relative_to(workdir / "logs").parent.name for p in (workdir / "logs").rglob("events.out.*"))
    assert event_files == ["samples", "train", "validation"], event_files
    assert_close(weights(workdir), single_process)


@pytest.mark.long
def test_killed_worker_fails_the_cluster_cleanly_and_a_restart_resumes(tmp_path):
    """A dead peer must not hang the others; restarting all workers resumes from the chief's checkpoint."""
    import signal
    import subprocess
    import time

    import tensorflow as tf

    workdir = tmp_path / "run"
    command = [
        sys.executable,
        str(REPO / "tools" / "train.py"),
        "--model=pixelrnn",
        "--config=tiny",
        "--steps=60",
        "--checkpoint_every=10",
        "--noexport",
        "--num_previews=0",
        "--strategy=multi_worker",
        "--collective_timeout=12",
        f"--workdir={workdir}",
    ]

    def latest():
        path = tf.train.latest_checkpoint(str(workdir / "checkpoints"))
        return int(path.rsplit("-", 1)[1]) if path else 0

    procs = [
        subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=dict(__import__("os").environ, TF_CONFIG=config),
        )
        for config in local_cluster.tf_configs(2)
    ]
    deadline = time.time() + 240
    while latest() < 20 and time.time() < deadline:
        assert procs[0].poll() is None, procs[0].communicate()[1][-2000:]
        time.sleep(0.05)
    procs[1].send_signal(signal.SIGKILL)
    _, err = procs[0].communicate(timeout=180)  # the survivor gives up instead of hanging
    procs[1].wait()
    assert procs[0].returncode != 0 and "a peer worker died or stopped answering" in err, err[-2000:]
    killed_at = latest()
    assert 20 <= killed_at < 60  # killed mid-run, not after the end

    outputs = local_cluster.run(command, num_workers=2, cwd=REPO, timeout=300)
    for code, _, err in outputs:
        assert code == 0, err[-3000:]
    assert f"at step {killed_at}" in outputs[0][1]
    assert digest(outputs[0][1]) == digest(outputs[1][1])
    assert latest() == 60  # the restarted cluster ran to the end
