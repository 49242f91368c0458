"""DRAW's own pictures: the canvas after every step, with the attention windows drawn as boxes.

One row per image, one column per step (at most `MAX_COLUMNS`, evenly
spaced and always ending with the last step). With attention, the write
window of each step is a red box and (for reconstructions) the read window
a green one, as in the paper's figures; the box spans the grid of filter
centres, from mu^1 to mu^N.
"""

import numpy as np

from tfgen import visualize

MAX_COLUMNS = 16
WRITE_RGB = (220, 30, 30)
READ_RGB = (30, 180, 30)


def step_columns(steps, max_columns=MAX_COLUMNS):
    """The steps shown: all of them, or `max_columns` evenly spaced ones ending with the last."""
    if steps <= max_columns:
        return list(range(steps))
    return sorted({int(round(x)) for x in np.linspace(steps - 1, 0, max_columns)})


def window_box(win, size, scale):
    """(top, left, bottom, right) in the pixels of an image enlarged `scale` times, for one window.

    `win` holds floats for one image: centre_x, centre_y (1-based pixels), stride.
    """
    half = (size - 1) / 2 * win["stride"]
    # Pixel a (1-based) covers [a - 1, a) at scale 1; a box edge at position p sits at (p - 0.5) * scale.
    left, right = (win["centre_x"] - half - 0.5) * scale, (win["centre_x"] + half - 0.5) * scale
    top, bottom = (win["centre_y"] - half - 0.5) * scale, (win["centre_y"] + half - 0.5) * scale
    return int(round(top)), int(round(left)), int(round(bottom)), int(round(right))


def step_strip(model, logits, windows, palette):
    """RGB picture: rows = images, columns = steps, each the canvas's expected colours with its windows.

    Args:
        logits: [T, B, H, W, C, K] every step's canvas (`DRAW.drawing_steps`).
        windows: {"read"/"write": {name: [T, B]}} (empty without attention).
    """
    steps, num = logits.shape[:2]
    columns = step_columns(steps)
    scale = visualize.upscale_factor(model.image_shape[0])
    sizes = {"read": model.read_size, "write": model.write_size}
    colours = {"read": READ_RGB, "write": WRITE_RGB}
    tiles = []
    for i in range(num):
        for t in columns:
            rgb = model.render(logits[t, i : i + 1], palette)[0]
            rgb = np.ascontiguousarray(rgb.repeat(scale, axis=0).repeat(scale, axis=1))
            for kind, per_step in windows.items():
                win = {k: float(v[t, i]) for k, v in per_step.items()}
                visualize.outline(rgb, window_box(win, sizes[kind], scale), colours[kind])
            tiles.append(rgb)
    return visualize.grid(np.stack(tiles), cols=len(columns), scale=1)


def drawing_previews(model, examples, palette, seed=0, num=4):
    """{"drawing_samples": strip of `num` samples, "drawing_reconstructions": strip of `num` examples}."""
    codes = model.prior_codes(model.noise(num, seed))
    pictures = {"drawing_samples": step_strip(model, *model.drawing_steps(codes=codes), palette)}
    examples = np.asarray(examples)[:num]
    if len(examples):
        pictures["drawing_reconstructions"] = step_strip(model, *model.drawing_steps(images=examples), palette)
    return pictures
