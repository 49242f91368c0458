"""TFDS builders and the dataset catalogue, on real files."""

import json

import numpy as np
import pytest

from tests.helpers import require_shared
from tfgen import data as tfdata
from tfgen.data import palette_files
from tfgen.data.errors import DataError


def as_array(ds):
    return np.stack(list(ds.as_numpy_iterator()))


def read_shipped(pokemon_dir):
    palette = palette_files.read_palette(pokemon_dir / "colormap.txt")
    images = [img for _, img in palette_files.iter_images(pokemon_dir / "pixel_color.txt", len(palette), 20)]
    return palette, np.stack(images)


def sort_rows(a):
    flat = a.reshape(len(a), -1)
    return flat[np.lexsort(flat.T[::-1])]


def test_pokemon_builder_on_shared_data(pokemon_dir):
    palette, shipped = read_shipped(pokemon_dir)
    train, spec = tfdata.load("pokemon", "train", pokemon_dir)
    val, _ = tfdata.load("pokemon", "validation", pokemon_dir)
    every, _ = tfdata.load("pokemon", "all", pokemon_dir)
    assert spec.image_shape == (20, 20, 1)
    assert spec.num_classes == 167 == len(palette)
    np.testing.assert_array_equal(spec.palette, palette)
    train, val, every = as_array(train), as_array(val), as_array(every)
    assert (len(train), len(val), len(every)) == (668, 74, 742)
    assert spec.num_examples == {"train": 668, "validation": 74}
    assert train.dtype == np.uint8 and train.shape[1:] == (20, 20, 1)
    # The builder serves exactly the file's sprites, split by position.
    np.testing.assert_array_equal(sort_rows(every), sort_rows(shipped))
    np.testing.assert_array_equal(sort_rows(val), sort_rows(shipped[9::10]))


def test_pokemon_split_is_deterministic_for_any_length(tmp_path, pokemon_dir):
    palette, shipped = read_shipped(pokemon_dir)
    for n in (1, 9, 10, 23):
        folder = tmp_path / f"n{n}"
        folder.mkdir()
        palette_files.write_palette(folder / "colormap.txt", palette)
        palette_files.write_images(folder / "pixel_color.txt", shipped[:n])
        every, spec = tfdata.load("pokemon", "all", folder)
        np.testing.assert_array_equal(sort_rows(as_array(every)), sort_rows(shipped[:n]))
        if n < 10:
            assert spec.num_examples == {"train": n}
            with pytest.raises(
                ValueError,
                match="has no split 'validation'; its splits: all, train; tfgen's validation split takes every tenth",
            ):
                tfdata.load("pokemon", "validation", folder)
            continue
        assert spec.num_examples == {"train": n - n // 10, "validation": n // 10}
        val = as_array(tfdata.load("pokemon", "validation", folder)[0])
        np.testing.assert_array_equal(sort_rows(val), sort_rows(shipped[9:n:10]))


def test_pokemon_edited_file_is_not_served_stale(tmp_path, pokemon_dir):
    palette, shipped = read_shipped(pokemon_dir)
    palette_files.write_palette(tmp_path / "colormap.txt", palette)
    palette_files.write_images(tmp_path / "pixel_color.txt", shipped[:3])
    first = as_array(tfdata.load("pokemon", "all", tmp_path)[0])
    palette_files.write_images(tmp_path / "pixel_color.txt", shipped[3:7])
    second = as_array(tfdata.load("pokemon", "all", tmp_path)[0])
    assert len(first) == 3 and len(second) == 4


@pytest.mark.parametrize(
    "pixels, words",
    [
        ("0 " * 399 + "\n", "pixel_color.txt:1: expected 400 palette indices"),
        ("0 " * 400 + "\n" + "0 " * 399 + "7.5\n", "pixel_color.txt:2: '7.5' is not an integer"),
        ("0 " * 400 + "\n" + "0 " * 399 + "3\n", "pixel_color.txt:2: index 3 at position 399 is outside"),
    ],
)
def test_pokemon_builder_reports_bad_line(tmp_path, pixels, words):
    (tmp_path / "colormap.txt").write_text("255 255 255\n0 0 0\n9 9 9\n")
    (tmp_path / "pixel_color.txt").write_text(pixels)
    with pytest.raises(DataError, match=words):
        tfdata.load("pokemon", "train", tmp_path)


def test_pokemon_builder_reports_bad_palette(tmp_path):
    (tmp_path / "colormap.txt").write_text("255 255 255\n0 0\n")
    (tmp_path / "pixel_color.txt").write_text("0 " * 400 + "\n")
    with pytest.raises(DataError, match=r"colormap.txt:2: a palette line must be three integers"):
        tfdata.load("pokemon", "train", tmp_path)


def test_pokemon_missing_files(tmp_path):
    with pytest.raises(DataError, match="pixel_color.txt: file not found"):
        tfdata.load("pokemon", "train", tmp_path)


def test_digits_embedded_default():
    train, spec = tfdata.load("digits", "train")
    val, _ = tfdata.load("digits", "validation")
    train, val = as_array(train), as_array(val)
    assert spec.image_shape == (8, 8, 1) and spec.num_classes == 17
    assert (len(train), len(val)) == (1618, 179)
    assert train.max() == 16 and train.min() == 0
    from sklearn.datasets import load_digits

    np.testing.assert_array_equal(sort_rows(val), sort_rows(load_digits().images[9::10].astype(np.uint8)))


def test_binarized_mnist_from_prepared_dir(tfds_dir):
    val, spec = tfdata.load("binarized_mnist", "validation", tfds_dir)
    first = as_array(val.take(256))
    assert spec.image_shape == (28, 28, 1) and spec.num_classes == 2
    assert spec.num_examples == {"train": 50000, "validation": 10000}
    assert set(np.unique(first)) == {0, 1}
    assert 0.05 < first.mean() < 0.25  # MNIST ink fraction, not noise or blank


def test_binarized_mnist_without_data_dir_says_what_to_do(tmp_path):
    with pytest.raises(DataError, match="never downloads"):
        tfdata.load("binarized_mnist", "train", tmp_path)


def test_unknown_dataset_and_split():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        tfdata.load("cifar")
    with pytest.raises(ValueError, match="has no split 'test'; its splits: all, train, validation"):
        tfdata.load("digits", "test")


def test_every_split_the_prepared_data_has(tfds_dir, tmp_path):
    """A full TFDS binarized_mnist has a test split: it loads, and `all` covers it too."""
    source = next((tfds_dir / "binarized_mnist").iterdir())
    copy = tmp_path / "binarized_mnist" / source.name
    copy.mkdir(parents=True)
    for f in source.iterdir():
        (copy / f.name).symlink_to(f)
    # The shared copy has train and validation only; its validation file serves as the test file.
    (copy / "binarized_mnist-test.tfrecord-00000-of-00001").symlink_to(
        source / "binarized_mnist-validation.tfrecord-00000-of-00001"
    )
    info = json.loads((source / "dataset_info.json").read_text())
    test_split = next(s for s in info["splits"] if s["name"] == "validation") | {"name": "test"}
    info["splits"].append(test_split)
    (copy / "dataset_info.json").unlink()
    (copy / "dataset_info.json").write_text(json.dumps(info))

    test, spec = tfdata.load("binarized_mnist", "test", tmp_path)
    validation, _ = tfdata.load("binarized_mnist", "validation", tmp_path)
    np.testing.assert_array_equal(as_array(test.take(64)), as_array(validation.take(64)))
    assert spec.num_examples["test"] == 10000
    assert int(tfdata.load("binarized_mnist", "all", tmp_path)[0].cardinality()) == 70000
    with pytest.raises(ValueError, match="has no split 'tset'; its splits: all, test, train, validation"):
        tfdata.load("binarized_mnist", "tset", tmp_path)


@pytest.mark.parametrize("name, subdir", [("pokemon", "pokemon"), ("binarized_mnist", "tfds"), ("ptb", "ptb")])
def test_tfgen_data_finds_the_shared_folder_without_data_dir(name, subdir, monkeypatch):
    root = require_shared(subdir).parent
    monkeypatch.delenv("TFGEN_DATA", raising=False)
    with pytest.raises(DataError, match="set TFGEN_DATA"):
        tfdata.load(name, "validation")
    monkeypatch.setenv("TFGEN_DATA", str(root))
    via_env, spec = tfdata.load(name, "validation")
    direct, _ = tfdata.load(name, "validation", root / subdir)
    assert spec.num_examples["validation"] > 0
    first = next(iter(via_env.take(1).as_numpy_iterator()))
    assert np.array_equal(first, next(iter(direct.take(1).as_numpy_iterator())))
