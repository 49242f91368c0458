"""The model registry: the one place the CLIs, the exporter and the tests read.

A model registers once, next to its class:

    @registry.register("pixelrnn", configs=CONFIGS, default_dataset="digits")
    class PixelRNN(AutoregressiveImageModel): ...

The class must implement the model protocol of `tfgen.models.base` (the
registry reads its family from there). It becomes available to
`tools/train.py --model=pixelrnn`, to the export layer (which asks the model
for its signatures) and to every conformance test parametrised over
`registry.names()`. Registration also makes the class Keras-serializable so
`.keras` files reload without custom_objects.
"""

import dataclasses
import importlib
import inspect
from collections.abc import Mapping
from typing import Any

import keras

from tfgen.errors import UnknownNameError

REQUIRED_CONFIGS = ("tiny", "default")


@dataclasses.dataclass(frozen=True)
class Config:
    """A named configuration: model hyperparameters plus how to train it.

    Attributes:
        model: keyword arguments of the model's constructor (besides the
            data-dependent ones, which come from the dataset's DataSpec).
        batch_size, learning_rate, epochs: training defaults; CLI flags
            override them.
        jit_compile: whether the train step is XLA-compiled by default.
        checkpoint_every: steps between checkpoints (one is also written at
            every epoch end). Each save costs a fixed time, so a fast model
            on a time budget checkpoints less often (vae `long170`).
        early_stopping: stop after this many epochs without a better
            validation score (None: train every epoch).
        dataset: the dataset the config is made for, the training's default
            when none is named (None: the model's default dataset).
        flip: mirror training examples left-right at random (only for data
            whose DataSpec is flippable, e.g. pokemon).
        judge_error: adversarial models: after the last step, the judge is
            calibrated to call this share of the training images fake
            (`AdversarialImageModel.calibrate_judge`), so that two runs'
            judges are comparable in a GAM battle. None: not calibrated.
        description: one line for `--help` and the docs.
    """

    model: Mapping[str, Any]
    batch_size: int = 64
    learning_rate: float = 1e-3
    epochs: int = 10
    jit_compile: bool = False
    checkpoint_every: int = 100
    early_stopping: int | None = None
    dataset: str | None = None
    flip: bool = False
    judge_error: float | None = None
    description: str = ""

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def with_model(self, description, **model_changes):
        """A variant of this config: the same training, these constructor kwargs changed, a new description."""
        return self.replace(model={**self.model, **model_changes}, description=description)


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str
    cls: type
    configs: Mapping[str, Config]
    default_dataset: str

    @property
    def family(self):
        return self.cls.family

    def config(self, name):
        if name not in self.configs:
            raise UnknownNameError(
                f"model {self.name!r} has no config {name!r}; choose one of {', '.join(self.configs)}"
            )
        return self.configs[name]

    def build(self, data_spec, config="default", **overrides):
        """The model for a dataset with every weight created (ready for `compile` and `fit`).

        `config` is a name or a Config.
        """
        cfg = self.config(config) if isinstance(config, str) else config
        kwargs = {"name": self.name, **cfg.model, **overrides}
        model = self.cls.from_data_spec(data_spec, **kwargs)
        model.build_for_data()
        return model


_REGISTRY: dict[str, ModelSpec] = {}

# Constructor arguments a model takes from the dataset's DataSpec (`from_data_spec`), not from a config.
DATA_ARGUMENTS = frozenset(
    {"name", "num_classes", "image_shape", "example_shape", "sample_rate", "vocabulary", "max_length"}
)


def constructor_defaults(cls):
    """{argument: default} of the keyword arguments a config may set for model class `cls` (its and its
    bases' `__init__`s; the subclass's default wins; inspect.Parameter.empty where there is none)."""
    from tfgen.models import base

    defaults = {}
    for klass in reversed(cls.__mro__):
        if isinstance(klass, type) and issubclass(klass, base.GenerativeModel) and "__init__" in vars(klass):
            for p in inspect.signature(klass.__init__).parameters.values():
                if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                    defaults[p.name] = p.default
    renamed = getattr(cls, "renamed_arguments", {})
    return {renamed.get(n, n): d for n, d in defaults.items() if renamed.get(n, n) not in DATA_ARGUMENTS}


def constructor_arguments(cls):
    """The keyword arguments a config may set for model class `cls` (its and its bases' `__init__`s)."""
    return set(constructor_defaults(cls))


def register(name, *, configs, default_dataset):
    """Class decorator adding a `tfgen.models.base.GenerativeModel` subclass to the registry."""
    missing = [c for c in REQUIRED_CONFIGS if c not in configs]
    if missing:
        raise ValueError(f"model {name!r} must define configs {missing}")

    def decorate(cls):
        from tfgen.models import base

        if not (isinstance(cls, type) and issubclass(cls, base.GenerativeModel)):
            raise TypeError(f"model {name!r}: {cls!r} is not a subclass of tfgen.models.base.GenerativeModel")
        undefined = base.missing_members(cls)
        if undefined:
            raise TypeError(
                f"model {name!r}: {cls.__name__} does not define {', '.join(undefined)} (tfgen/models/base.py)"
            )
        if name in _REGISTRY and _REGISTRY[name].cls is not cls:
            raise ValueError(f"model name {name!r} is registered twice")
        keras.saving.register_keras_serializable(package="tfgen", name=cls.__name__)(cls)
        cls.registry_name = name
        _REGISTRY[name] = ModelSpec(name, cls, dict(configs), default_dataset)
        return cls

    return decorate


def _load_all():
    # Importing the models package runs every family's register() decorator.
    importlib.import_module("tfgen.models")


def get(name) -> ModelSpec:
    _load_all()
    if name not in _REGISTRY:
        raise UnknownNameError(f"unknown model {name!r}; registered models: {', '.join(names())}")
    return _REGISTRY[name]


def names():
    _load_all()
    return sorted(_REGISTRY)
