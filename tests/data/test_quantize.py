"""k-means colour quantisation on real image files."""

import numpy as np
import pytest

from tests.helpers import write_sprites
from tfgen import data as tfdata
from tfgen.data import palette_files, quantize
from tfgen.data.errors import DataError


def test_recovers_a_known_palette_and_builder_reads_it(tmp_path):
    colours = write_sprites(tmp_path / "sprites")
    result = quantize.quantize_folder(tmp_path / "sprites", tmp_path / "out", num_colours=5, size=8)
    assert result.num_images == 12
    assert result.error_vs_source < 1e-6  # 5 clusters for 5 colours (4 + white background)
    palette = np.loadtxt(tmp_path / "out" / "colormap.txt", dtype=int)
    expected = {tuple(c) for c in colours} | {(255, 255, 255)}
    assert {tuple(c) for c in palette} == expected
    assert tuple(palette[0]) == (255, 255, 255)  # most frequent first: the border


def _indices_and_palette(folder):
    palette = palette_files.read_palette(folder / "colormap.txt")
    size = palette_files.infer_size(folder / "pixel_color.txt")
    images = np.stack([img for _, img in palette_files.iter_images(folder / "pixel_color.txt", len(palette), size)])
    return images, palette


def _write(folder, images, palette):
    folder.mkdir(parents=True)
    palette_files.write_palette(folder / "colormap.txt", palette)
    palette_files.write_images(folder / "pixel_color.txt", images)


def test_comparison_pairs_sprites_in_any_order_under_any_palette_order(tmp_path):
    write_sprites(tmp_path / "sprites", n=12, size=8)
    quantize.quantize_folder(tmp_path / "sprites", tmp_path / "out", num_colours=5, size=8)
    images, palette = _indices_and_palette(tmp_path / "out")
    rng = np.random.default_rng(1)
    # The same sprites, listed in another order, under a permuted palette: distance 0.
    perm = rng.permutation(len(palette))  # new index of each old colour
    order = rng.permutation(len(images))
    new_palette = np.empty_like(palette)
    new_palette[perm] = palette
    _write(tmp_path / "permuted", perm[images[order]], new_palette)
    report = quantize.compare(tmp_path / "out", tmp_path / "permuted")
    assert report["pairs"] == 12 and report["mean_rgb_distance"] == 0 and report["exact_pixel_fraction"] == 1
    # One colour moved by (3, 4, 0), a distance of 5: each sprite's error is 5 x its share of that colour.
    moved = palette.copy()
    moved[1] = moved[1] + np.array([3, 4, 0]) * np.where(moved[1] > 200, -1, 1)
    _write(tmp_path / "perturbed", images[order], moved)
    share = (images[order] == 1).reshape(12, -1).mean(axis=1)
    assert share.mean() > 0.05  # the moved colour is used
    report = quantize.compare(tmp_path / "out", tmp_path / "perturbed")
    np.testing.assert_allclose(report["mean_rgb_distance"], 5 * share.mean(), rtol=1e-9)
    np.testing.assert_allclose(report["exact_pixel_fraction"], 1 - share.mean(), rtol=1e-9)


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
