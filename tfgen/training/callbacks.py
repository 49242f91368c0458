"""Keras callbacks the trainer runs on the chief for a model's `monitors`, and the user's own.

A sampler (GAN, energy model, autoregressive model) has no single number that
shows what it draws, so these look at what it produces:

* `SampleGrids`: at every epoch end, the model's pictures from its fixed
  probe noise, to TensorBoard (logs/samples) and to
  `<workdir>/progress/<name>-epoch<N>.png`, so a run can be followed (and
  compared epoch to epoch) on the same latent points.
* `ModeCollapseAlarm`: compares the diversity of the generated batch with the
  diversity of the real batch (both reported by the model's `train_step` as
  `fake_diversity` and `real_diversity`: mean pairwise RMS pixel distance).
  When the ratio, averaged over a window of steps, falls below a threshold,
  it logs a warning and records the step in `<workdir>/alarms.json` and in
  TensorBoard. A collapsed generator emits near-identical images whatever the
  noise, so its ratio drops towards 0 while a healthy one stays near 1.
* `CodeMap`: a latent model's codes of the validation split as a picture,
  `<workdir>/code_map.png`, at the end of training.

The trainer runs these on the chief only, so only the chief writes summaries.
"""

import json
import logging
from collections import deque
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfgen import visualize

log = logging.getLogger("tfgen")
ALARMS_FILE = "alarms.json"


def read_alarms(workdir):
    path = Path(workdir) / ALARMS_FILE
    return json.loads(path.read_text()) if path.is_file() else []


class SampleGrids(keras.callbacks.Callback):
    """Writes `model.probe_pictures(palette)` ({name: RGB uint8}) every `every` epochs.

    Probe pictures come from fixed noise, so successive grids differ only by
    what the model learnt.

    Args:
        workdir: the run's workdir.
        palette: the data's palette, for models that draw palette indices.
        every: epochs between pictures. Defaults to 1.
    """

    def __init__(self, workdir, palette=None, every=1):
        super().__init__()
        self.workdir = Path(workdir)
        self.palette = palette
        self.every = int(every)
        self.writer = None

    def on_train_begin(self, logs=None):
        self.writer = tf.summary.create_file_writer(str(self.workdir / "logs" / "samples"))

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        step = int((logs or {}).get("step", epoch + 1))
        with self.writer.as_default(step=step):
            for name, rgb in self.model.probe_pictures(self.palette).items():
                visualize.save_png(self.workdir / "progress" / f"{name}-epoch{epoch + 1:04d}.png", rgb)
                tf.summary.image(name, rgb[None])
        self.writer.flush()


class ModeCollapseAlarm(keras.callbacks.Callback):
    """Warns when generated samples are far less diverse than the data.

    A fresh generator maps all noise to nearly the same image, and a healthy
    one takes a while to spread out (binarized MNIST, default DCGAN: the
    ratio goes 0.41, 0.31 at step 200, 0.48 at 400, 0.88 at 800, then stays
    near 0.9). So the alarm is armed once the ratio has reached `rearm`, or at
    the latest at step `max_warmup` (a generator that never spreads out is
    collapsed from the start); after firing it re-arms when the ratio
    recovers above `rearm`.

    Args:
        workdir: where alarms.json goes (None: keep alarms in memory only).
        threshold: fire when mean(fake_diversity) / mean(real_diversity) over
            the window falls below it. Defaults to 0.35.
        window: steps averaged. Defaults to 50.
        warmup: steps before the alarm can be armed. Defaults to 100.
        max_warmup: step by which it is armed in any case. Defaults to 1000.
        rearm: the ratio of a diverse generator, see above. Defaults to 0.6.
    """

    def __init__(self, workdir=None, threshold=0.35, window=50, warmup=100, max_warmup=1000, rearm=0.6):
        super().__init__()
        self.workdir = Path(workdir) if workdir is not None else None
        self.threshold, self.rearm = float(threshold), float(rearm)
        self.window, self.warmup, self.max_warmup = int(window), int(warmup), int(max_warmup)
        self.fake, self.real = deque(maxlen=self.window), deque(maxlen=self.window)
        self.armed = True
        self.diverse_once = False
        self.alarms = []
        self.writer = None
        self._count, self._previous = 0, None

    def on_train_begin(self, logs=None):
        if self.workdir is not None:
            self.writer = tf.summary.create_file_writer(str(self.workdir / "logs" / "alarms"))
            self.alarms = read_alarms(self.workdir)

    def on_epoch_begin(self, epoch, logs=None):
        self._count, self._previous = 0, None

    def ratio(self):
        return float(np.mean(self.fake) / max(np.mean(self.real), 1e-12))

    def _step_values(self, logs):
        # train_step reports running means over the epoch (Keras Mean
        # trackers, reset at each epoch start); the alarm needs this step's
        # own values, or a collapse late in an epoch would be averaged away.
        # With n steps so far, x_n = n m_n - (n - 1) m_{n-1}.
        current = (float(logs["fake_diversity"]), float(logs["real_diversity"]))
        n = self._count = self._count + 1
        previous = self._previous if self._previous is not None else (0.0, 0.0)
        self._previous = current
        return tuple(n * c - (n - 1) * p for c, p in zip(current, previous))

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        if "fake_diversity" not in logs or "real_diversity" not in logs:
            return
        step = int(batch)  # the trainer passes the global step
        fake, real = self._step_values(logs)
        self.fake.append(fake)
        self.real.append(real)
        if len(self.fake) < self.window or step < self.warmup:
            return
        ratio = self.ratio()
        if self.writer is not None and step % 10 == 0:
            with self.writer.as_default(step=step):
                tf.summary.scalar("diversity_ratio", ratio)
        self.diverse_once = self.diverse_once or ratio >= self.rearm
        if not (self.diverse_once or step >= self.max_warmup):
            return
        if self.armed and ratio < self.threshold:
            self.armed = False
            self._fire(step, ratio)
        elif not self.armed and ratio > self.rearm:
            self.armed = True

    def _fire(self, step, ratio):
        message = (
            f"mode collapse suspected at step {step}: generated samples are {ratio:.2f} times as diverse as "
            f"the data (mean pairwise distance over the last {self.window} steps; alarm below {self.threshold})"
        )
        log.warning(message)
        print(f"WARNING: {message}", flush=True)
        self.alarms.append({"step": step, "kind": "mode_collapse", "diversity_ratio": round(ratio, 4)})
        if self.workdir is not None:
            path = self.workdir / ALARMS_FILE
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.alarms, indent=2))
            tmp.replace(path)
            with self.writer.as_default(step=step):
                tf.summary.text("alarm", message)
            self.writer.flush()


class CodeMap(keras.callbacks.Callback):
    """Writes <workdir>/code_map.png at the end of training: the model's codes of the validation split."""

    def __init__(self, workdir, limit=None):
        super().__init__()
        self.workdir = Path(workdir)
        self.limit = limit

    def on_train_end(self, logs=None):
        from tfgen import data as tfdata
        from tfgen.training import workdir as wd

        run = wd.read_run(self.workdir)
        images, _ = tfdata.load(run.dataset, "validation", run.data_dir)
        title = f"{run.model}/{run.config_name}: {run.dataset} validation codes"
        visualize.save_png(self.workdir / "code_map.png", self.model.code_map_picture(images, title, self.limit))


# What a model's `monitors` names: each entry builds a callback from the workdir and the DataSpec.
MONITORS = {
    "sample_grids": lambda workdir, data_spec: SampleGrids(workdir, data_spec.palette),
    "mode_collapse": lambda workdir, data_spec: ModeCollapseAlarm(workdir),
    "code_map": lambda workdir, data_spec: CodeMap(workdir),
}
# Monitors that only draw pictures: a run told to write none (`--num_previews=0`) skips them.
PICTURE_MONITORS = frozenset({"sample_grids", "code_map"})


def for_model(model, workdir, data_spec, pictures=True):
    """The callbacks of the monitors `model` asks for (class attribute `monitors`); without `pictures`,
    only those that watch numbers (the mode-collapse alarm)."""
    unknown = [m for m in model.monitors if m not in MONITORS]
    if unknown:
        raise ValueError(f"{type(model).__name__}.monitors names unknown monitors {unknown}; known: {sorted(MONITORS)}")
    wanted = [m for m in model.monitors if pictures or m not in PICTURE_MONITORS]
    return [MONITORS[m](Path(workdir), data_spec) for m in wanted]
