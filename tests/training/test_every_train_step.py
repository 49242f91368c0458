"""Every kind of train_step resumes exactly and trains under `mirrored` as in one process.

For one model per train_step implementation (`tests.helpers.TRAIN_STEP_MODELS`,
which a test below keeps so as models are added), one fresh process runs a
4-step reference training (checkpoints at steps 2 and 4), the reference rewound
to its step-2 checkpoint and resumed, i.e. what a run interrupted between steps
2 and 4 leaves behind, and the same training under `mirrored` on two logical
CPU devices. Every model registered from outside tfgen is included.

What is checked here belongs to the train_step and the trainer (the state a
checkpoint carries, the noise a step draws, how a step splits across replicas),
so one model per implementation covers it; the models chosen have the tiny
configs that draw the most training noise and carry the most state. The other
five built-in models (dcgan, diagonal_bilstm, pixelrnn, row_lstm, wavenet) train
with GRAN's or pixelcnn's step and are left out for the suite's time (about 70 s
together; docs/RESULTS.md). PixelRNN is also resumed after a real exception
(test_resume.py) and a SIGKILL (test_resilience.py).

Resumed: training is deterministic, so the resumed run must end bit-identical
to the reference (compared by weights digest; one ulp anywhere counts).

Mirrored: the strategy splits each batch across replicas. Training noise is
drawn per example, not per replica (`tfgen.models.base.replica_rows`), so a
mirrored run is the single-process run up to summation order, and must end
within ATOL of the reference: a train_step that assumes one replica (a state
update not combined across replicas, a wrong slice of the batch or of its
noise) ends elsewhere. The tiny configs switch on what draws noise
(pixelcnn's dropout, GRAN's augmentation, gradient penalty and batch-centred
canvas reading, sentence-VAE free bits) so that it is covered. Not caught: PixelRNN's time-major dropout
(its tiny config has none), and a small batch statistic taken per replica
(the autoencoder's per-replica code variance moves its weights by 3e-7 in 2
steps). Adam's update is nearly invariant to the loss's scale, so a loss not
divided by the replica count would not show in the weights;
`losses.replica_mean` is tested by hand in tests/losses.

The process runs TensorFlow with one intra-op thread
(TF_NUM_INTRAOP_THREADS=1). oneDNN's kernels split their work by the threads
that take part, which varies on a loaded machine, and so vary run to run: a
tiny GRAN run repeated 10 times under load ended once 2.3e-3 away from the
others (Adam turns a one-ulp change in a near-zero gradient into a step of
the learning rate's size), while 12 runs with one thread were identical.
With the default threads neither comparison could tell a tfgen bug from
that noise; the properties checked here are tfgen's, not the kernels'.
(On a CPU without AVX-512 TensorFlow leaves oneDNN off and this runs on its
own kernels; the suite passes on both.)

The process also runs with one inter-op thread and with Grappler, TensorFlow's
graph optimizer, switched off. With Grappler on, GRAN's tiny training was not
repeatable from one process to the next on a loaded machine (three busy loops
beside it), even with one thread of each kind: 3 of 27 runs of this driver for
GRAN alone ended elsewhere (twice the reference itself, once the resumed run),
while 20 trainings repeated inside one process were identical, as was every
piece of its step run 300 times. So the variation is fixed when a process
optimizes the step's graph, not by tfgen's code; with Grappler off, 30 of 30
runs under the same load were identical. GRAN's step is the largest graph of
the registry (an unrolled canvas loop and a gradient penalty's second derivatives).

Splitting the CPU into two devices must happen before TensorFlow starts, so
the trainings run in a fresh process, one after another under the process's
one MirroredStrategy (which also checks that a process can run several
mirrored trainings); the single-process runs use the first of its two devices.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import REPO, TRAIN_STEP_MODELS, tiny_training_data, train_step_owner
from tfgen import registry

DRIVER = """
import importlib, json, shutil, sys, time
import tensorflow as tf
tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})  # see the module docstring
from tfgen.training import strategies, trainer
from tfgen.training import workdir as wd

strategies.configure_cpu_devices(2)
results = {}
for name, module, data, workdir in json.loads(sys.argv[1]):
    start = time.time()
    importlib.import_module(module)  # registers a model from outside tfgen (tests/example_model.py)
    def train(path, **changes):
        return trainer.train(trainer.TrainOptions(**{**dict(
            model=name, config="tiny", workdir=path, steps=4, checkpoint_every=2, num_cpu_devices=2,
            num_previews=0, export=False, verbose=False), **data, **changes}))

    reference = train(workdir + "/reference")
    shutil.copytree(workdir + "/reference", workdir + "/interrupted")
    checkpoints = workdir + "/interrupted/checkpoints"
    for f in wd.checkpoint_files(checkpoints + "/ckpt-4"):
        f.unlink()
    wd.rewind_checkpoint_state(checkpoints, checkpoints + "/ckpt-2")
    resumed = train(workdir + "/interrupted")
    results[name] = {
        "resumed_steps": resumed["steps_this_run"],
        "resumed_identical": resumed["weights_sha256"] == reference["weights_sha256"],
    }
    mirrored = train(workdir + "/mirrored", strategy="mirrored")
    a, b = (wd.load_model(workdir + w)[0].weights for w in ("/mirrored", "/reference"))
    results[name] |= {
        "mirrored": {k: mirrored[k] for k in ("replicas", "steps", "strategy")},
        "max_weight_difference": max(float(abs(x.numpy() - y.numpy()).max()) for x, y in zip(a, b, strict=True)),
        "seconds": round(time.time() - start, 1),
    }
print(json.dumps(results))
"""

# Summation order differs between one device and two, and Adam magnifies it in near-zero gradients:
# measured after 4 steps with Grappler off, 1.3e-5 for the VAE, 3.3e-6 for the sentence VAE, 2.7e-6 for
# WaveNet, 8e-7 for the energy model and at most 2.4e-7 for the others. A wrong batch or noise slice,
# or state kept per replica, moves weights by 1e-3 or more.
ATOL = 5e-5
BUILT_IN = [n for n in registry.names() if registry.get(n).cls.__module__.startswith("tfgen.")]
# The built-in models of TRAIN_STEP_MODELS in two groups of about equal cost (seconds measured on a
# 2-core EPYC: GRAN 41, energy 6, autoencoder 7; DRAW 18, sentence VAE 23, pixelcnn 11, VAE 8), so that
# the two pytest-xdist workers share the work, and each model registered from outside tfgen on its own
# (selected by name in tests/test_add_a_model.py).
GROUPS = [["gran", "energy", "autoencoder"], ["draw", "sentence_vae", "pixelcnn", "vae"]] + [
    [n] for n in registry.names() if n not in BUILT_IN
]
IDS = ["first-half", "second-half"] + [names[0] for names in GROUPS[2:]]


@pytest.mark.long
@pytest.mark.parametrize("names", GROUPS, ids=IDS)
def test_every_train_step_resumes_exactly_and_trains_under_mirrored(names, tmp_path):
    runs = [[n, registry.get(n).cls.__module__, tiny_training_data(n), str(tmp_path / n)] for n in names]
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(runs)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO,
        env=dict(os.environ, TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1"),
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    print("seconds per model:", {name: results[name]["seconds"] for name in names})
    for name in names:
        assert results[name]["resumed_steps"] == 2, name
        assert results[name]["resumed_identical"], f"{name}: the resumed run does not end with the reference's weights"
        assert results[name]["mirrored"] == {"replicas": 2, "steps": 4, "strategy": "mirrored"}, name
    differences = {name: results[name]["max_weight_difference"] for name in names}
    print("largest weight difference, mirrored against single process:", differences)
    assert all(d < ATOL for d in differences.values()), differences


def test_the_groups_are_one_model_per_train_step_and_cover_every_one():
    assert sorted(sum(GROUPS, [])) == sorted(TRAIN_STEP_MODELS)
    owners = {train_step_owner(n) for n in registry.names()}
    missing = owners - {train_step_owner(n) for n in TRAIN_STEP_MODELS}
    assert not missing, f"no model in TRAIN_STEP_MODELS trains with {sorted(k.__qualname__ for k in missing)}"
