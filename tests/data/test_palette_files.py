"""The exercise's text format: parsing, and clear errors for bad files."""

import numpy as np
import pytest

from tfgen.data import palette_files
from tfgen.data.errors import DataError


def write(path, text):
    path.write_text(text)
    return path


def test_palette_round_trip(tmp_path):
    palette = np.array([[255, 255, 255], [0, 10, 200], [7, 8, 9]], np.uint8)
    palette_files.write_palette(tmp_path / "c.txt", palette)
    np.testing.assert_array_equal(palette_files.read_palette(tmp_path / "c.txt"), palette)


def test_images_round_trip_skips_blank_lines(tmp_path):
    images = np.arange(2 * 4).reshape(2, 2, 2) % 3
    palette_files.write_images(tmp_path / "p.txt", images)
    text = (tmp_path / "p.txt").read_text().replace("\n", "\n\n", 1)
    write(tmp_path / "p.txt", text)
    got = list(palette_files.iter_images(tmp_path / "p.txt", num_colours=3, size=2))
    assert [line for line, _ in got] == [1, 3]
    np.testing.assert_array_equal(np.stack([img for _, img in got]), images)


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("255 255 255\n1 2\n", 2, "three integers"),
        ("255 255 255\n1 2 256\n", 2, "0..255"),
        ("0 0 0\n1 x 3\n", 2, "'x' is not an integer"),
        ("0 0 0\n-1 0 0\n", 2, "0..255"),
    ],
)
def test_bad_palette_names_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path / "colormap.txt", text)
    with pytest.raises(DataError, match=words) as err:
        palette_files.read_palette(path)
    assert str(err.value).startswith(f"{path}:{line}:")


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("0 1 2 0\n0 1 2\n", 2, "expected 4 palette indices"),
        ("0 1 2 0\n0 1 2 0 1\n", 2, "expected 4 palette indices"),
        ("0 1 2 0\n0 1 2.5 0\n", 2, "'2.5' is not an integer"),
        ("0 1 2 3\n", 1, "index 3 at position 3 is outside the palette"),
        ("0 1 2 0\n\n-1 0 0 0\n", 3, "index -1 at position 0"),
    ],
)
def test_bad_pixel_lines_name_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path / "pixel_color.txt", text)
    with pytest.raises(DataError, match=words) as err:
        list(palette_files.iter_images(path, num_colours=3, size=2))
    assert str(err.value).startswith(f"{path}:{line}:")


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        palette_files.read_palette(tmp_path / "nope.txt")


def test_infer_size_rejects_non_square(tmp_path):
    path = write(tmp_path / "p.txt", "1 2 3\n")
    with pytest.raises(DataError, match="not a square image"):
        palette_files.infer_size(path)
