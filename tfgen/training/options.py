"""Training options, declared once: `TrainOptions` is what `trainer.train` takes,
and `define_flags` generates `tools/train.py`'s flags from the same fields.

A field's metadata says how it appears on the command line (its help, its
kind, choices and bounds); a field marked `flag=False` is for library callers
only. None means "the config's value" for the options a config sets
(`registry.Config`: batch size, learning rate, epochs, XLA, checkpoint cadence).
"""

import dataclasses
import json

from absl import flags

from tfgen.errors import InvalidArgumentError


def _option(default, help, kind, *, choices=None, lower_bound=None, flag=True):
    metadata = {"help": help, "kind": kind, "choices": choices, "lower_bound": lower_bound, "flag": flag}
    return dataclasses.field(default=default, metadata=metadata)


def _models():
    from tfgen import registry

    return registry.names()


def _datasets():
    from tfgen.data import datasets

    return datasets.names()


def _strategies():
    from tfgen.training import strategies

    return strategies.STRATEGIES


@dataclasses.dataclass
class TrainOptions:
    """Everything a training run takes (None = the config's, or the model's, default)."""

    model: str = _option("pixelrnn", "Registered model.", "enum", choices=_models)
    config: str = _option("default", "Named config of the model (always 'default' and 'tiny').", "string")
    model_args: tuple = _option(
        (),
        "Constructor arguments that override the config's, as name=value pairs (values read as JSON, "
        "e.g. dropout=0.5,units=64); kept in run.json, so a resumed run must give the same ones.",
        "list",
    )
    dataset: str | None = _option(
        None, "Dataset; defaults to the config's, else the model's own.", "enum", choices=_datasets
    )
    data_dir: str | None = _option(
        None, "Dataset source: the pokemon text files' folder, or a prepared TFDS dir for binarized_mnist.", "string"
    )
    workdir: str | None = _option(
        None, "Where checkpoints, logs and pictures go (default: runs/<model>-<config>-<dataset>).", "string"
    )
    epochs: int | None = _option(None, "Epochs to train (default: the config's).", "integer", lower_bound=1)
    steps: int | None = _option(None, "Total optimizer steps; overrides --epochs.", "integer", lower_bound=1)
    batch_size: int | None = _option(None, "Global batch size (default: the config's).", "integer", lower_bound=1)
    learning_rate: float | None = _option(None, "Learning rate (default: the config's).", "float")
    seed: int = _option(0, "Seed for data order, initialisation and training noise.", "integer")
    checkpoint_every: int | None = _option(
        None,
        "Save a checkpoint every N steps, and at every epoch end (default: the config's).",
        "integer",
        lower_bound=1,
    )
    keep_checkpoints: int = _option(3, "Checkpoints kept (the newest ones).", "integer", lower_bound=1)
    keep_best: bool = _option(
        True,
        "Also keep the checkpoint with the best validation score (<workdir>/best.json); sampling, evaluation "
        "and export use it unless told --checkpoint=latest.",
        "bool",
    )
    flip: bool | None = _option(
        None,
        "Mirror training images left-right at random (datasets where that is valid, e.g. pokemon; "
        "default: the config's).",
        "bool",
    )
    early_stopping: int | None = _option(
        None,
        "Stop after this many epochs without a better validation score (default: the config's, usually none).",
        "integer",
        lower_bound=1,
    )
    max_minutes: float | None = _option(
        None,
        "Stop at the first epoch end after this many minutes of wall time of this invocation (a resumed run "
        "gets a new budget; not with multi_worker, whose workers must agree on the last step).",
        "float",
    )
    judge_error: float | None = _option(
        None,
        "Adversarial models: after the last step, shift the judge's output bias so that it calls this share of "
        "the training images fake (e.g. 0.2), making two runs' judges comparable in a GAM battle "
        "(tools/battle.py); 0: do not (default: the config's; the GAN configs with a real/fake threshold say "
        "0.2). Added to a finished run's own command (with --steps at its last step if --max_minutes ended it), "
        "it calibrates that run's last checkpoint without training.",
        "float",
    )
    strategy: str = _option(
        "default", "tf.distribute strategy; multi_worker reads TF_CONFIG.", "enum", choices=_strategies
    )
    num_cpu_devices: int = _option(
        1, "Logical CPU devices (for --strategy=mirrored without GPUs).", "integer", lower_bound=1
    )
    collective_timeout: int = _option(
        300,
        "multi_worker: seconds a training step may wait for its peers (from the second step on).",
        "integer",
        lower_bound=1,
    )
    startup_timeout: int = _option(
        600,
        "multi_worker: seconds the first step and the epoch-end sync may wait for slower peers.",
        "integer",
        lower_bound=1,
    )
    jit_compile: bool | None = _option(None, "XLA-compile the train step (default: the config's).", "bool")
    mixed_precision: bool = _option(False, "bfloat16 compute on CPU, float16 with loss scaling on GPU.", "bool")
    num_previews: int = _option(
        16,
        "Samples in samples.png (0: write no pictures, neither these nor the epoch grids in progress/ "
        "and the code map).",
        "integer",
        lower_bound=0,
    )
    quality_samples: int = _option(
        2000,
        "Adversarial models: at every epoch end, score this many samples against as many training images on "
        "the dataset's feature network (precision, recall, FID to TensorBoard and <workdir>/quality.json) and "
        "warn when recall drops (the mode-dropping alarm, alarms.json); skipped when the training split has "
        "fewer than twice as many images; 0: off. The alarm's threshold is calibrated at 2,000.",
        "integer",
        lower_bound=0,
    )
    export: bool = _option(True, "Export SavedModel and TFLite to <workdir>/export at the end.", "bool")
    export_formats: tuple = _option(("saved_model", "tflite"), "", "list", flag=False)
    tflite_variants: tuple = _option(
        ("float32", "float16", "int8"),
        "TFLite variants of the end-of-run export (float32, float16, int8); tools/export.py takes the same.",
        "list",
    )
    verbose: bool = _option(True, "", "bool", flag=False)
    # Extra keras.callbacks.Callback objects, run (on the chief) like the model's own monitors.
    callbacks: tuple = _option((), "", "list", flag=False)

    def resolved(self, default_dataset):
        """These options with the dataset and workdir defaults filled in."""
        dataset = self.dataset or default_dataset
        workdir = self.workdir or f"runs/{self.model}-{self.config}-{dataset}"
        return dataclasses.replace(self, dataset=dataset, workdir=workdir)


def flag_fields():
    return [f for f in dataclasses.fields(TrainOptions) if f.metadata["flag"]]


def define_flags(flag_values=flags.FLAGS):
    """Defines one absl flag per command-line field of `TrainOptions`."""
    for field in flag_fields():
        meta = field.metadata
        kwargs = {"flag_values": flag_values}
        if meta["lower_bound"] is not None:
            kwargs["lower_bound"] = meta["lower_bound"]
        kind = meta["kind"]
        if kind == "enum":
            flags.DEFINE_enum(field.name, field.default, list(meta["choices"]()), meta["help"], **kwargs)
        elif kind == "string":
            flags.DEFINE_string(field.name, field.default, meta["help"], **kwargs)
        elif kind == "integer":
            flags.DEFINE_integer(field.name, field.default, meta["help"], **kwargs)
        elif kind == "float":
            flags.DEFINE_float(field.name, field.default, meta["help"], **kwargs)
        elif kind == "bool":
            flags.DEFINE_bool(field.name, field.default, meta["help"], **kwargs)
        elif kind == "list":
            # Repeatable, each occurrence a comma-separated list (an absl list flag would keep
            # only the last occurrence and silently drop the others).
            flags.DEFINE_multi_string(field.name, list(field.default), meta["help"], **kwargs)
        else:
            raise ValueError(f"option {field.name}: no flag of kind {kind!r}")


def from_flags(flag_values=flags.FLAGS):
    """The `TrainOptions` the parsed flags ask for."""
    values = {f.name: flag_values[f.name].value for f in flag_fields()}
    for field in flag_fields():
        if field.metadata["kind"] == "list":
            values[field.name] = [item for text in values[field.name] for item in text.split(",") if item]
    return TrainOptions(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def parse_model_args(items, flag="--model_args"):
    """{name: value} from "name=value" strings (values read as JSON; a bare word is a string) or a dict.
    `flag` names what the user typed, in the error."""
    if isinstance(items, dict):
        return dict(items)
    out = {}
    for item in items:
        name, sep, text = str(item).partition("=")
        if not sep or not name.strip():
            raise InvalidArgumentError(f"{flag}: {item!r} is not name=value")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        out[name.strip()] = value
    return out


def check_model_args(spec, model_args, flag="--model_args"):
    """Refuses what `spec.cls` cannot be built with: an argument its constructor does not take, or a switch
    (a boolean argument) given anything but true or false. `flag` names what the user typed."""
    from tfgen import registry

    defaults = registry.constructor_defaults(spec.cls)
    unknown = sorted(set(model_args) - set(defaults))
    if unknown:
        known = ", ".join(sorted(defaults))
        raise InvalidArgumentError(f"{flag}: {spec.name} takes no argument {', '.join(unknown)}; it takes {known}")
    # A switch given a word would otherwise be truthy: bool("maybe") is True.
    for name, value in model_args.items():
        if isinstance(defaults[name], bool) and not isinstance(value, bool):
            raise InvalidArgumentError(f"{flag}: {name}={value!r} is not true or false")
