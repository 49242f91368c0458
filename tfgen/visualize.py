"""Pictures people can look at: palette rendering, grids, boxes, completion sheets."""

from pathlib import Path

import numpy as np
from PIL import Image

COVER_RGB = (200, 60, 200)  # covered pixels: a colour no sprite palette entry is likely to be


def render(images, palette):
    """Index images [N, H, W, C] -> RGB uint8 [N, H, W, 3].

    Single-channel images are looked up in `palette` ([K, 3] uint8); three
    channel images are taken as 8-bit RGB values already.
    """
    images = np.asarray(images)
    if images.shape[-1] == 3:
        return images.astype(np.uint8)
    return np.asarray(palette, dtype=np.uint8)[images[..., 0].astype(np.int64)]


def render_export(images, metadata):
    """Renders an export's output images using its metadata (palette indices or floats in [0, 1])."""
    images = np.asarray(images)
    if images.dtype.kind == "f":
        grey = np.clip(np.round(images * 255), 0, 255).astype(np.uint8)
        return grey if grey.shape[-1] == 3 else np.repeat(grey, 3, axis=-1)
    return render(images, np.asarray(metadata["palette"], dtype=np.uint8))


def cover(rgb, num_known):
    """Paints pixels at raster positions >= num_known with COVER_RGB."""
    rgb = np.array(rgb, copy=True)
    n, h, w, _ = rgb.shape
    flat = rgb.reshape(n, h * w, 3)
    flat[:, num_known:] = COVER_RGB
    return flat.reshape(rgb.shape)


def upscale_factor(height, target=80):
    return max(1, target // height)


def grid(rgb, cols=None, pad=2, scale=None, background=255):
    """Tiles RGB images [N, H, W, 3] into one enlarged image (nearest neighbour)."""
    rgb = np.asarray(rgb, dtype=np.uint8)
    n, h, w, _ = rgb.shape
    scale = scale or upscale_factor(h)
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    big = rgb.repeat(scale, axis=1).repeat(scale, axis=2)
    hh, ww = h * scale, w * scale
    out = np.full((rows * (hh + pad) + pad, cols * (ww + pad) + pad, 3), background, np.uint8)
    for k in range(n):
        r, c = divmod(k, cols)
        out[pad + r * (hh + pad) : pad + r * (hh + pad) + hh, pad + c * (ww + pad) : pad + c * (ww + pad) + ww] = big[k]
    return out


def outline(rgb, box, colour):
    """Draws the outline of box = (top, left, bottom, right) onto an RGB array in place.

    Edges beyond the image are drawn on its border, so a box larger than the image frames it.
    """
    h, w, _ = rgb.shape
    top, left, bottom, right = box
    top, bottom = max(0, min(h - 1, top)), max(0, min(h - 1, bottom))
    left, right = max(0, min(w - 1, left)), max(0, min(w - 1, right))
    rgb[[top, bottom], left : right + 1] = colour
    rgb[top : bottom + 1, [left, right]] = colour
    return rgb


def completion_sheet(originals, rows, palette):
    """One row per image: original, then (covered, completed) for each fraction.

    Args:
        originals: [N, H, W, C] index images.
        rows: list of (num_known, completed [N, H, W, C]) pairs.
    """
    orig_rgb = render(originals, palette)
    columns = [orig_rgb]
    for num_known, completed in rows:
        columns.append(cover(orig_rgb, num_known))
        columns.append(render(completed, palette))
    n = len(originals)
    tiles = np.stack(columns, axis=1).reshape(n * len(columns), *orig_rgb.shape[1:])
    return grid(tiles, cols=len(columns))


def save_png(path, rgb):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    Image.fromarray(np.asarray(rgb, dtype=np.uint8)).save(tmp, format="PNG")
    tmp.replace(path)  # never leave a half-written PNG behind
    return path


def write_generated(out, outputs, metadata):
    """Writes a generating signature's outputs (export metadata beside them) to `out`.

    Images become a PNG grid; audio (mu-law classes) becomes one WAV per clip
    beside `out` and their spectrograms in `out`. Returns the generated array.
    """
    if "audio" in outputs:
        write_clips(out, outputs["audio"], metadata["num_classes"], metadata["sample_rate"])
        return outputs["audio"]
    save_png(out, grid(render_export(outputs["images"], metadata)))
    return outputs["images"]


def write_clips(out, classes, num_classes, sample_rate, mark=None):
    """Writes mu-law class sequences [N, T] as WAVs `<out stem>-<i>.wav` and their spectrograms as `out` (PNG).

    mark: a sample index drawn as a line on every spectrogram (where a
    completion's known part ends). Returns the paths written, the PNG last.
    """
    from tfgen import audio

    out = Path(out)
    clips = [audio.mu_law_decode(c, num_classes) for c in np.asarray(classes)]
    paths = [audio.write_wav(out.with_name(f"{out.stem}-{i}.wav"), c, sample_rate) for i, c in enumerate(clips)]
    paths.append(save_png(out, audio.spectrogram_sheet(clips, mark=mark)))
    return paths
