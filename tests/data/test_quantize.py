"""k-means colour quantisation on real image files."""

import numpy as np
import pytest
from PIL import Image

from tfgen import data as tfdata
from tfgen.data import quantize
from tfgen.data.errors import DataError


def write_sprites(folder, n=12, size=8, seed=0):
    """Sprites drawn from 4 known colours, with a transparent border."""
    rng = np.random.default_rng(seed)
    colours = np.array([[250, 10, 10], [10, 250, 10], [10, 10, 250], [0, 0, 0]], np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        rgba = np.zeros((size, size, 4), np.uint8)
        rgba[1:-1, 1:-1, :3] = colours[rng.integers(0, 4, (size - 2, size - 2))]
        rgba[1:-1, 1:-1, 3] = 255
        Image.fromarray(rgba, "RGBA").save(folder / f"{i:03d}.png")
    return colours


def test_recovers_a_known_palette_and_builder_reads_it(tmp_path):
    colours = write_sprites(tmp_path / "sprites")
    result = quantize.quantize_folder(tmp_path / "sprites", tmp_path / "out", num_colours=5, size=8)
    assert result.num_images == 12
    assert result.error_vs_source < 1e-6  # 5 clusters for 5 colours (4 + white background)
    palette = np.loadtxt(tmp_path / "out" / "colormap.txt", dtype=int)
    expected = {tuple(c) for c in colours} | {(255, 255, 255)}
    assert {tuple(c) for c in palette} == expected
    assert tuple(palette[0]) == (255, 255, 255)  # most frequent first: the border
    # Identical sets compare with zero error however they are ordered.
    report = quantize.compare(tmp_path / "out", tmp_path / "out")
    assert report["mean_rgb_distance"] == 0 and report["exact_pixel_fraction"] == 1


def test_real_sprites_round_trip_through_the_pokemon_builder(tmp_path, pokemon_dir):
    names, rgb = quantize.load_sprites(pokemon_dir / "figure", size=20)
    assert len(names) == 742 and rgb.shape == (742, 20, 20, 3)
    subset = tmp_path / "figure"
    subset.mkdir()
    for name in names[:40]:
        (subset / name).write_bytes((pokemon_dir / "figure" / name).read_bytes())
    result = quantize.quantize_folder(subset, tmp_path / "out", num_colours=32, size=20)
    # 32 colours for 40 sprites: a small but nonzero error, in RGB distance units (0..441).
    assert 0 < result.error_vs_source < 20
    every, spec = tfdata.load("pokemon", "all", tmp_path / "out")
    assert spec.num_classes == 32 and spec.image_shape == (20, 20, 1)
    images = np.stack(list(every.as_numpy_iterator()))
    assert len(images) == 40

    # The builder's images rendered through its palette are the quantised crops.
    def rows_sorted(a):
        flat = a.reshape(len(a), -1)
        return flat[np.lexsort(flat.T[::-1])]

    rendered = spec.palette[images[..., 0]].astype(float)
    np.testing.assert_array_equal(rows_sorted(rendered), rows_sorted(quantize.read_rgb(tmp_path / "out")))


def test_bad_inputs(tmp_path):
    with pytest.raises(DataError, match="folder not found"):
        quantize.load_sprites(tmp_path / "missing", 20)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images"):
        quantize.load_sprites(tmp_path / "empty", 20)
    write_sprites(tmp_path / "small", n=1, size=8)
    with pytest.raises(DataError, match="smaller than the 20x20 crop"):
        quantize.load_sprites(tmp_path / "small", 20)
    (tmp_path / "small" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="broken.png: cannot read image"):
        quantize.load_sprites(tmp_path / "small", 4)
