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
import hashlib
import os
from pathlib import Path

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from tfgen import audio, locks
from tfgen.data import builders, palette_files
from tfgen.data.errors import DataError
from tfgen.errors import UnknownNameError

# Help text of every tool's --split flag: splits are the dataset's own, checked when it loads.
SPLIT_HELP = "any split the dataset has (train, validation; test where the data has one) or 'all'"
DEFAULT_DATASET = "digits"


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """What a dataset's examples are.

    Attributes:
        name: catalogue name.
        example_shape: the shape of one example: (height, width, channels)
            for images, (samples,) for audio windows, () for text.
        num_classes: number of values one position takes (palette size, grey
            levels, 2 for binary images, mu-law levels for audio); the
            vocabulary size for text.
        palette: uint8 [num_classes, 3], the RGB colour of each value, used to
            render images for people (empty for text and audio).
        num_examples: examples per split.
        kind: "image" (uint8 index images), "audio" (uint8 mu-law windows of
            a fixed length) or "text" (sentences as strings).
        vocabulary: for text, the tokens by index, built from the training
            split only: "" (padding) and "<unk>" (every other word) first,
            the layout of keras.layers.TextVectorization.
        max_length: for text, tokens per sentence after padding/truncation.
        sample_rate: for audio, samples per second.
        flippable: whether a left-right mirror image is as valid an example
            as the original (sprites face either way; digits do not), so
            training may augment with flips.
    """

    name: str
    example_shape: tuple
    num_classes: int
    palette: np.ndarray = dataclasses.field(repr=False)
    num_examples: dict = dataclasses.field(default_factory=dict)
    kind: str = "image"
    vocabulary: tuple = dataclasses.field(default=(), repr=False)
    max_length: int = 0
    sample_rate: int = 0
    flippable: bool = False

    @property
    def image_shape(self):
        """(height, width, channels): the example shape of an image dataset."""
        return self.example_shape

    @property
    def num_positions(self):
        """Values per example (pixels times channels, audio samples)."""
        return int(np.prod(self.example_shape, dtype=np.int64)) if self.example_shape else 0

    @property
    def num_pixels(self):
        return self.num_positions

    def to_json(self):
        return {
            "name": self.name,
            "example_shape": list(self.example_shape),
            "num_classes": self.num_classes,
            "palette": self.palette.tolist(),
            "num_examples": dict(self.num_examples),
            "kind": self.kind,
            "vocabulary": list(self.vocabulary),
            "max_length": self.max_length,
            "sample_rate": self.sample_rate,
            "flippable": self.flippable,
        }

    @classmethod
    def from_json(cls, d):
        return cls(
            name=d["name"],
            # Workdirs written before audio existed call it image_shape.
            example_shape=tuple(d["example_shape"] if "example_shape" in d else d["image_shape"]),
            num_classes=int(d["num_classes"]),
            palette=np.asarray(d["palette"], dtype=np.uint8).reshape(-1, 3),
            num_examples=dict(d.get("num_examples", {})),
            kind=d.get("kind", "image"),
            vocabulary=tuple(d.get("vocabulary", ())),
            max_length=int(d.get("max_length", 0)),
            sample_rate=int(d.get("sample_rate", 0)),
            flippable=bool(d.get("flippable", False)),
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
    with locks.exclusive(prepared_dir / ".prepare.lock"):
        builder = builder_cls(data_dir=str(prepared_dir), config=config)
        if not builder.is_prepared():
            tfds.display_progress_bar(False)
            builder.download_and_prepare(
                download_config=tfds.download.DownloadConfig(manual_dir=manual_dir, try_download_gcs=False)
            )
    return builder


def _fingerprint(*paths, root=None):
    h = hashlib.sha256()
    for p in paths:
        if root is not None:  # a renamed or moved file changes the split, so its name counts too
            h.update(Path(p).relative_to(root).as_posix().encode() + b"\0")
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
    spec = DataSpec("pokemon", (size, size, 1), len(palette), palette, _counts(builder), flippable=True)
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


MU_LAW_CLASSES = 256
WINDOW_SECONDS = 1  # audio examples are windows of this length


def _speech_source(data_dir):
    """(builder, sample rate, folder) of a folder of WAV files, prepared into the cache."""
    data_dir = Path(data_dir) if data_dir else shared_data_dir("speech")
    if data_dir is None:
        raise DataError(
            "speech", "no data_dir given (pass --data_dir=DIR holding .wav files, any depth, or set TFGEN_DATA)"
        )
    if not data_dir.is_dir():
        raise DataError(data_dir, "folder not found")
    files = builders.wav_files(data_dir)
    if not files:
        raise DataError(data_dir, "no .wav files here (searched recursively)")
    # The first file picks the rate among the builder's configs; the builder
    # then names any file whose rate differs.
    _, rate = audio.read_wav(files[0])
    rates = [c.sample_rate for c in builders.SpeechClips.BUILDER_CONFIGS]
    if rate not in rates:
        raise DataError(files[0], f"sample rate {rate} Hz; tfgen reads {' or '.join(map(str, rates))} Hz audio")
    prepared = cache_dir() / "tfds" / f"speech-{_fingerprint(*files, root=data_dir)}"
    builder = _prepare(builders.SpeechClips, prepared, manual_dir=str(data_dir), config=f"{rate // 1000}khz")
    return builder, rate, data_dir


# Streams already read, by (prepared data dir, split): the dir's name is the source files' fingerprint,
# so an edited folder is read afresh.
_STREAMS = {}


def _speech_stream(builder, split):
    """One split's clips end to end, in file order, as mu-law classes uint8 [N]."""
    key = (str(builder.data_dir), split)
    if key not in _STREAMS:
        _STREAMS[key] = _read_stream(builder, split)
    return _STREAMS[key]


def _read_stream(builder, split):
    ds = builder.as_dataset(split=_tfds_split(builder, split), shuffle_files=False)
    clips = sorted(((ex["path"], ex["audio"]) for ex in tfds.as_numpy(ds)), key=lambda pc: pc[0])
    pcm = np.concatenate([c for _, c in clips])
    return audio.mu_law_encode(audio.to_float(pcm), MU_LAW_CLASSES).astype(np.uint8)


def _windows(stream, length, offset):
    starts = audio.window_starts(len(stream), length, offset)
    return stream[starts[:, None] + np.arange(length)]


def _load_speech(split, data_dir, offset=0):
    builder, rate, _ = _speech_source(data_dir)
    window = WINDOW_SECONDS * rate
    _tfds_split(builder, split)  # an unknown split fails by name before anything is read
    counts = {s: audio.num_windows(len(_speech_stream(builder, s)), window) for s in builder.info.splits}
    windows = _windows(_speech_stream(builder, split), window, offset)
    spec = DataSpec(
        "speech",
        (window,),
        MU_LAW_CLASSES,
        np.zeros((0, 3), np.uint8),
        counts,
        kind="audio",
        sample_rate=rate,
    )
    return tf.data.Dataset.from_tensor_slices(windows), spec


def _speech_view(data_dir, seed, epoch):
    window = WINDOW_SECONDS * _speech_source(data_dir)[1]
    return _load_speech("train", data_dir, int(np.random.default_rng([seed, epoch]).integers(window)))[0]


# Datasets whose training examples differ from epoch to epoch (see `training_view`).
_VIEWS = {"speech": _speech_view}


def training_view(name, data_dir, seed, epoch):
    """The training split as epoch `epoch` of a run seeded `seed` sees it, or None for "as loaded".

    Audio windows are cut from each split's stream at a fresh offset every
    epoch (the number of windows stays the same), so a model does not learn
    where windows start; images and text are the same every epoch.
    """
    view = _VIEWS.get(name)
    return view(data_dir, seed, epoch) if view else None


_LOADERS = {
    "digits": _load_digits,
    "pokemon": _load_pokemon,
    "binarized_mnist": _load_binarized_mnist,
    "ptb": _load_ptb,
    "speech": _load_speech,
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
