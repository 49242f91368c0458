"""Dataset catalogue: every dataset tfgen trains on, by name.

`load(name, split, data_dir)` returns a `tf.data.Dataset` of uint8 images
[H, W, C] holding class indices (palette indices, grey levels or bits), or of
sentences (tf.string scalars) for text, and a `DataSpec` saying what the
indices (or the words) mean. Loaders never download: TFDS-native
datasets are read from a prepared `data_dir` with `download=False`, and our
own builders prepare from local files into a cache keyed by the content of
those files, so editing a source file can never serve stale examples.
"""

import dataclasses
import fcntl
import hashlib
import os
from pathlib import Path

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from tfgen.data import builders, palette_files
from tfgen.data.errors import DataError
from tfgen.errors import UnknownNameError

# Help text of every tool's --split flag: splits are the dataset's own, checked when it loads.
SPLIT_HELP = "any split the dataset has (train, validation; test where the data has one) or 'all'"
DEFAULT_DATASET = "digits"


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """What a dataset's images are.

    Attributes:
        name: catalogue name.
        image_shape: (height, width, channels); () for text.
        num_classes: number of values a pixel channel takes (palette size,
            grey levels, 2 for binary images); the vocabulary size for text.
        palette: uint8 [num_classes, 3], the RGB colour of each value, used to
            render images for people (empty for text).
        num_examples: examples per split.
        kind: "image" (uint8 index images) or "text" (sentences as strings).
        vocabulary: for text, the tokens by index, built from the training
            split only: "" (padding) and "<unk>" (every other word) first,
            the layout of keras.layers.TextVectorization.
        max_length: for text, tokens per sentence after padding/truncation.
    """

    name: str
    image_shape: tuple
    num_classes: int
    palette: np.ndarray = dataclasses.field(repr=False)
    num_examples: dict = dataclasses.field(default_factory=dict)
    kind: str = "image"
    vocabulary: tuple = dataclasses.field(default=(), repr=False)
    max_length: int = 0

    @property
    def num_pixels(self):
        h, w, c = self.image_shape
        return h * w * c

    def to_json(self):
        return {
            "name": self.name,
            "image_shape": list(self.image_shape),
            "num_classes": self.num_classes,
            "palette": self.palette.tolist(),
            "num_examples": dict(self.num_examples),
            "kind": self.kind,
            "vocabulary": list(self.vocabulary),
            "max_length": self.max_length,
        }

    @classmethod
    def from_json(cls, d):
        return cls(
            name=d["name"],
            image_shape=tuple(d["image_shape"]),
            num_classes=int(d["num_classes"]),
            palette=np.asarray(d["palette"], dtype=np.uint8).reshape(-1, 3),
            num_examples=dict(d.get("num_examples", {})),
            kind=d.get("kind", "image"),
            vocabulary=tuple(d.get("vocabulary", ())),
            max_length=int(d.get("max_length", 0)),
        )


def cache_dir():
    return Path(os.environ.get("TFGEN_CACHE", Path.home() / ".cache" / "tfgen"))


def shared_data_dir(subdir):
    """`$TFGEN_DATA/<subdir>` when TFGEN_DATA is set, else None."""
    root = os.environ.get("TFGEN_DATA")
    return Path(root) / subdir if root else None


def _tfds_split(builder, split):
    """TFDS split string: any split the prepared data has; "all" joins every one."""
    available = sorted(builder.info.splits)
    if split == "all":
        return "+".join(available)
    if split not in available:
        raise UnknownNameError(
            f"{builder.name} (prepared in {builder.data_dir}) has no split {split!r}; "
            f"its splits: {', '.join(['all', *available])}"
            + ("; tfgen's validation split takes every tenth example" if split == "validation" else "")
        )
    return split


def _prepare(builder_cls, prepared_dir, manual_dir=None, config=None):
    prepared_dir = Path(prepared_dir)
    prepared_dir.mkdir(parents=True, exist_ok=True)
    # Several processes (e.g. the workers of one multi-worker run) may prepare
    # the same dataset at once; TFDS's final rename would race, so serialise.
    with open(prepared_dir / ".prepare.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        builder = builder_cls(data_dir=str(prepared_dir), config=config)
        if not builder.is_prepared():
            tfds.display_progress_bar(False)
            builder.download_and_prepare(
                download_config=tfds.download.DownloadConfig(manual_dir=manual_dir, try_download_gcs=False)
            )
    return builder


def _fingerprint(*paths):
    h = hashlib.sha256()
    for p in paths:
        h.update(Path(p).read_bytes())
    return h.hexdigest()[:16]


def _images(builder, split):
    ds = builder.as_dataset(split=_tfds_split(builder, split), shuffle_files=False)
    return ds.map(lambda ex: ex["image"], num_parallel_calls=tf.data.AUTOTUNE)


def _counts(builder):
    return {name: info.num_examples for name, info in builder.info.splits.items()}


def _grey_palette(levels):
    # Value 0 is background (white) and the top level is ink (black), as in the digits data.
    grey = np.round(255 - np.arange(levels) * 255 / (levels - 1)).astype(np.uint8)
    return np.stack([grey] * 3, axis=1)


def _load_digits(split, data_dir):
    del data_dir  # embedded: always prepared from scikit-learn's bundled copy
    builder = _prepare(builders.Digits, cache_dir() / "tfds")
    spec = DataSpec("digits", (8, 8, 1), 17, _grey_palette(17), _counts(builder))
    return _images(builder, split), spec


def _load_pokemon(split, data_dir):
    data_dir = Path(data_dir) if data_dir else shared_data_dir("pokemon")
    if data_dir is None:
        raise DataError(
            "pokemon",
            "no data_dir given (pass --data_dir=DIR holding pixel_color.txt and colormap.txt, or set TFGEN_DATA)",
        )
    pixels, colours = data_dir / "pixel_color.txt", data_dir / "colormap.txt"
    for p in (pixels, colours):
        if not p.is_file():
            raise DataError(p, "file not found")
    # The first line picks the sprite size among the builder's configs; any
    # other length is then reported as a bad line by the builder itself.
    size = palette_files.first_line_length(pixels)
    sizes = [c.size for c in builders.PokemonSprites.BUILDER_CONFIGS]
    size = next((s for s in sizes if s * s == size), sizes[0])
    config = f"{size}x{size}"
    prepared = cache_dir() / "tfds" / f"pokemon-{_fingerprint(pixels, colours)}"
    builder = _prepare(builders.PokemonSprites, prepared, manual_dir=str(data_dir), config=config)
    palette = np.asarray(builder.info.metadata["palette"], dtype=np.uint8)
    spec = DataSpec("pokemon", (size, size, 1), len(palette), palette, _counts(builder))
    return _images(builder, split), spec


def _load_binarized_mnist(split, data_dir):
    data_dir = Path(data_dir) if data_dir else shared_data_dir("tfds")
    if data_dir is None or not (data_dir / "binarized_mnist").is_dir():
        raise DataError(
            data_dir or "binarized_mnist",
            "no prepared TFDS binarized_mnist here (pass --data_dir=DIR with DIR/binarized_mnist/1.0.0, "
            "e.g. ../shared/data/tfds, or set TFGEN_DATA); tfgen never downloads",
        )
    builder = tfds.builder("binarized_mnist", data_dir=str(data_dir))
    ds = _images(builder, split)
    palette = np.array([[0, 0, 0], [255, 255, 255]], dtype=np.uint8)
    return ds, DataSpec("binarized_mnist", (28, 28, 1), 2, palette, _counts(builder))


PTB_MAX_LENGTH = 50  # words per sentence the models read; 99.4% of PTB validation sentences fit


def _load_ptb(split, data_dir):
    data_dir = Path(data_dir) if data_dir else shared_data_dir("ptb")
    if data_dir is None:
        raise DataError(
            "ptb", f"no data_dir given (pass --data_dir=DIR holding {builders.PTBSentences.FILE}, or set TFGEN_DATA)"
        )
    source = data_dir / builders.PTBSentences.FILE
    if not source.is_file():
        raise DataError(source, "file not found")
    prepared = cache_dir() / "tfds" / f"ptb-{_fingerprint(source)}"
    builder = _prepare(builders.PTBSentences, prepared, manual_dir=str(data_dir))
    vocabulary = tuple(builder.info.metadata["vocabulary"])
    ds = builder.as_dataset(split=_tfds_split(builder, split), shuffle_files=False)
    ds = ds.map(lambda ex: ex["sentence"], num_parallel_calls=tf.data.AUTOTUNE)
    spec = DataSpec(
        "ptb",
        (),
        len(vocabulary),
        np.zeros((0, 3), np.uint8),
        _counts(builder),
        kind="text",
        vocabulary=vocabulary,
        max_length=PTB_MAX_LENGTH,
    )
    return ds, spec


_LOADERS = {
    "digits": _load_digits,
    "pokemon": _load_pokemon,
    "binarized_mnist": _load_binarized_mnist,
    "ptb": _load_ptb,
}


def names():
    return sorted(_LOADERS)


def load(name, split="train", data_dir=None):
    """Returns `(dataset, spec)`: uint8 images [H, W, C] (or sentences) of split `split`.

    Args:
        name: one of `names()`.
        split: any split the dataset has ("train" and "validation" for
            tfgen's builders, "validation" taking every tenth example; "test"
            too for a full TFDS binarized_mnist) or "all" (every example, e.g.
            to evaluate a separate file of sprites).
        data_dir: where the source lives; its meaning depends on the dataset
            (the folder of text files for pokemon, a prepared TFDS data dir for
            binarized_mnist, the folder holding ptb.valid.txt for ptb, ignored
            for the embedded digits).
    """
    if name not in _LOADERS:
        raise UnknownNameError(f"unknown dataset {name!r}; choose one of {', '.join(names())}")
    return _LOADERS[name](split, data_dir)


def spec(name, data_dir=None):
    return load(name, "train", data_dir)[1]
