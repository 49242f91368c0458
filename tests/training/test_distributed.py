"""The same tiny run under every strategy ends with the same weights.

Data order is a function of (seed, epoch) and each replica takes its slice of
the same global batch, so two workers, two mirrored devices and one process
take identical optimizer steps up to floating-point summation order.
"""

import json
import re
import sys

import numpy as np
import pytest

from tests.conftest import REPO, run_tool
from tfgen.training import local_cluster
from tfgen.training import workdir as wd

STEPS = 12
ARGS = ["--model=pixelrnn", "--config=tiny", f"--steps={STEPS}", "--checkpoint_every=4", "--noexport"]
# Observed differences are ~1e-7 (summation order); a wrong data slice or a
# missing gradient reduction moves weights by ~1e-2 after 12 steps.
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
    run_tool("train", *ARGS, f"--workdir={workdir}")
    return weights(workdir)


def test_two_workers_match_each_other_and_a_single_process(single_process, tmp_path):
    workdir = tmp_path / "run"
    command = [
        sys.executable,
        str(REPO / "tools" / "train.py"),
        *ARGS,
        "--strategy=multi_worker",
        f"--workdir={workdir}",
    ]
    outputs = local_cluster.run(command, num_workers=2, cwd=REPO, timeout=300)
    for code, _, err in outputs:
        assert code == 0, err[-3000:]
    chief_digest, worker_digest = (digest(out) for _, out, _ in outputs)
    assert chief_digest == worker_digest  # bit-identical replicas
    # Only the chief wrote checkpoints; the other worker's scratch is gone.
    assert not list((workdir / ".worker-tmp").glob("*/ckpt*"))
    assert_close(weights(workdir), single_process)


def test_mirrored_on_two_logical_cpus_matches_default(single_process, tmp_path):
    workdir = tmp_path / "run"
    proc = run_tool("train", *ARGS, "--strategy=mirrored", "--num_cpu_devices=2", f"--workdir={workdir}")
    assert json.loads((workdir / "summary.json").read_text())["replicas"] == 2, proc.stdout
    assert_close(weights(workdir), single_process)


def test_xla_under_a_distributed_strategy_is_refused_clearly(tmp_path):
    proc = run_tool(
        "train", *ARGS, "--strategy=mirrored", "--jit_compile", f"--workdir={tmp_path / 'run'}", check=False
    )
    assert proc.returncode != 0 and "XLA cannot compile a step that reads variables mirrored" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_multi_worker_without_tf_config_is_refused(tmp_path):
    proc = run_tool("train", *ARGS, "--strategy=multi_worker", f"--workdir={tmp_path / 'run'}", check=False)
    assert proc.returncode != 0 and "needs TF_CONFIG" in proc.stderr


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
        "--steps=300",
        "--checkpoint_every=20",
        "--noexport",
        "--num_previews=0",
        "--strategy=multi_worker",
        "--collective_timeout=15",
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
    while latest() < 40 and time.time() < deadline:
        assert procs[0].poll() is None, procs[0].communicate()[1][-2000:]
        time.sleep(0.05)
    procs[1].send_signal(signal.SIGKILL)
    _, err = procs[0].communicate(timeout=180)  # the survivor gives up instead of hanging
    procs[1].wait()
    assert procs[0].returncode != 0 and "a peer worker died or stopped answering" in err, err[-2000:]
    killed_at = latest()
    assert 40 <= killed_at < 300  # killed mid-run, not after the end

    outputs = local_cluster.run(command, num_workers=2, cwd=REPO, timeout=300)
    for code, _, err in outputs:
        assert code == 0, err[-3000:]
    assert f"at step {killed_at}" in outputs[0][1]
    assert digest(outputs[0][1]) == digest(outputs[1][1])
    assert latest() == 300  # the restarted cluster ran to the end
