"""The training loop every registered model runs under.

One loop for every strategy (default, mirrored, multi-worker): the model and
its optimizers are created under `strategy.scope()`, data comes from
`strategy.distribute_datasets_from_function` and each model's own
`train_step` runs in `strategy.run`. Keras's `fit` is not used because it
fails under MultiWorkerMirroredStrategy (keras-team/keras#20585).

Resuming: the checkpoint holds the model, the optimizers and the global step;
the data order is a pure function of (seed, epoch), so the step alone says
which batch comes next. Re-running the same command continues the run.
"""

import dataclasses
import json
import math
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfgen import data as tfdata
from tfgen import registry
from tfgen.data import pipeline
from tfgen.training import strategies
from tfgen.training import workdir as wd


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss; the last checkpoint is intact."""


@dataclasses.dataclass
class TrainOptions:
    """Everything `tools/train.py` passes to `train` (None = config default)."""

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
    checkpoint_every: int = 100
    keep_checkpoints: int = 3
    strategy: str = "default"
    jit_compile: bool | None = None
    mixed_precision: bool = False
    num_previews: int = 16
    export: bool = True
    export_formats: tuple = ("saved_model", "tflite")
    verbose: bool = True


def default_optimizers(model, learning_rate):
    """{checkpoint name: optimizer}; models with several override `make_optimizers`."""
    if hasattr(model, "make_optimizers"):
        return model.make_optimizers(learning_rate)
    return {"optimizer": keras.optimizers.Adam(learning_rate)}


def _resolve(options):
    spec = registry.get(options.model)
    cfg = spec.config(options.config)
    changes = {
        k: getattr(options, k)
        for k in ("batch_size", "learning_rate", "epochs", "jit_compile")
        if getattr(options, k) is not None
    }
    return spec, cfg.replace(**changes)


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
            raise ValueError(
                f"{workdir} holds a different run ({previous.model}/{previous.config_name} on "
                f"{previous.dataset}, seed {previous.seed}); use another --workdir"
            )
    if chief:
        wd.write_run(workdir, run)
    return run


def _log(options, chief, *args):
    if options.verbose and chief:
        print(*args, flush=True)


def evaluate_batches(model, images, batch_size):
    """Means of the model's per-example metrics over a dataset of images."""
    fn = tf.function(model.per_example_metrics)
    totals, count = {}, 0
    for batch in pipeline.eval_batches(images, batch_size):
        values = fn(batch)
        for k, v in values.items():
            totals[k] = totals.get(k, 0.0) + float(tf.reduce_sum(v))
        count += int(batch.shape[0])
    if count == 0:
        raise ValueError("no examples to evaluate")
    return {k: v / count for k, v in totals.items()}, count


def train(options):
    """Trains (or resumes) a run in `options.workdir`; returns a summary dict."""
    spec, cfg = _resolve(options)
    strategy = strategies.make_strategy(options.strategy)
    chief = strategies.is_chief(strategy)
    dataset = options.dataset or spec.default_dataset
    train_images, data_spec = tfdata.load(dataset, "train", options.data_dir)
    val_images, _ = tfdata.load(dataset, "validation", options.data_dir)
    train_images = train_images.cache()
    val_images = val_images.cache()
    run = _prepare_workdir(options, spec, cfg, data_spec, chief)

    global_batch = cfg.batch_size
    replicas = strategy.num_replicas_in_sync
    if global_batch % replicas:
        raise ValueError(f"batch size {global_batch} does not divide over {replicas} replicas")
    num_train = data_spec.num_examples["train"]
    steps_per_epoch = pipeline.steps_per_epoch(num_train, global_batch)
    total_steps = options.steps or cfg.epochs * steps_per_epoch

    with strategy.scope():
        model = wd.build_model(run)
        optimizers = default_optimizers(model, cfg.learning_rate)
        model.compile(**optimizers)
        for opt in optimizers.values():
            opt.build(model.trainable_variables)
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
    ckpt = wd.checkpoint(model, step, **optimizers)
    ckpt_dir = Path(options.workdir) / wd.CHECKPOINTS
    manager = tf.train.CheckpointManager(ckpt, str(ckpt_dir), max_to_keep=options.keep_checkpoints)
    if manager.latest_checkpoint:
        ckpt.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        _log(options, chief, f"resumed from {manager.latest_checkpoint} at step {int(step.numpy())}")

    step_fn = model.train_step
    if cfg.jit_compile:
        step_fn = tf.function(step_fn, jit_compile=True)

    @tf.function
    def train_fn(batch):
        results = strategy.run(step_fn, args=(batch,))
        return {k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None) for k, v in results.items()}

    logs = Path(options.workdir) / "logs"
    train_writer = tf.summary.create_file_writer(str(logs / "train")) if chief else tf.summary.create_noop_writer()
    val_writer = tf.summary.create_file_writer(str(logs / "validation")) if chief else tf.summary.create_noop_writer()

    start_time = time.time()
    start_step = int(step.numpy())
    history = []
    last = {}
    while int(step.numpy()) < total_steps:
        current = int(step.numpy())
        epoch, skip = divmod(current, steps_per_epoch)
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

        dist = strategy.distribute_datasets_from_function(dataset_fn)
        for m in model.metrics:
            m.reset_state()
        bar = keras.utils.Progbar(steps_this_epoch, verbose=1 if (options.verbose and chief) else 0)
        _log(options, chief, f"epoch {epoch + 1}/{math.ceil(total_steps / steps_per_epoch)}")
        for i, batch in enumerate(dist):
            if i >= steps_this_epoch:
                break
            values = {k: float(v) for k, v in train_fn(batch).items()}
            step.assign_add(1)
            now = int(step.numpy())
            if not all(math.isfinite(v) for v in values.values()):
                raise NonFiniteLossError(
                    f"non-finite loss at step {now} ({values}); stopped without saving. "
                    f"The last good checkpoint is {manager.latest_checkpoint}"
                )
            last = values
            bar.update(i + 1, values=list(values.items()))
            with train_writer.as_default(step=now):
                for k, v in values.items():
                    tf.summary.scalar(k, v)
            if now % options.checkpoint_every == 0:
                _save(manager, chief, now)
        now = int(step.numpy())
        if now % steps_per_epoch == 0 or now == total_steps:
            val, _ = evaluate_batches(model, val_images, max(global_batch, 64))
            history.append({"step": now, **{f"val_{k}": v for k, v in val.items()}})
            _log(options, chief, "  validation: " + ", ".join(f"{k}={v:.4f}" for k, v in val.items()))
            with val_writer.as_default(step=now):
                for k, v in val.items():
                    tf.summary.scalar(k, v)
            _save(manager, chief, now)

    elapsed = time.time() - start_time
    final_val, num_val = evaluate_batches(model, val_images, max(global_batch, 64))
    summary = {
        "model": spec.name,
        "config": options.config,
        "dataset": data_spec.name,
        "steps": int(step.numpy()),
        "steps_this_run": int(step.numpy()) - start_step,
        "train_seconds": round(elapsed, 1),
        "train": last,
        "validation": final_val,
        "num_validation": num_val,
    }
    if chief:
        _write_previews(model, val_images, data_spec, options, val_writer, int(step.numpy()))
        if options.export and (summary["steps_this_run"] > 0 or not (Path(options.workdir) / "export").exists()):
            from export import exporter

            result = exporter.export_model(
                model, run, Path(options.workdir) / "export", formats=options.export_formats, step=summary["steps"]
            )
            summary["export_version"] = result.version
            _log(options, chief, f"exported version {result.version} to {Path(options.workdir) / 'export'}")
        (Path(options.workdir) / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _save(manager, chief, step):
    if chief:
        manager.save(checkpoint_number=step)


def _write_previews(model, val_images, data_spec, options, writer, step):
    from tfgen import visualize

    examples = np.stack(list(val_images.take(8).as_numpy_iterator()))
    pictures = model.previews(examples, data_spec.palette, num_samples=options.num_previews, seed=options.seed)
    for name, rgb in pictures.items():
        visualize.save_png(Path(options.workdir) / f"{name}.png", rgb)
        with writer.as_default(step=step):
            tf.summary.image(name, rgb[None], step=step)
