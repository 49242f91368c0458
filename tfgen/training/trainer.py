"""The training loop every registered model runs under.

One loop for every strategy (default, mirrored, multi-worker): the model and
its optimizers are created under `strategy.scope()`, data comes from
`strategy.distribute_datasets_from_function` and each model's own
`train_step` runs in `strategy.run`. Keras's `fit` is not used because it
fails under MultiWorkerMirroredStrategy (keras-team/keras#20585).

Resuming: the checkpoint holds every model weight, the optimizers and the
global step; the data order is a pure function of (seed, epoch), so the step
alone says which batch comes next, and re-running the same command continues
the run. (An adversarial model's judge calibration at the end moves only a
weight average that training never reads, and is redone at the new end.) A
non-finite loss stops the run before anything is saved.
"""

import contextlib
import functools
import hashlib
import json
import math
import shutil
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfgen import data as tfdata
from tfgen import registry
from tfgen.data import pipeline
from tfgen.errors import CorruptFileError, InvalidArgumentError, UserError
from tfgen.export import exporter
from tfgen.models.gan.adversarial_model import AdversarialImageModel
from tfgen.training import callbacks, precision, strategies
from tfgen.training import workdir as wd
from tfgen.training.options import TrainOptions, check_model_args, parse_model_args  # noqa: F401  (TrainOptions: imported from here)


class NonFiniteLossError(UserError, RuntimeError):
    """Training produced a NaN or infinite loss; the last checkpoint is intact."""


class WorkerLostError(UserError, RuntimeError):
    """A multi-worker collective failed (a peer died or hung); restart every worker to resume."""


def default_optimizers(model, learning_rate):
    """The model's `{checkpoint name: optimizer}`, loss-scaled under a float16 policy."""
    return {k: precision.wrap_optimizer(v) for k, v in model.make_optimizers(learning_rate).items()}


def _resolve(options):
    """(options with defaults filled in, the model's registry entry, its config with the options applied)."""
    spec = registry.get(options.model)
    cfg = spec.config(options.config)
    options = options.resolved(cfg.dataset or spec.default_dataset)
    changes = {
        k: getattr(options, k)
        for k in (
            "batch_size",
            "learning_rate",
            "epochs",
            "jit_compile",
            "checkpoint_every",
            "early_stopping",
            "flip",
            "judge_error",
        )
        if getattr(options, k) is not None
    }
    cfg = cfg.replace(**changes, dataset=options.dataset)
    model_args = parse_model_args(options.model_args)
    if model_args:
        check_model_args(spec, model_args)
        cfg = cfg.replace(model={**cfg.model, **model_args})
    if cfg.checkpoint_every < 1:
        raise InvalidArgumentError(f"checkpoint_every must be >= 1, got {cfg.checkpoint_every}")
    if options.export:  # refused now, not after the training
        exporter.check_options(formats=options.export_formats, variants=options.tflite_variants)
    if options.max_minutes is not None and (options.max_minutes <= 0 or options.strategy == "multi_worker"):
        raise InvalidArgumentError(
            f"--max_minutes={options.max_minutes}: needs a positive number of minutes and a strategy other than "
            "multi_worker (each worker's clock would pick its own last step)"
        )
    if cfg.jit_compile and options.strategy != "default":
        if options.jit_compile:  # asked for on the command line: refuse rather than ignore it
            raise InvalidArgumentError(
                f"--jit_compile with --strategy={options.strategy}: XLA cannot compile a step that reads variables "
                "mirrored on other devices (tensorflow.org/xla/known_issues#tfvariable_on_a_different_device). "
                "Models' heavy kernels (e.g. the LSTM loops) are XLA-compiled on their own under any strategy."
            )
        cfg = cfg.replace(jit_compile=False)  # a config's XLA default yields to the strategy
    return options, spec, cfg


def _prepare_workdir(options, spec, cfg, data_spec):
    """The run this training is; refuses a workdir that holds another. run.json is written by
    `_Training.build`, once the model builds, so a refused run leaves nothing behind."""
    workdir = Path(options.workdir)
    run = wd.Run(
        model=spec.name,
        config_name=options.config,
        config=wd.config_to_json(cfg),
        dataset=data_spec.name,
        data_dir=str(options.data_dir) if options.data_dir else None,
        data_spec=data_spec,
        seed=options.seed,
    )
    if (workdir / wd.RUN_FILE).exists():
        previous = wd.read_run(workdir)
        if previous.identity() != run.identity():
            raise InvalidArgumentError(
                f"{workdir} holds a different run ({previous.model}/{previous.config_name} on "
                f"{previous.dataset}, seed {previous.seed}); use another --workdir"
            )
    return run


def metrics_function(model, images):
    """`model.per_example_metrics` as a tf.function traced once for every batch size of `images`."""
    return tf.function(model.per_example_metrics, input_signature=pipeline.batch_signature(images), autograph=False)


def evaluate_batches(model, images, batch_size, fn=None):
    """Means of the model's per-example metrics over a dataset of images."""
    fn = fn or metrics_function(model, images)
    totals, count = {}, 0
    for batch in pipeline.eval_batches(images, batch_size):
        values = fn(batch)
        for k, v in values.items():
            totals[k] = totals.get(k, 0.0) + float(tf.reduce_sum(tf.cast(v, tf.float64)))
        count += int(batch.shape[0])
    if count == 0:
        raise ValueError("no examples to evaluate")
    return {k: v / count for k, v in totals.items()}, count


def weights_digest(model):
    """sha256 of every weight's bytes: equal digests mean bit-identical models."""
    h = hashlib.sha256()
    for v in model.weights:
        h.update(np.ascontiguousarray(v.numpy()).tobytes())
    return h.hexdigest()


class _Checkpoints:
    """Chief-only checkpoint writing that every worker takes part in.

    Under MultiWorkerMirroredStrategy every worker must call save (it may
    involve collective ops); non-chief workers write to a private temporary
    directory that is deleted at once, so only the chief's files remain. All
    workers restore from the chief's directory, so a restarted cluster (or a
    restarted worker) rejoins at the last checkpoint.
    """

    def __init__(self, ckpt, workdir, chief, keep, task):
        self.chief = chief
        directory = Path(workdir) / wd.CHECKPOINTS
        self.keep = keep
        self.shared = tf.train.CheckpointManager(ckpt, str(directory), max_to_keep=keep)
        self.tmp = None if chief else Path(workdir) / ".worker-tmp" / f"{task[0]}-{task[1]}"
        self.ckpt = ckpt

    @property
    def latest(self):
        return self.shared.latest_checkpoint

    def restore(self, log):
        """Restores the newest checkpoint that reads; returns its path, or None for a fresh run.

        A checkpoint that fails to read is reported by path and moved to
        checkpoints/corrupt/ (by the chief); the next older one is tried.
        """
        directory = self.shared.directory
        for path in reversed(self.shared.checkpoints):
            try:
                wd.restore(self.ckpt, path)
            except CorruptFileError as e:
                log(f"warning: {e}", flush=True)
                if self.chief:
                    log(f"  moved it to {wd.set_aside(path)}/ and trying the previous checkpoint", flush=True)
                continue
            if path != self.latest and self.chief:
                # Later saves and `latest_checkpoint` must not point at the set-aside files.
                wd.rewind_checkpoint_state(directory, path)
                self.shared = tf.train.CheckpointManager(self.ckpt, directory, max_to_keep=self.keep)
            return path
        if self.shared.checkpoints:
            raise CorruptFileError(f"{directory}: no checkpoint could be read (see the warnings above)")
        return None

    def save(self, step):
        if self.chief:
            self.shared.save(checkpoint_number=step)
        else:
            self.ckpt.write(str(self.tmp / "ckpt"))
            shutil.rmtree(self.tmp, ignore_errors=True)

    def save_best(self, workdir, step, metric, value):
        """Keeps this state as the best checkpoint (every worker writes; only the chief's files stay)."""
        if self.chief:
            return wd.save_best(self.ckpt, workdir, step, metric, value)
        self.ckpt.write(str(self.tmp / "ckpt"))
        shutil.rmtree(self.tmp, ignore_errors=True)
        return {"step": int(step), "metric": metric, "value": float(value)}


def train(options):
    """Trains (or resumes) a run in `options.workdir`; returns a summary dict.

    A process can run any number of trainings under the default and mirrored
    strategies (one MirroredStrategy instance serves them all); a
    multi-worker training is one per process, as TensorFlow allows one
    cluster per process. `tools/train.py` runs one training per process.
    """
    strategies.configure_cpu_devices(options.num_cpu_devices)
    options, spec, cfg = _resolve(options)
    strategy = strategies.make_strategy(options.strategy, options.startup_timeout)
    chief = strategies.is_chief(strategy)
    train_images, data_spec = tfdata.load(options.dataset, "train", options.data_dir)
    val_images, _ = tfdata.load(options.dataset, "validation", options.data_dir)
    # The chief holds the workdir's lock for the whole cluster.
    with wd.Lock(options.workdir) if chief else contextlib.nullcontext():
        run = _Training(options, spec, cfg, strategy, chief, (train_images.cache(), val_images.cache(), data_spec))
        run.build()
        run.restore()
        run.start()
        while run.step_count() < run.total_steps:
            run.epoch()
        return run.finish()


class _Training:
    """One run's state, in the order the loop uses it: build, restore, start, epoch (validate), finish."""

    def __init__(self, options, spec, cfg, strategy, chief, data):
        self.options, self.spec, self.cfg = options, spec, cfg
        self.strategy, self.chief = strategy, chief
        self.train_images, self.val_images, self.data_spec = data
        self.log = print if options.verbose and chief else (lambda *a, **k: None)
        self.warn = functools.partial(print, file=sys.stderr) if chief else self.log
        self.workdir = Path(options.workdir)
        self.run = _prepare_workdir(options, spec, cfg, self.data_spec)
        self.global_batch = cfg.batch_size
        if self.global_batch % strategy.num_replicas_in_sync:
            raise InvalidArgumentError(
                f"batch size {self.global_batch} does not divide over {strategy.num_replicas_in_sync} replicas"
            )
        if cfg.flip and not self.data_spec.flippable:
            raise InvalidArgumentError(
                f"flip augmentation (--flip, or config {options.config!r}): mirrored {self.data_spec.name} examples "
                "are not valid examples (it is for data that faces either way, e.g. pokemon); use --noflip"
            )
        self.num_train = self.data_spec.num_examples["train"]
        self.steps_per_epoch = pipeline.steps_per_epoch(self.num_train, self.global_batch)
        self.total_steps = options.steps or cfg.epochs * self.steps_per_epoch
        self.eval_batch = max(self.global_batch, 64)
        self.last = {}
        self.last_validation = (None, None, None)  # (step, metrics, count) of the newest validation
        self.best = wd.read_best(self.workdir) if options.keep_best else None  # a resumed run keeps its best
        self.stopped_early = False
        self.out_of_time = False

    def step_count(self):
        return int(self.step.numpy())

    def build(self):
        """The model, its optimizers and the step counter, under the strategy's scope."""
        # Same seed, same initial weights: an interrupted run resumed from a
        # checkpoint and an uninterrupted one end identical.
        keras.utils.set_random_seed(self.options.seed)
        with precision.policy(self.options.mixed_precision), self.strategy.scope():
            try:
                self.model = wd.build_model(self.run)
            except (ValueError, TypeError) as e:
                if not self.options.model_args:
                    raise
                # The config's own values build; what the user changed is what the model refused.
                raise InvalidArgumentError(f"--model_args={','.join(map(str, self.options.model_args))}: {e}") from e
            if self.cfg.judge_error:  # 0 turns a config's calibration off
                if not isinstance(self.model, AdversarialImageModel):
                    raise InvalidArgumentError(
                        f"--judge_error: {self.spec.name} has no discriminator to calibrate (adversarial models only)"
                    )
                self.model.check_judge_error(self.cfg.judge_error)
            if self.chief:
                wd.write_run(self.workdir, self.run)
            self.model.plan_run(self.total_steps)
            self.optimizers = default_optimizers(self.model, self.cfg.learning_rate)
            self.model.compile(**self.optimizers)
            for opt in self.optimizers.values():
                opt.build(self.model.trainable_variables)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        ckpt = wd.checkpoint(self.model, self.step, **self.optimizers)
        self.checkpoints = _Checkpoints(
            ckpt, self.workdir, self.chief, self.options.keep_checkpoints, strategies.task_info()
        )

    def restore(self):
        """The newest readable checkpoint, if any; a learning rate given on the command line wins over it."""
        restored = self.checkpoints.restore(self.warn)
        if not restored:
            return
        self.log(f"resumed from {restored} at step {self.step_count()}", flush=True)
        if self.options.learning_rate is not None:
            for name, fresh in default_optimizers(self.model, self.options.learning_rate).items():
                rate = self.optimizers[name].learning_rate
                # A schedule is not a checkpointed variable: it was built from the flag's rate already.
                if isinstance(rate, keras.Variable):
                    rate.assign(fresh.learning_rate)

    def start(self):
        """Step functions, summary writers and the chief's callbacks."""
        model, strategy = self.model, self.strategy
        step_fn = model.train_step
        if self.cfg.jit_compile:
            step_fn = tf.function(step_fn, jit_compile=True, autograph=False)

        def distributed_step(batch):
            results = strategy.run(step_fn, args=(batch,))
            means = {k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None) for k, v in results.items()}
            # The loss is computed before the update, so a finite loss can still
            # leave infinite weights behind (a huge step); check those too, before
            # anything could checkpoint them.
            finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(v)) for v in model.trainable_variables])
            return means, finite

        # Multi-worker: the first step runs with the generous startup timeout
        # (workers trace and compile at different speeds); the steps after it,
        # retraced, with the configured one, which then detects a dead or hung
        # peer. Elsewhere both are the same function.
        self.train_fn = tf.function(distributed_step, autograph=False)
        multi_worker = self.options.strategy == "multi_worker"
        self.steady_fn = tf.function(distributed_step, autograph=False) if multi_worker else self.train_fn
        self.eval_fn = metrics_function(model, self.val_images)
        logs = self.workdir / "logs"
        noop = tf.summary.create_noop_writer()
        self.train_writer = tf.summary.create_file_writer(str(logs / "train")) if self.chief else noop
        self.val_writer = tf.summary.create_file_writer(str(logs / "validation")) if self.chief else noop
        # Only the chief builds callbacks: they write pictures and summaries into the shared workdir.
        pictures = self.options.num_previews > 0
        own = callbacks.for_model(model, self.workdir, self.data_spec, pictures, self.options) if self.chief else []
        self.callbacks = keras.callbacks.CallbackList(
            [*own, *self.options.callbacks] if self.chief else [], model=model
        )
        self.callbacks.on_train_begin()
        self.start_step = self.step_count()
        self.start_time = time.time()
        self.loop_seconds, self.timed_steps = 0.0, 0

    def epoch(self):
        """Trains up to the end of the current epoch (or of the run), then validates at an epoch end."""
        options, strategy = self.options, self.strategy
        epoch, skip = divmod(self.step_count(), self.steps_per_epoch)
        steps_this_epoch = min(self.steps_per_epoch, self.total_steps - epoch * self.steps_per_epoch) - skip

        # Audio is cut into windows at a new offset every epoch; other data is the same every epoch.
        view = tfdata.training_view(options.dataset, options.data_dir, options.seed, epoch)
        examples = self.train_images if view is None else view

        def dataset_fn(ctx):
            return pipeline.train_batches(
                examples,
                self.global_batch,
                seed=options.seed,
                epoch=epoch,
                skip=skip,
                num_examples=self.num_train,
                input_context=ctx,
                flip=self.cfg.flip,
            )

        batches = iter(strategy.distribute_datasets_from_function(dataset_fn))
        self.callbacks.on_epoch_begin(epoch)
        try:
            # What came before (validation, checkpoints, the chief's callbacks,
            # the new iterator) takes each worker its own time; from here on
            # the workers are in step (resetting a metric is a collective too).
            strategies.barrier(strategy, options.startup_timeout)
        except tf.errors.OpError as e:
            raise _worker_lost(e, options, self.step_count(), self.checkpoints) from e
        for m in self.model.metrics:
            m.reset_state()
        bar = keras.utils.Progbar(steps_this_epoch, verbose=1 if (options.verbose and self.chief) else 0)
        self.log(f"epoch {epoch + 1}/{math.ceil(self.total_steps / self.steps_per_epoch)}", flush=True)
        for i in range(steps_this_epoch):
            values = self._train_step(batches)
            bar.update(i + 1, values=list(values.items()))
        now = self.step_count()
        if now % self.steps_per_epoch == 0 or now == self.total_steps:
            self.validate(epoch, now)
        minutes = (time.time() - self.start_time) / 60
        if options.max_minutes and minutes >= options.max_minutes and now < self.total_steps:
            self.log(f"  out of time: {minutes:.1f} of --max_minutes={options.max_minutes:g} used", flush=True)
            self.out_of_time = True
            self.total_steps = now

    def _train_step(self, batches):
        options = self.options
        t0 = time.perf_counter()
        try:
            batch = next(batches)
            if self.train_fn is not self.steady_fn and self.step_count() > self.start_step:
                strategies.set_collective_timeout(self.strategy, options.collective_timeout)
                self.steady_fn.get_concrete_function(batch)  # traced before the barrier, not inside a timed step
                strategies.barrier(self.strategy, options.startup_timeout)
                self.train_fn = self.steady_fn
                t0 = time.perf_counter()  # the retrace is not step time
            means, finite = self.train_fn(batch)
        except tf.errors.OpError as e:
            raise _worker_lost(e, options, self.step_count() + 1, self.checkpoints) from e
        values = {k: float(v) for k, v in means.items()}
        now = int(self.step.assign_add(1).numpy())
        if now > self.start_step + 1:  # the first step of a run traces and compiles
            self.loop_seconds += time.perf_counter() - t0
            self.timed_steps += 1
        if not (bool(finite) and all(math.isfinite(v) for v in values.values())):
            what = "loss" if not all(math.isfinite(v) for v in values.values()) else "weights"
            raise NonFiniteLossError(
                f"non-finite {what} at step {now} ({', '.join(f'{k}={v}' for k, v in values.items())}); "
                f"stopped without saving. The last good checkpoint is {self.checkpoints.latest}"
            )
        self.last = values
        self.callbacks.on_train_batch_end(now, values)
        with self.train_writer.as_default(step=now):
            for k, v in values.items():
                tf.summary.scalar(k, v)
        if now % self.cfg.checkpoint_every == 0:
            self.checkpoints.save(now)
        return values

    def validate(self, epoch, now):
        """Validation metrics at an epoch end, the callbacks' epoch end, and a checkpoint."""
        val, count = evaluate_batches(self.model, self.val_images, self.eval_batch, self.eval_fn)
        self.last_validation = (now, val, count)
        self._keep_best(now, val)  # the weights just evaluated, before any callback runs
        self.log("  validation: " + ", ".join(f"{k}={v:.4f}" for k, v in val.items()), flush=True)
        self.callbacks.on_epoch_end(epoch, {**self.last, **{f"val_{k}": v for k, v in val.items()}, "step": now})
        with self.val_writer.as_default(step=now):
            for k, v in val.items():
                tf.summary.scalar(k, v)
        if now % self.cfg.checkpoint_every:  # else saved after the step already
            self.checkpoints.save(now)

    def _keep_best(self, now, val):
        """Saves a better validation score as the best checkpoint; stops after `early_stopping` epochs without one."""
        metric = self.model.selection_metric
        if not self.options.keep_best or metric not in val:
            return
        if self.best is None or val[metric] < self.best["value"]:
            self.best = self.checkpoints.save_best(self.workdir, now, metric, val[metric])
            self.log(f"  best so far: {metric}={val[metric]:.4f} (kept in {wd.BEST_FILE})", flush=True)
        patience = self.cfg.early_stopping
        if patience and now - self.best["step"] >= patience * self.steps_per_epoch and now < self.total_steps:
            self.log(
                f"  early stopping: {patience} epochs without a better {metric} "
                f"(best {self.best['value']:.4f} at step {self.best['step']})",
                flush=True,
            )
            self.stopped_early = True
            self.total_steps = now

    def _calibrate_judge(self):
        """An adversarial model's judge fitted to the training images once the weights are final
        (`calibrate_judge`), saved over the last checkpoint, which battles, sampling and evaluation load.

        The judge is fitted in float32 whatever the training's precision, as the tools load it.
        """
        model = self.model
        if model.compute_dtype == "float32":
            judge = model.calibrate_judge(self.train_images, self.cfg.judge_error)
        else:
            twin = wd.build_model(self.run)
            twin.set_weights(model.get_weights())
            judge = twin.calibrate_judge(self.train_images, self.cfg.judge_error)
            model.judge_bias().assign(twin.judge_bias().value)
        self.checkpoints.save(self.step_count())
        self.log(
            f"judge calibrated: calls {judge['train_error']:.1%} of {judge['num_images']} training images fake "
            f"(output bias moved by {judge['bias_change']:+.4f})",
            flush=True,
        )
        return judge

    def finish(self):
        """The judge's calibration (adversarial models, when asked), final validation, the summary, and
        (chief) previews, export and summary.json."""
        options, model = self.options, self.model
        self.callbacks.on_train_end(self.last)
        steps = self.step_count()
        judge = self._calibrate_judge() if self.cfg.judge_error else None
        if self.last_validation[0] == steps and judge is None:  # the last epoch ended here and was just validated
            final_val, num_val = self.last_validation[1:]
        else:
            final_val, num_val = evaluate_batches(model, self.val_images, self.eval_batch, self.eval_fn)
        summary = {
            "model": self.spec.name,
            "config": options.config,
            "dataset": self.data_spec.name,
            "workdir": str(self.workdir),
            "strategy": options.strategy,
            "replicas": self.strategy.num_replicas_in_sync,
            "mixed_precision": options.mixed_precision,
            "jit_compile": self.cfg.jit_compile,
            "compute_dtype": model.compute_dtype,
            "steps": steps,
            "steps_this_run": steps - self.start_step,
            "train_seconds": round(time.time() - self.start_time, 1),
            "examples_per_s": (self.timed_steps * self.global_batch / self.loop_seconds if self.timed_steps else None),
            "train": self.last,
            "validation": final_val,
            "num_validation": num_val,
            "weights_sha256": weights_digest(model),
            "best": self.best,
            "stopped_early": self.stopped_early,
            "out_of_time": self.out_of_time,
        }
        if judge is not None:
            summary["judge"] = judge
        if self.chief:
            if options.num_previews:
                _write_previews(model, self.val_images, self.data_spec, options, self.val_writer, steps)
            export_dir = self.workdir / "export"
            if options.export and (summary["steps_this_run"] > 0 or not export_dir.exists()):
                result = wd.export(
                    self.workdir, export_dir, formats=options.export_formats, variants=options.tflite_variants
                )
                summary["export_version"] = result.version
                self.log(f"exported version {result.version} to {export_dir}", flush=True)
            (self.workdir / "summary.json").write_text(json.dumps(summary, indent=2))
        return summary


def _worker_lost(error, options, step, checkpoints):
    """The error to raise for a failed op: WorkerLostError under multi-worker, else the op's own."""
    if options.strategy != "multi_worker":
        return error
    return WorkerLostError(
        f"a collective op failed at step {step} ({type(error).__name__}): a peer worker died or stopped "
        f"answering. Restart every worker with the same command; they resume from {checkpoints.latest}"
    )


def _write_previews(model, val_images, data_spec, options, writer, step):
    """Writes the model's previews: pictures (PNG), texts (TXT) and sounds (WAV), also to TensorBoard."""
    from tfgen import audio, visualize

    examples = next(iter(val_images.batch(8))).numpy()
    pictures = model.previews(examples, data_spec.palette, num_samples=options.num_previews, seed=options.seed)
    for name, content in pictures.items():
        with writer.as_default(step=step):
            if isinstance(content, str):
                (Path(options.workdir) / f"{name}.txt").write_text(content)
                tf.summary.text(name, content, step=step)
            elif isinstance(content, audio.Clip):
                content.write(Path(options.workdir) / "sounds" / f"{name}.wav")
                clip = tf.constant(np.asarray(content.samples, np.float32)[None, :, None])
                tf.summary.audio(name, clip, content.sample_rate, step=step)
            else:
                visualize.save_png(Path(options.workdir) / f"{name}.png", content)
                tf.summary.image(name, content[None], step=step)
