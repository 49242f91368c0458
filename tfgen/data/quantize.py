"""Colour clustering: turn a folder of RGB sprites into palette-index files.

This reproduces how the exercise's data was made: crop (or resize) each
sprite to a target size, cluster all RGB pixels with k-means into a palette
of `k` colours, and write `pixel_color.txt` / `colormap.txt`
(see `tfgen.data.palette_files`). Transparent pixels are composited over
white, the sprites' background.
"""

import dataclasses
import json
from pathlib import Path

import numpy as np
from PIL import Image

from tfgen.data import palette_files
from tfgen.data.errors import DataError

IMAGE_SUFFIXES = (".png", ".gif", ".bmp", ".jpg", ".jpeg")


def load_sprites(folder, size, mode="crop"):
    """Returns (file names, float RGB [N, size, size, 3] in 0..255)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(folder, "folder not found")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(folder, f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder")
    out = []
    for path in files:
        try:
            rgba = Image.open(path).convert("RGBA")
        except OSError as e:
            raise DataError(path, f"cannot read image: {e}") from None
        if mode == "crop":
            w, h = rgba.size
            if w < size or h < size:
                raise DataError(path, f"image is {w}x{h}, smaller than the {size}x{size} crop")
            left, top = (w - size) // 2, (h - size) // 2
            rgba = rgba.crop((left, top, left + size, top + size))
        elif mode == "resize":
            rgba = rgba.resize((size, size), Image.Resampling.BOX)
        else:
            raise ValueError(f"mode must be 'crop' or 'resize', got {mode!r}")
        a = np.asarray(rgba, dtype=np.float64)
        alpha = a[..., 3:] / 255.0
        out.append(a[..., :3] * alpha + 255.0 * (1.0 - alpha))
    return [p.name for p in files], np.stack(out)


def fit_palette(rgb, num_colours, seed=0, max_fit_pixels=200_000):
    """k-means palette of `rgb` pixels; returns (palette uint8 [k, 3], indices).

    The palette is ordered by how often each colour is used, so index 0 is
    the most common colour (the background).
    """
    from sklearn.cluster import KMeans

    pixels = rgb.reshape(-1, 3)
    rng = np.random.default_rng(seed)
    fit = pixels if len(pixels) <= max_fit_pixels else pixels[rng.choice(len(pixels), max_fit_pixels, replace=False)]
    kmeans = KMeans(n_clusters=num_colours, n_init=1, random_state=seed).fit(fit)
    labels = kmeans.predict(pixels)
    order = np.argsort(-np.bincount(labels, minlength=num_colours), kind="stable")
    palette = np.clip(np.round(kmeans.cluster_centers_[order]), 0, 255).astype(np.uint8)
    remap = np.empty(num_colours, dtype=np.int64)
    remap[order] = np.arange(num_colours)
    return palette, remap[labels].reshape(rgb.shape[:-1])


@dataclasses.dataclass
class QuantizeResult:
    num_images: int
    num_colours: int
    size: int
    error_vs_source: float  # mean per-pixel RGB distance of our quantised images to the crops


def quantize_folder(folder, out_dir, num_colours=167, size=20, mode="crop", seed=0):
    """Clusters a folder of sprites and writes pixel_color.txt + colormap.txt."""
    _, rgb = load_sprites(folder, size, mode)
    palette, indices = fit_palette(rgb, num_colours, seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    palette_files.write_palette(out_dir / "colormap.txt", palette)
    palette_files.write_images(out_dir / "pixel_color.txt", indices)
    error = float(np.linalg.norm(palette[indices].astype(np.float64) - rgb, axis=-1).mean())
    return QuantizeResult(len(rgb), num_colours, size, error)


def read_rgb(folder):
    """RGB float [N, S, S, 3] of a pixel_color.txt/colormap.txt pair."""
    folder = Path(folder)
    palette = palette_files.read_palette(folder / "colormap.txt")
    size = palette_files.infer_size(folder / "pixel_color.txt")
    images = [img for _, img in palette_files.iter_images(folder / "pixel_color.txt", len(palette), size)]
    return palette[np.stack(images)].astype(np.float64)


def compare(ours_dir, reference_dir):
    """Mean per-pixel RGB error between two quantised sets of the same sprites.

    The two files need not list the sprites in the same order (the shipped
    file does not follow the figure folder's order), so images are paired
    one-to-one by minimum total error (Hungarian assignment) first.
    """
    from scipy.optimize import linear_sum_assignment

    ours, ref = read_rgb(ours_dir), read_rgb(reference_dir)
    a = ours.reshape(len(ours), -1, 3)
    b = ref.reshape(len(ref), -1, 3)
    cost = np.stack([np.linalg.norm(b - x[None], axis=-1).mean(axis=1) for x in a])
    rows, cols = linear_sum_assignment(cost)
    matched = cost[rows, cols]
    abs_err = np.mean([np.abs(a[r] - b[c]).mean() for r, c in zip(rows, cols)])
    return {
        "pairs": int(len(rows)),
        "mean_rgb_distance": float(matched.mean()),
        "median_rgb_distance": float(np.median(matched)),
        "mean_abs_channel_error": float(abs_err),
        "exact_pixel_fraction": float(np.mean([np.mean(np.all(a[r] == b[c], axis=-1)) for r, c in zip(rows, cols)])),
    }


def to_json(d):
    return json.dumps(dataclasses.asdict(d) if dataclasses.is_dataclass(d) else d)
