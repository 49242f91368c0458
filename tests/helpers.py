"""Helpers the test modules share (test modules never import each other).

Tiny models of the registry, the shared data folder, running a tool in a
subprocess, fake runs for exports, comparing a served output with the model's.
"""

import os
import pickle
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfgen import locks, registry
from tfgen.export import saved_model, web_page
from tfgen.training.workdir import Run

REPO = Path(__file__).resolve().parents[1]


def is_ci(value):
    """Whether a CI environment variable's value means "running under CI" (CI=true, as most CI sets it, or CI=1)."""
    return (value or "").strip().lower() in ("true", "1", "yes")


IN_CI = is_ci(os.environ.get("CI"))

# Models whose train_step draws random numbers (reparameterisation noise, word
# dropout, generator noise, Langevin chains). Every other model's step is a
# deterministic function of its weights and batch.
STOCHASTIC_TRAINING = {"vae", "draw", "sentence_vae", "dcgan", "gran", "energy", "pixelcnn"}  # pixelcnn: dropout

# One model per train_step implementation, for the registry-wide checks of what that implementation
# and the trainer own (Keras `fit`, bit-exact resume, the mirrored comparison), chosen for the training
# noise and state its tiny config draws: GRAN for the adversarial step (its tiny config switches on every
# stabiliser; DCGAN's a subset), pixelcnn for the autoregressive step (its dropout is the Row LSTM's and
# the Diagonal BiLSTM's; their layers, PixelRNN's and WaveNet's draw no training noise in their tiny
# configs). Models registered from outside tfgen are always included. The other five built-in models
# share these steps; what is theirs alone (layers, signatures, exports, samplers) is checked per model.
TRAIN_STEP_MODELS = {"autoencoder", "draw", "energy", "gran", "pixelcnn", "sentence_vae", "vae"} | {
    n for n in registry.names() if not registry.get(n).cls.__module__.startswith("tfgen.")
}


def train_step_owner(name):
    """The class whose train_step `name` trains with."""
    return next(k for k in registry.get(name).cls.__mro__ if "train_step" in vars(k))


def shared_data_root():
    """$TFGEN_DATA, else the `shared/data` folder beside the checkout (../shared/data)."""
    root = os.environ.get("TFGEN_DATA")
    return Path(root) if root else REPO.parent / "shared" / "data"


def require_shared(subpath):
    """Path under the shared data folder; skips (fails under CI=true) if absent."""
    path = shared_data_root() / subpath
    if not path.exists():
        message = f"shared data {path} is absent (set TFGEN_DATA to the folder holding pokemon/, tfds/, ptb/, speech/)"
        if IN_CI:
            pytest.fail(message + "; under CI it must be there")
        pytest.skip(message)
    return path


def shared_tmp(tmp_path_factory):
    """This test run's temporary folder that every pytest-xdist worker sees (each has its own below it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def build_once(tmp_path_factory, name, build):
    """build(folder) run once per test run, its value shared by the pytest-xdist workers.

    A module fixture runs in every worker that is given one of the module's tests, and pytest-xdist
    often splits a module between both: an expensive fixture (an export, a training) would be built
    twice. Here the first worker to ask builds it under a file lock and pickles its value; the other
    waits, then reads that value and the folder. The folder is read-only to the tests that share it.
    """
    root = shared_tmp(tmp_path_factory) / "built_once" / name
    root.mkdir(parents=True, exist_ok=True)
    record = root / "value.pickle"
    with locks.exclusive(root / ".lock"):
        if not record.exists():
            value = build(root / "folder")
            record.write_bytes(pickle.dumps(value))
            return value
    return pickle.loads(record.read_bytes())


# Default datasets that live in the shared data folder; every other model trains on the embedded digits in tests.
SHARED_DATASETS = {"ptb": "ptb", "speech": "speech"}


def tiny_training_data(name):
    """Dataset options for a tiny training run of `name`: digits, or its own data when digits will not do."""
    dataset = registry.get(name).default_dataset
    if dataset in SHARED_DATASETS:
        return dict(dataset=dataset, data_dir=str(require_shared(SHARED_DATASETS[dataset])))
    return dict(dataset="digits")


def run_tflite_sample_without_tensorflow(tflite_file, cwd, *args):
    """Runs tools/tflite_sample.py (the on-device path) in a fresh process and asserts it loaded no TensorFlow."""
    argv = ["tflite_sample.py", f"--model={tflite_file}", *map(str, args)]
    script = (
        "import runpy, sys\n"
        f"sys.argv = {argv!r}\n"
        f"runpy.run_path({str(REPO / 'tools' / 'tflite_sample.py')!r}, run_name='__main__')\n"
        "loaded = sorted(m for m in sys.modules if m == 'tensorflow' or m.startswith(('tensorflow.', 'keras')))\n"
        "assert not loaded, loaded\n"
        "print('no tensorflow')\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=cwd, timeout=120)
    assert proc.returncode == 0 and "no tensorflow" in proc.stdout, proc.stderr[-3000:]
    return proc


def run_tool(tool, *args, timeout=600, check=True):
    """Runs tools/<tool>.py in a subprocess; returns CompletedProcess (text)."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / f"{tool}.py"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"tools/{tool}.py failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
        )
    return proc


def tiny(name, spec=None, seed=0):
    """The model's tiny config, built for its conformance spec (or `spec`)."""
    keras.utils.set_random_seed(seed)
    cls = registry.get(name).cls
    model = registry.get(name).build(spec or cls.conformance_spec(), "tiny")
    return model


def batch_for(model, n, seed=0):
    cls = type(model)
    return cls.example_batch(cls.conformance_spec(), n, seed)


def fake_run(name, spec=None):
    spec = spec or registry.get(name).cls.conformance_spec()
    return Run(name, "tiny", {}, spec.name, None, spec, 0)


def requests_for(model, num=4, seed=5):
    return {sig.name: (sig, saved_model.example_inputs(sig, num=num, seed=seed)) for sig in model.signatures()}


def expected(sig, inputs, fn=None):
    """What the Keras model answers: `sig.expected` (eager), or `fn` (e.g. that reference traced)."""
    args = [tf.constant(inputs[i.name]) for i in sig.inputs]
    return {k: v.numpy() for k, v in (fn or sig.expected)(*args).items()}


def assert_matches(sig, got, want, rtol):
    assert set(got) == set(want)
    for k in want:
        if k in sig.exact_outputs:
            np.testing.assert_array_equal(got[k], want[k], err_msg=f"{sig.name}/{k} differs")
        else:
            # Relative to the output's scale, not only elementwise: a value near zero
            # by cancellation (a code from a sum of larger terms) carries the
            # absolute rounding error of those terms, which depends on summation order.
            scale = float(np.max(np.abs(want[k]))) if np.size(want[k]) else 0.0
            np.testing.assert_allclose(got[k], want[k], rtol=rtol, atol=rtol * scale, err_msg=f"{sig.name}/{k} drifts")


def record_discriminator_inputs(model, monkeypatch):
    """A list that fills with every image batch the (real) discriminator is called on, in call order."""
    seen = []
    discriminate = model.discriminate

    def recording(images, **kwargs):
        seen.append(images.numpy())
        return discriminate(images, **kwargs)

    monkeypatch.setattr(model, "discriminate", recording)
    return seen


def write_sprites(folder, n=12, size=8, seed=0):
    """Sprites drawn from 4 known colours, with a transparent border."""
    rng = np.random.default_rng(seed)
    colours = np.array([[250, 10, 10], [10, 250, 10], [10, 10, 250], [0, 0, 0]], np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        rgba = np.zeros((size, size, 4), np.uint8)
        rgba[1:-1, 1:-1, :3] = colours[rng.integers(0, 4, (size - 2, size - 2))]
        rgba[1:-1, 1:-1, 3] = 255
        Image.fromarray(rgba, "RGBA").save(folder / f"{i:03d}.png")
    return colours


def require_browser():
    """Skips (fails under CI=true) unless Chromium, Playwright and the page's LiteRT.js are installed."""
    missing = []
    if not web_page.CHROMIUM.is_file():
        missing.append(f"{web_page.CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install -e '.[test]')")
    if not (REPO / "web" / "node_modules" / "@litertjs" / "core").is_dir():
        missing.append("web/node_modules (npm ci --prefix web)")
    if missing:
        message = "the browser tests need " + ", ".join(missing)
        if IN_CI:
            pytest.fail(message + "; .ci/run installs them")
        pytest.skip(message)


def open_page(browser, url, timeout=120_000):
    """Opens the sampling page at `url` and waits until it is done (ready, without run=1) or shows an error."""
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    web_page.wait_for(page, ("done", "error") if "run=1" in url else ("ready", "error"), timeout)
    assert not errors, errors
    return page


def canvas_rgb(page, selector="#canvas"):
    """The RGB pixels of a canvas on the page: uint8 [H, W, 3]."""
    height, width, data = page.evaluate(
        """(selector) => {
            const c = document.querySelector(selector);
            return [c.height, c.width, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)];
        }""",
        selector,
    )
    return np.asarray(data, np.uint8).reshape(height, width, 4)[..., :3]
