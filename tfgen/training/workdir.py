"""The training workdir: what a run is (run.json) and its checkpoints.

Layout:
    run.json        model, config, dataset and its DataSpec, seed, batch size
    checkpoints/    tf.train.CheckpointManager (model, optimizer, step)
    logs/           TensorBoard (train/ and validation/)
    samples.png, completions.png
"""

import dataclasses
import fcntl
import json
import os
import shutil
import sys
from pathlib import Path

import tensorflow as tf
from google.protobuf import text_format

from tfgen import registry
from tfgen.data import DataSpec
from tfgen.errors import CorruptFileError, InvalidArgumentError, MissingFileError, WorkdirBusyError
from tfgen.export import exporter

RUN_FILE = "run.json"
CHECKPOINTS = "checkpoints"
LOCK_FILE = ".lock"
BEST_FILE = "best.json"
BEST_DIR = "best"
# Checkpoints that failed to read are moved here, never deleted.
CORRUPT = "corrupt"


@dataclasses.dataclass
class Run:
    model: str
    config_name: str
    config: dict
    dataset: str
    data_dir: str | None
    data_spec: DataSpec
    seed: int

    def to_json(self):
        d = dataclasses.asdict(self)
        d["data_spec"] = self.data_spec.to_json()
        return d

    @classmethod
    def from_json(cls, d):
        d = dict(d)
        d["data_spec"] = DataSpec.from_json(d["data_spec"])
        return cls(**d)

    def registry_config(self):
        return registry.Config(**self.config)

    def identity(self):
        """What may not change when a run is resumed in the same workdir.

        Compared as the JSON that run.json holds, so a config's tuple and the
        list read back from the file are the same thing.
        """
        return json.dumps([self.model, self.config_name, self.dataset, self.config["model"], self.seed], sort_keys=True)


def config_to_json(cfg):
    d = dataclasses.asdict(cfg)
    d["model"] = dict(d["model"])
    return d


def read_run(workdir):
    path = Path(workdir) / RUN_FILE
    if not path.is_file():
        raise MissingFileError(f"{path}: no run here (train one with tools/train.py --workdir={workdir})")
    try:
        return Run.from_json(json.loads(path.read_text()))
    except (ValueError, TypeError, KeyError) as e:
        raise CorruptFileError(f"{path}: not a tfgen run file ({type(e).__name__}: {e})") from e


def write_run(workdir, run):
    path = Path(workdir) / RUN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(run.to_json(), indent=2))
    tmp.replace(path)


def build_model(run):
    """The run's model with every weight created (not restored)."""
    return registry.get(run.model).build(run.data_spec, run.registry_config())


def checkpoint(model, step, **optimizers):
    """A tf.train.Checkpoint of every model weight, the step and the optimizers.

    Weights are listed explicitly: Keras 3 keeps sub-layers held in Python
    lists in its own wrapper, which tf.train.Checkpoint does not traverse, so
    `Checkpoint(model=model)` silently skipped e.g. a list of LSTM layers.
    They are keyed by position in `model.weights` (fixed by the model's
    construction code), not by path: paths contain auto-generated layer names
    ("dense_3") that change with whatever else the process has built. TF
    checks every shape when restoring.
    """
    weights = {f"w{i:04d}": v for i, v in enumerate(model.weights)}
    return tf.train.Checkpoint(weights=weights, step=step, **optimizers)


def checkpoint_files(prefix):
    """The files of one checkpoint (its index and data shards)."""
    prefix = Path(prefix)
    return sorted(prefix.parent.glob(prefix.name + ".*"))


def restore(ckpt, path, partial=False):
    """Restores `ckpt` from `path`; a checkpoint that cannot be read raises CorruptFileError naming it.

    With `partial`, objects the checkpoint holds but `ckpt` lacks (the
    optimizer's slots, when only the model is wanted) are allowed.
    """
    try:
        status = ckpt.restore(path)
        if partial:
            status.expect_partial()
        status.assert_existing_objects_matched()
    except (tf.errors.OpError, IndexError, ValueError, AssertionError) as e:
        # A truncated data file raises IndexError, a zero-filled one OpError.
        # A checkpoint that reads but does not fit the model (a foreign one)
        # raises AssertionError; it is reported the same way, by path.
        detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        files = ", ".join(p.name for p in checkpoint_files(path)) or "no files"
        raise CorruptFileError(f"{path}: checkpoint cannot be read ({files}): {type(e).__name__}: {detail}") from e


def set_aside(prefix):
    """Moves a checkpoint's files to checkpoints/corrupt/ (keeping them for inspection); returns the folder."""
    prefix = Path(prefix)
    dest = prefix.parent / CORRUPT
    dest.mkdir(exist_ok=True)
    for f in checkpoint_files(prefix):
        target = dest / f.name
        n = 1
        while target.exists():  # the same step can go corrupt twice
            target = dest / f"{f.name}.{n}"
            n += 1
        shutil.move(str(f), str(target))
    return dest


def rewind_checkpoint_state(directory, path):
    """Makes `path` the latest checkpoint in the directory's `checkpoint` file, dropping the newer ones.

    Timestamps are kept, so the CheckpointManager still rotates the older ones.
    """
    state = tf.train.get_checkpoint_state(directory)
    pairs = list(zip(state.all_model_checkpoint_paths, state.all_model_checkpoint_timestamps))
    names = [Path(p).name for p in state.all_model_checkpoint_paths]
    keep = pairs[: names.index(Path(path).name) + 1]
    state.model_checkpoint_path = Path(path).name
    del state.all_model_checkpoint_paths[:]
    del state.all_model_checkpoint_timestamps[:]
    state.all_model_checkpoint_paths.extend(Path(p).name for p, _ in keep)
    state.all_model_checkpoint_timestamps.extend(t for _, t in keep)
    tmp = Path(directory) / "checkpoint.tmp"
    tmp.write_text(text_format.MessageToString(state))
    tmp.replace(Path(directory) / "checkpoint")


def restore_model(model, path):
    """Restores every model weight from a checkpoint, failing if any is missing."""
    step = tf.Variable(0, dtype=tf.int64)
    restore(checkpoint(model, step), path, partial=True)  # optimizer slots are not needed to use the model
    return int(step.numpy())


CHECKPOINT_CHOICES = ("best", "latest")


def read_best(workdir):
    """The best checkpoint's record (`best.json`: step, metric, value, checkpoint), or None."""
    path = Path(workdir) / BEST_FILE
    if not path.is_file():
        return None
    try:
        best = json.loads(path.read_text())
        return best if {"step", "metric", "value", "checkpoint"} <= set(best) else None
    except (ValueError, UnicodeDecodeError):
        return None  # a damaged record costs the best checkpoint, never the run


def save_best(ckpt, workdir, step, metric, value):
    """Writes `ckpt` as the best checkpoint: files first, then the record, then the old best goes.

    A crash at any point leaves best.json naming a complete checkpoint (the
    old one until the new one is fully written).
    """
    workdir = Path(workdir)
    # Restoring creates the checkpoint's save counter and expects to find it: make sure it is written,
    # even when no regular checkpoint has been saved yet (which creates it).
    ckpt.save_counter  # noqa: B018
    prefix = ckpt.write(str(workdir / f"{BEST_DIR}-{step:08d}" / "ckpt"))
    record = {
        "step": int(step),
        "metric": metric,
        "value": float(value),
        "checkpoint": str(Path(prefix).relative_to(workdir)),
    }
    tmp = workdir / (BEST_FILE + ".tmp")
    tmp.write_text(json.dumps(record, indent=2))
    tmp.replace(workdir / BEST_FILE)
    for old in workdir.glob(f"{BEST_DIR}-*"):
        if old.name != f"{BEST_DIR}-{step:08d}":
            shutil.rmtree(old, ignore_errors=True)
    return record


def load_model(workdir, checkpoint="best", log=None):
    """Rebuilds the model of a workdir and restores a checkpoint.

    Args:
        checkpoint: "best" (the best validation score, where training kept
            one; else the newest) or "latest" (the newest).
        log: where to say which checkpoint was used when it is not the newest
            (default: stderr).
    Returns (model, run, step).
    """
    if checkpoint not in CHECKPOINT_CHOICES:
        raise InvalidArgumentError(f"checkpoint must be one of {', '.join(CHECKPOINT_CHOICES)}, got {checkpoint!r}")
    run = read_run(workdir)
    model = build_model(run)
    ckpt_dir = Path(workdir) / CHECKPOINTS
    latest = tf.train.latest_checkpoint(str(ckpt_dir))
    best = read_best(workdir) if checkpoint == "best" else None
    if best is not None:
        step = restore_model(model, str(Path(workdir) / best["checkpoint"]))
        if latest is None or step != restore_step(latest):
            message = (
                f"using the best checkpoint: step {step}, validation {best['metric']} {best['value']:.4f} "
                f"(the newest is step {restore_step(latest) if latest else '?'}; --checkpoint=latest for it)"
            )
            (log or (lambda m: print(m, file=sys.stderr)))(message)
        return model, run, step
    if latest is None:
        raise MissingFileError(f"{ckpt_dir}: no checkpoint to load")
    return model, run, restore_model(model, latest)


def restore_step(path):
    """The step number a checkpoint path ends with (ckpt-<step>)."""
    return int(str(path).rsplit("-", 1)[-1])


def export(workdir, export_dir=None, checkpoint="best", **kwargs):
    """Exports a workdir's best (or latest) checkpoint (`exporter.export_model`) to export_dir (<workdir>/export).

    The model is rebuilt from the checkpoint in float32: the artifact does not
    depend on the training precision (bfloat16 ops do not convert to TFLite).
    """
    exporter.check_options(**{k: kwargs[k] for k in ("formats", "max_batch", "variants") if k in kwargs})
    model, run, step = load_model(workdir, checkpoint)
    return exporter.export_model(model, run, export_dir or Path(workdir) / "export", step=step, **kwargs)


class Lock:
    """One writer per workdir: an exclusive `flock` on <workdir>/.lock, held while training.

    The kernel drops the lock when its process dies, however it dies, so a
    lock file left by a killed run never blocks the next one. The file holds
    the holder's pid and command line for the message a second writer gets.
    A run that fails before writing anything removes the folder its lock made.
    """

    def __init__(self, workdir):
        self.path = Path(workdir) / LOCK_FILE
        self.fd = None
        self.made_folder = False

    def __enter__(self):
        self.made_folder = not self.path.parent.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise WorkdirBusyError(
                f"{self.path.parent} is in use by {holder}; wait for it to finish or use another --workdir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"process {os.getpid()} ({_command_line()})".encode())
        self.fd = fd
        return self

    def __exit__(self, exc_type, *exc):
        os.ftruncate(self.fd, 0)
        if exc_type is not None and self.made_folder and [p.name for p in self.path.parent.iterdir()] == [LOCK_FILE]:
            # Refused before it wrote anything (e.g. a --model_args the model rejects): no empty run
            # folder for a user to find later. The file is unlinked while still held.
            self.path.unlink()
            self.path.parent.rmdir()
        os.close(self.fd)  # closing releases the flock
        self.fd = None


def _command_line():
    try:
        return Path("/proc/self/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"
