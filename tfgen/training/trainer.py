"""The training loop every registered model runs under.

One loop for every strategy (default, mirrored, multi-worker): the model and
its optimizers are created under `strategy.scope()`, data comes from
`strategy.distribute_datasets_from_function` and each model's own
`train_step` runs in `strategy.run`. Keras's `fit` is not used because it
fails under MultiWorkerMirroredStrategy (keras-team/keras#20585).

Resuming: the checkpoint holds every model weight, the optimizers and the
global step; the data order is a pure function of (seed, epoch), so the step
alone says which batch comes next, and re-running the same command continues
the run. A non-finite loss stops the run before anything is saved.
"""

import contextlib
import dataclasses
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
from tfgen.training import precision, strategies
from tfgen.training import workdir as wd


class NonFiniteLossError(UserError, RuntimeError):
    """Training produced a NaN or infinite loss; the last checkpoint is intact."""


class WorkerLostError(UserError, RuntimeError):
    """A multi-worker collective failed (a peer died or hung); restart every worker to resume."""


@dataclasses.dataclass
class TrainOptions:
    """Everything `tools/train.py` passes to `train` (None = the config's default)."""

    model: str = "pixelrnn"
    config: str = "default"
    dataset: str | None = None
    data_dir: str | None = None
    workdir: str = "workdir"
    epochs: int | None = None
    steps: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    seed: int = 0
    checkpoint_every: int | None = None
    keep_checkpoints: int = 3
    strategy: str = "default"
    num_cpu_devices: int = 1
    collective_timeout: int = 300
    startup_timeout: int = 600
    jit_compile: bool | None = None
    mixed_precision: bool = False
    num_previews: int = 16
    export: bool = True
    export_formats: tuple = ("saved_model", "tflite")
    verbose: bool = True
    # Extra keras.callbacks.Callback objects, run like the model's own.
    callbacks: tuple = ()


def default_optimizers(model, learning_rate):
    """{checkpoint name: optimizer}; models with several override `make_optimizers`."""
    if hasattr(model, "make_optimizers"):
        optimizers = model.make_optimizers(learning_rate)
    else:
        optimizers = {"optimizer": keras.optimizers.Adam(learning_rate)}
    return {k: precision.wrap_optimizer(v) for k, v in optimizers.items()}


def _resolve(options):
    spec = registry.get(options.model)
    cfg = spec.config(options.config)
    changes = {
        k: getattr(options, k)
        for k in ("batch_size", "learning_rate", "epochs", "jit_compile", "checkpoint_every")
        if getattr(options, k) is not None
    }
    cfg = cfg.replace(**changes)
    if cfg.checkpoint_every < 1:
        raise InvalidArgumentError(f"checkpoint_every must be >= 1, got {cfg.checkpoint_every}")
    if cfg.jit_compile and options.strategy != "default":
        if options.jit_compile:  # asked for on the command line: refuse rather than ignore it
            raise InvalidArgumentError(
                f"--jit_compile with --strategy={options.strategy}: XLA cannot compile a step that reads variables "
                "mirrored on other devices (tensorflow.org/xla/known_issues#tfvariable_on_a_different_device). "
                "Models' heavy kernels (e.g. the LSTM loops) are XLA-compiled on their own under any strategy."
            )
        cfg = cfg.replace(jit_compile=False)  # a config's XLA default yields to the strategy
    return spec, cfg


def _prepare_workdir(options, spec, cfg, data_spec, chief):
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
    if chief:
        wd.write_run(workdir, run)
    return run


def evaluate_batches(model, images, batch_size, fn=None):
    """Means of the model's per-example metrics over a dataset of images."""
    fn = fn or tf.function(model.per_example_metrics, reduce_retracing=True)
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


def train(options):
    """Trains (or resumes) a run in `options.workdir`; returns a summary dict.

    A process can run any number of trainings under the default and mirrored
    strategies (one MirroredStrategy instance serves them all); a
    multi-worker training is one per process, as TensorFlow allows one
    cluster per process. `tools/train.py` runs one training per process.
    """
    strategies.configure_cpu_devices(options.num_cpu_devices)
    spec, cfg = _resolve(options)
    strategy = strategies.make_strategy(options.strategy, options.startup_timeout)
    chief = strategies.is_chief(strategy)
    dataset = options.dataset or spec.default_dataset
    train_images, data_spec = tfdata.load(dataset, "train", options.data_dir)
    val_images, _ = tfdata.load(dataset, "validation", options.data_dir)
    data = (train_images.cache(), val_images.cache(), data_spec)
    # The chief holds the workdir's lock for the whole cluster.
    with wd.Lock(options.workdir) if chief else contextlib.nullcontext():
        return _train(options, spec, cfg, strategy, chief, data)


def _train(options, spec, cfg, strategy, chief, data):
    log = print if options.verbose and chief else (lambda *a, **k: None)
    warn = functools.partial(print, file=sys.stderr) if chief else log
    train_images, val_images, data_spec = data
    run = _prepare_workdir(options, spec, cfg, data_spec, chief)

    global_batch = cfg.batch_size
    if global_batch % strategy.num_replicas_in_sync:
        raise InvalidArgumentError(
            f"batch size {global_batch} does not divide over {strategy.num_replicas_in_sync} replicas"
        )
    num_train = data_spec.num_examples["train"]
    steps_per_epoch = pipeline.steps_per_epoch(num_train, global_batch)
    total_steps = options.steps or cfg.epochs * steps_per_epoch

    # Same seed, same initial weights: an interrupted run resumed from a
    # checkpoint and an uninterrupted one end identical.
    keras.utils.set_random_seed(options.seed)
    with precision.policy(options.mixed_precision), strategy.scope():
        model = wd.build_model(run)
        optimizers = default_optimizers(model, cfg.learning_rate)
        model.compile(**optimizers)
        for opt in optimizers.values():
            opt.build(model.trainable_variables)
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
    ckpt = wd.checkpoint(model, step, **optimizers)
    checkpoints = _Checkpoints(ckpt, options.workdir, chief, options.keep_checkpoints, strategies.task_info())
    restored = checkpoints.restore(warn)
    if restored:
        log(f"resumed from {restored} at step {int(step.numpy())}", flush=True)
        if options.learning_rate is not None:
            # The optimizer's learning rate is checkpointed too; a rate given
            # on the command line must win over the restored one.
            for name, fresh in default_optimizers(model, options.learning_rate).items():
                rate = optimizers[name].learning_rate
                # A learning-rate schedule (a model's decay) is not a checkpointed
                # variable: it was built from the flag's rate above already.
                if hasattr(rate, "assign"):
                    rate.assign(fresh.learning_rate)

    step_fn = model.train_step
    if cfg.jit_compile:
        step_fn = tf.function(step_fn, jit_compile=True)

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
    train_fn = tf.function(distributed_step)
    steady_fn = tf.function(distributed_step) if options.strategy == "multi_worker" else train_fn

    eval_fn = tf.function(model.per_example_metrics, reduce_retracing=True)
    eval_batch = max(global_batch, 64)
    logs = Path(options.workdir) / "logs"
    noop = tf.summary.create_noop_writer()
    train_writer = tf.summary.create_file_writer(str(logs / "train")) if chief else noop
    val_writer = tf.summary.create_file_writer(str(logs / "validation")) if chief else noop

    # Model-specific monitoring (e.g. a GAN's sample grids and mode-collapse
    # alarm) plugs in as ordinary Keras callbacks, run by this loop.
    own = model.training_callbacks(Path(options.workdir), data_spec) if hasattr(model, "training_callbacks") else []
    callbacks = keras.callbacks.CallbackList([*own, *options.callbacks] if chief else [], model=model)
    callbacks.on_train_begin()
    start_step = int(step.numpy())
    start_time = time.time()
    loop_seconds, timed_steps = 0.0, 0
    last = {}
    while int(step.numpy()) < total_steps:
        epoch, skip = divmod(int(step.numpy()), steps_per_epoch)
        steps_this_epoch = min(steps_per_epoch, total_steps - epoch * steps_per_epoch) - skip

        def dataset_fn(ctx, epoch=epoch, skip=skip):
            return pipeline.train_batches(
                train_images,
                global_batch,
                seed=options.seed,
                epoch=epoch,
                skip=skip,
                num_examples=num_train,
                input_context=ctx,
            )

        batches = iter(strategy.distribute_datasets_from_function(dataset_fn))
        callbacks.on_epoch_begin(epoch)
        try:
            # What came before (validation, checkpoints, the chief's callbacks,
            # the new iterator) takes each worker its own time; from here on
            # the workers are in step (resetting a metric is a collective too).
            strategies.barrier(strategy, options.startup_timeout)
        except tf.errors.OpError as e:
            raise _worker_lost(e, options, int(step.numpy()), checkpoints) from e
        for m in model.metrics:
            m.reset_state()
        bar = keras.utils.Progbar(steps_this_epoch, verbose=1 if (options.verbose and chief) else 0)
        log(f"epoch {epoch + 1}/{math.ceil(total_steps / steps_per_epoch)}", flush=True)
        for i in range(steps_this_epoch):
            t0 = time.perf_counter()
            try:
                batch = next(batches)
                if train_fn is not steady_fn and int(step.numpy()) > start_step:
                    strategies.set_collective_timeout(strategy, options.collective_timeout)
                    steady_fn.get_concrete_function(batch)  # traced before the barrier, not inside a timed step
                    strategies.barrier(strategy, options.startup_timeout)
                    train_fn = steady_fn
                    t0 = time.perf_counter()  # the retrace is not step time
                means, finite = train_fn(batch)
            except tf.errors.OpError as e:
                raise _worker_lost(e, options, int(step.numpy()) + 1, checkpoints) from e
            values = {k: float(v) for k, v in means.items()}
            now = int(step.assign_add(1).numpy())
            if now > start_step + 1:  # the first step of a run traces and compiles
                loop_seconds += time.perf_counter() - t0
                timed_steps += 1
            if not (bool(finite) and all(math.isfinite(v) for v in values.values())):
                what = "loss" if not all(math.isfinite(v) for v in values.values()) else "weights"
                raise NonFiniteLossError(
                    f"non-finite {what} at step {now} ({', '.join(f'{k}={v}' for k, v in values.items())}); "
                    f"stopped without saving. The last good checkpoint is {checkpoints.latest}"
                )
            last = values
            callbacks.on_train_batch_end(now, values)
            bar.update(i + 1, values=list(values.items()))
            with train_writer.as_default(step=now):
                for k, v in values.items():
                    tf.summary.scalar(k, v)
            if now % cfg.checkpoint_every == 0:
                checkpoints.save(now)
        now = int(step.numpy())
        if now % steps_per_epoch == 0 or now == total_steps:
            val, _ = evaluate_batches(model, val_images, eval_batch, eval_fn)
            log("  validation: " + ", ".join(f"{k}={v:.4f}" for k, v in val.items()), flush=True)
            callbacks.on_epoch_end(epoch, {**last, **{f"val_{k}": v for k, v in val.items()}, "step": now})
            with val_writer.as_default(step=now):
                for k, v in val.items():
                    tf.summary.scalar(k, v)
            if now % cfg.checkpoint_every:  # else saved above already
                checkpoints.save(now)

    callbacks.on_train_end(last)
    final_val, num_val = evaluate_batches(model, val_images, eval_batch, eval_fn)
    summary = {
        "model": spec.name,
        "config": options.config,
        "dataset": data_spec.name,
        "strategy": options.strategy,
        "replicas": strategy.num_replicas_in_sync,
        "mixed_precision": options.mixed_precision,
        "jit_compile": cfg.jit_compile,
        "steps": int(step.numpy()),
        "steps_this_run": int(step.numpy()) - start_step,
        "train_seconds": round(time.time() - start_time, 1),
        "examples_per_s": timed_steps * global_batch / loop_seconds if timed_steps else None,
        "train": last,
        "validation": final_val,
        "num_validation": num_val,
        "weights_sha256": weights_digest(model),
    }
    if chief:
        if options.num_previews:
            _write_previews(model, val_images, data_spec, options, val_writer, summary["steps"])
        export_dir = Path(options.workdir) / "export"
        if options.export and (summary["steps_this_run"] > 0 or not export_dir.exists()):
            from tfgen.export import exporter

            # From the saved checkpoint rebuilt in float32: the artifact does not
            # depend on the training precision (bfloat16 ops do not convert to TFLite).
            result = exporter.export_workdir(options.workdir, export_dir, formats=options.export_formats)
            summary["export_version"] = result.version
            log(f"exported version {result.version} to {export_dir}", flush=True)
        (Path(options.workdir) / "summary.json").write_text(json.dumps(summary, indent=2))
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
    """Writes the model's preview pictures (PNG) and texts (TXT), and logs them to TensorBoard."""
    from tfgen import visualize

    examples = next(iter(val_images.batch(8))).numpy()
    pictures = model.previews(examples, data_spec.palette, num_samples=options.num_previews, seed=options.seed)
    for name, content in pictures.items():
        with writer.as_default(step=step):
            if isinstance(content, str):
                (Path(options.workdir) / f"{name}.txt").write_text(content)
                tf.summary.text(name, content, step=step)
            else:
                visualize.save_png(Path(options.workdir) / f"{name}.png", content)
                tf.summary.image(name, content[None], step=step)
