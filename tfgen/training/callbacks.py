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
* `SampleQuality`: at every epoch end, precision, recall and FID of the
  model's samples against training images on the dataset's feature network
  (`tfgen.quality.features`), to TensorBoard (logs/quality) and
  `<workdir>/quality.json`, and the mode-dropping alarm: a generator that
  draws varied images of too few kinds keeps the diversity ratio near 1, but
  not its recall.
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
from tfgen.data import colours
from tfgen.quality import features
from tfgen.quality import sample_quality as sq
from tfgen.quality.samples import generate_colours
from tfgen.training.options import TrainOptions

log = logging.getLogger("tfgen")
ALARMS_FILE = "alarms.json"
QUALITY_FILE = "quality.json"


def read_alarms(workdir):
    path = Path(workdir) / ALARMS_FILE
    return json.loads(path.read_text()) if path.is_file() else []


def _write_json(path, value):
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, indent=2))
    tmp.replace(path)


def raise_alarm(workdir, writer, step, entry, message):
    """Logs an alarm and appends `entry` to <workdir>/alarms.json (read again first: two monitors write it)."""
    log.warning(message)
    print(f"WARNING: {message}", flush=True)
    if workdir is None:
        return
    _write_json(Path(workdir) / ALARMS_FILE, [*read_alarms(workdir), entry])
    with writer.as_default(step=step):
        tf.summary.text("alarm", message)
    writer.flush()


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
        entry = {"step": step, "kind": "mode_collapse", "diversity_ratio": round(ratio, 4)}
        self.alarms.append(entry)
        raise_alarm(self.workdir, self.writer, step, entry, message)


class SampleQuality(keras.callbacks.Callback):
    """Scores the model's samples at every epoch end; warns when their recall drops.

    The mode-collapse alarm measures pixel diversity within a batch, so it
    cannot see a generator that draws good, varied images of too few kinds
    (binarized MNIST, GRAN with 5 drawing steps at learning rate 8e-4: recall
    0.175 at the end, diversity ratio near 1, no alarm). Recall, the share of
    real images whose neighbourhood in feature space holds a sample, does.

    Every epoch: `num` samples from a fixed seed, scored against `num` fixed
    training images on the dataset's feature network (trained on first use
    and cached): precision, recall and FID, and recall divided by the recall
    of `num` other training images (the most a sampler can reach at this N).
    The numbers go to TensorBoard (logs/quality) and `<workdir>/quality.json`.
    They are for following a run: scores at this N are not the evaluation's
    (`tools/evaluate.py`, validation split, N = 10,000).

    The mode-dropping alarm fires when that recall ratio falls below
    `threshold` after it had reached `rearm` (kinds lost in training), and at
    the end of training if the last epoch's ratio is below `threshold` (kinds
    never found). It does not fire earlier on a low ratio alone: a generator
    in the making covers few kinds for several epochs (GRAN at 28x28: recall
    0.16-0.26 after 1,200 steps, above 0.6 at the end, both at N = 2,000 or more). After firing it
    re-arms when the ratio recovers above `rearm`.

    The ratio depends on N: with fewer images every k-NN ball is wider, so an
    imperfect generator's recall is read higher while real images' stays
    near 0.89. The defaults were calibrated on 10 finished binarized-MNIST
    GAN runs against their evaluation (N = 10,000, validation; docs/RESULTS.md):
    at N = 1,000 the ratio of a run with evaluation recall 0.175 read 0.50-0.56
    and of one with 0.48 read 0.68-0.70, level with runs that reached 0.6
    (0.74-0.85), so no threshold told them apart; at N = 2,000 they read
    0.38-0.43 and 0.63-0.66, runs with recall 0.57-0.58 0.69-0.73, and every
    run at 0.6 or more 0.75 or more. The threshold 0.68 fires for the first two.
    On the embedded digits (N = 300) real digits of 5 of the 10 kinds score a
    ratio of about 0.6 and of 6 kinds 0.72-0.75: the alarm sees a generator
    that lost half the kinds, not one or two.

    Args:
        workdir: the run's workdir (None: keep scores and alarms in memory).
        dataset, data_dir: the training data, as `tfgen.data.load` takes them.
        palette: the data's palette.
        num: samples and training images per score (default: `--quality_samples`'s).
            Skipped, with a log line, when the training split has fewer than 2 * num images.
        threshold: alarm below this recall ratio. Defaults to 0.68 (for N = 2,000).
        rearm: the ratio of a generator that covers the data. Defaults to 0.75.
        seed: of the samples and of the choice of training images.
    """

    def __init__(
        self, workdir, dataset, data_dir, palette, num=TrainOptions.quality_samples, threshold=0.68, rearm=0.75, seed=0
    ):
        super().__init__()
        self.workdir = Path(workdir) if workdir is not None else None
        self.dataset, self.data_dir, self.palette = dataset, data_dir, palette
        self.num, self.seed = int(num), int(seed)
        self.threshold, self.rearm = float(threshold), float(rearm)
        self.armed, self.covered_once = True, False
        self.scores, self.alarms = [], []
        self.writer = tf.summary.create_noop_writer()
        self.extractor = self.real_features = None

    def on_train_begin(self, logs=None):
        train, _ = features.load_colours(self.dataset, "train", self.data_dir)
        if len(train) < 2 * self.num:
            log.info(f"sample quality: not scored ({len(train)} training images, fewer than 2 x {self.num})")
            return
        if self.workdir is not None:
            self.writer = tf.summary.create_file_writer(str(self.workdir / "logs" / "quality"))
            path = self.workdir / QUALITY_FILE
            self.scores = json.loads(path.read_text()) if path.is_file() else []
            # A resumed run goes on from the alarm's state at the checkpoint's epoch end.
            fired = [a["step"] for a in read_alarms(self.workdir) if a["kind"] == "mode_dropping"]
            self.covered_once = any(r["recall_ratio"] >= self.rearm for r in self.scores)
            self.armed = not fired or any(r["step"] > fired[-1] and r["recall_ratio"] > self.rearm for r in self.scores)
        self.extractor = features.feature_extractor(self.dataset, self.data_dir, log=None)
        order = np.random.default_rng(self.seed).permutation(len(train))
        self.real_features = self.extractor(train[order[: self.num]])
        held = self.extractor(train[order[self.num : 2 * self.num]])
        self.reference_recall = sq.precision_recall(self.real_features, held)[1]

    def score(self, step):
        samples = generate_colours(self.model, self.num, self.seed, self.palette)
        fake = self.extractor(colours.quantise(samples, self.palette))
        precision, recall = sq.precision_recall(self.real_features, fake)
        return {
            "step": step,
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "recall_ratio": round(recall / max(self.reference_recall, 1e-12), 4),
            "fid": round(sq.fid(self.real_features, fake), 4),
        }

    def on_epoch_end(self, epoch, logs=None):
        if self.extractor is None:
            return
        step = int((logs or {}).get("step", epoch + 1))
        row = {"epoch": epoch + 1, **self.score(step)}
        # A run resumed from an earlier checkpoint redoes epochs: their new rows replace the old.
        self.scores = [r for r in self.scores if r["step"] < step] + [row]
        if self.workdir is not None:
            _write_json(self.workdir / QUALITY_FILE, self.scores)
        with self.writer.as_default(step=step):
            for k in ("precision", "recall", "recall_ratio", "fid"):
                tf.summary.scalar(k, row[k])
        self.writer.flush()
        ratio = row["recall_ratio"]
        self.covered_once = self.covered_once or ratio >= self.rearm
        if self.covered_once and self.armed and ratio < self.threshold:
            self._fire(row, "")
        elif not self.armed and ratio > self.rearm:
            self.armed = True

    def on_train_end(self, logs=None):
        if self.scores and self.armed and self.scores[-1]["recall_ratio"] < self.threshold:
            self._fire(self.scores[-1], " (at the end of training)")

    def _fire(self, row, when):
        self.armed = False
        ratio, step = row["recall_ratio"], row["step"]
        message = (
            f"mode dropping suspected at step {step}{when}: the samples cover {ratio:.2f} of what training "
            f"images cover (recall {row['recall']:.3f} against {self.reference_recall:.3f}, N = {self.num}, "
            f"our features; alarm below {self.threshold})"
        )
        entry = {"step": step, "kind": "mode_dropping", "recall": row["recall"], "recall_ratio": ratio}
        self.alarms.append(entry)
        raise_alarm(self.workdir, self.writer, step, entry, message)


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


def _sample_quality(workdir, data_spec, options):
    num = TrainOptions.quality_samples if options is None else options.quality_samples
    if not num:
        return None
    dataset = data_spec.name if options is None else options.dataset
    data_dir = None if options is None else options.data_dir
    return SampleQuality(workdir, dataset, data_dir, data_spec.palette, num=num)


# What a model's `monitors` names: each entry builds a callback (or None: switched off) from the
# workdir, the DataSpec and the run's TrainOptions (None: their defaults).
MONITORS = {
    "sample_grids": lambda workdir, data_spec, options: SampleGrids(workdir, data_spec.palette),
    "mode_collapse": lambda workdir, data_spec, options: ModeCollapseAlarm(workdir),
    "sample_quality": _sample_quality,
    "code_map": lambda workdir, data_spec, options: CodeMap(workdir),
}
# Monitors that only draw pictures: a run told to write none (`--num_previews=0`) skips them.
PICTURE_MONITORS = frozenset({"sample_grids", "code_map"})


def for_model(model, workdir, data_spec, pictures=True, options=None):
    """The callbacks of the monitors `model` asks for (class attribute `monitors`); without `pictures`,
    only those that watch numbers (the alarms)."""
    unknown = [m for m in model.monitors if m not in MONITORS]
    if unknown:
        raise ValueError(f"{type(model).__name__}.monitors names unknown monitors {unknown}; known: {sorted(MONITORS)}")
    wanted = [m for m in model.monitors if pictures or m not in PICTURE_MONITORS]
    built = [MONITORS[m](Path(workdir), data_spec, options) for m in wanted]
    return [c for c in built if c is not None]
