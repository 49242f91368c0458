"""TFDS builders for the datasets that TFDS itself does not ship.

* `PokemonSprites` reads the "Pokémon creation" files (`pixel_color.txt` and
  `colormap.txt`) from a manual directory; images are palette indices and the
  palette is stored as dataset metadata.
* `Digits` wraps scikit-learn's bundled 8x8 digits (17 grey levels), the
  embedded default that needs neither network nor files outside the package.
* `PTBSentences` reads a Penn Treebank text file (one sentence a line) from a
  manual directory; the vocabulary, built from the training split only, is
  stored as dataset metadata.
* `SpeechClips` reads every 16-bit mono PCM WAV file under a manual directory
  (recursively, sorted by relative path), e.g. the recorded telephony prompts
  in ../shared/data/speech (CC-BY-SA-3.0, see its COPYRIGHT).

All split deterministically by position: every tenth example
(index % 10 == 9) goes to `validation`, so the split is stable for files of
any length and an appended line never moves an earlier one between splits.
"""

from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds

from tfgen import audio
from tfgen.data import palette_files, text_files
from tfgen.data.errors import DataError

VALIDATION_EVERY = 10


def split_of(index):
    return "validation" if index % VALIDATION_EVERY == VALIDATION_EVERY - 1 else "train"


def _nonempty_splits(num_examples):
    # TFDS cannot write an empty split; a file of fewer than ten sprites has
    # no validation examples, and asking for them then fails by name.
    return [s for s in ("train", "validation") if any(split_of(i) == s for i in range(num_examples))]


class PokemonConfig(tfds.core.BuilderConfig):
    def __init__(self, *, size, **kwargs):
        super().__init__(name=f"{size}x{size}", **kwargs)
        self.size = size


class PokemonSprites(tfds.core.GeneratorBasedBuilder):
    """Palette-indexed Pokémon sprites from the ML 2016 "Pokémon creation" exercise."""

    VERSION = tfds.core.Version("1.0.0")
    BUILDER_CONFIGS = [
        PokemonConfig(size=20, description="20x20 centre crops (the exercise's files)"),
        PokemonConfig(size=40, description="full 40x40 sprites"),
    ]
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Place pixel_color.txt (one image a line, space-separated palette indices) "
        "and colormap.txt (one 'R G B' line per palette index) in the manual dir, "
        "e.g. ../shared/data/pokemon, or write them with tools/quantize.py."
    )

    def _info(self):
        size = self.builder_config.size
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Tensor(shape=(size, size, 1), dtype=np.uint8),
                    "line": tfds.features.Scalar(dtype=np.int32, doc="1-based line in pixel_color.txt"),
                }
            ),
            metadata=tfds.core.MetadataDict(),
            homepage="https://speech.ee.ntu.edu.tw/~tlkagk/courses_ML16.html",
        )

    def _split_generators(self, dl_manager):
        root = dl_manager.manual_dir
        palette = palette_files.read_palette(root / "colormap.txt")
        self.info.metadata["palette"] = palette.tolist()
        examples = list(palette_files.iter_images(root / "pixel_color.txt", len(palette), self.builder_config.size))
        return {split: self._generate_examples(examples, split) for split in _nonempty_splits(len(examples))}

    def _generate_examples(self, examples, split):
        for index, (lineno, image) in enumerate(examples):
            if split_of(index) == split:
                yield lineno, {"image": image[..., None], "line": lineno}


class Digits(tfds.core.GeneratorBasedBuilder):
    """scikit-learn's bundled 8x8 handwritten digits (UCI optdigits), 17 grey levels."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Tensor(shape=(8, 8, 1), dtype=np.uint8),
                    "label": tfds.features.ClassLabel(num_classes=10),
                }
            ),
            metadata=tfds.core.MetadataDict(),
            homepage="https://scikit-learn.org/stable/datasets/toy_dataset.html#digits-dataset",
        )

    def _split_generators(self, dl_manager):
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = digits.images.astype(np.uint8)[..., None]
        return {split: self._generate_examples(images, digits.target, split) for split in _nonempty_splits(len(images))}

    def _generate_examples(self, images, labels, split):
        for index, (image, label) in enumerate(zip(images, labels)):
            if split_of(index) == split:
                yield index, {"image": image, "label": int(label)}


class PTBSentences(tfds.core.GeneratorBasedBuilder):
    """Sentences of a Penn Treebank text file (Mikolov's preprocessing), one a line.

    The shared data holds only `ptb.valid.txt`; its lines are split by
    position like the other builders (every tenth to `validation`), and the
    vocabulary comes from the `train` lines alone, so validation words the
    model never saw map to `<unk>` as they would on new text.
    """

    VERSION = tfds.core.Version("1.0.0")
    FILE = "ptb.valid.txt"
    MIN_COUNT = 2  # words seen once in training become <unk>, so <unk> is learned on realistic words
    MANUAL_DOWNLOAD_INSTRUCTIONS = f"Place {FILE} (one sentence a line) in the manual dir, e.g. ../shared/data/ptb."

    def _info(self):
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "sentence": tfds.features.Text(),
                    "line": tfds.features.Scalar(dtype=np.int32, doc=f"1-based line in {self.FILE}"),
                }
            ),
            metadata=tfds.core.MetadataDict(),
            homepage="https://www.fit.vutbr.cz/~imikolov/rnnlm/",
        )

    def _split_generators(self, dl_manager):
        examples = list(text_files.iter_sentences(dl_manager.manual_dir / self.FILE))
        train = [s for i, (_, s) in enumerate(examples) if split_of(i) == "train"]
        self.info.metadata["vocabulary"] = text_files.build_vocabulary(train, self.MIN_COUNT)
        return {split: self._generate_examples(examples, split) for split in _nonempty_splits(len(examples))}

    def _generate_examples(self, examples, split):
        for index, (lineno, sentence) in enumerate(examples):
            if split_of(index) == split:
                yield lineno, {"sentence": sentence, "line": lineno}


class SpeechConfig(tfds.core.BuilderConfig):
    def __init__(self, *, sample_rate, **kwargs):
        super().__init__(name=f"{sample_rate // 1000}khz", **kwargs)
        self.sample_rate = sample_rate


def wav_files(root):
    """The WAV files under root, recursively, sorted by path relative to root (the split order)."""
    root = Path(str(root))  # TFDS hands over an epath, whose rglob refuses "**"
    files = (p for p in root.rglob("*") if p.suffix.lower() == ".wav" and p.is_file())
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


class SpeechClips(tfds.core.GeneratorBasedBuilder):
    """Every WAV file under a folder as one clip of 16-bit samples; the folder's rate picks the config."""

    VERSION = tfds.core.Version("1.0.0")
    BUILDER_CONFIGS = [
        SpeechConfig(sample_rate=8000, description="8 kHz (telephony)"),
        SpeechConfig(sample_rate=16000, description="16 kHz (wideband)"),
    ]
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Place 16-bit mono PCM WAV files (any folder depth) in the manual dir, e.g. ../shared/data/speech."
    )

    def _info(self):
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "audio": tfds.features.Audio(
                        shape=(None,), dtype=np.int16, sample_rate=self.builder_config.sample_rate
                    ),
                    "path": tfds.features.Text(doc="path relative to the manual dir"),
                }
            ),
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager):
        root = Path(str(dl_manager.manual_dir))
        files = wav_files(root)
        if not files:
            raise DataError(root, "no .wav files here (searched recursively)")
        return {split: self._generate_examples(root, files, split) for split in _nonempty_splits(len(files))}

    def _generate_examples(self, root, files, split):
        for index, path in enumerate(files):
            if split_of(index) == split:
                samples, _ = audio.read_wav(path, self.builder_config.sample_rate)
                relative = path.relative_to(root).as_posix()
                yield relative, {"audio": samples, "path": relative}
