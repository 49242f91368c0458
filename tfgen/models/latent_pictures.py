"""Pictures that make a latent-code model understandable.

* code grid: the decoder's output over a grid of a 2-D code, -1.5 ... 1.5 on
  both axes (the lecture's figure; 2-D codes only);
* code map: the validation set encoded into 2-D (the codes themselves for a
  2-D code, else their first two principal components);
* interpolation strips: two images and the decodings of evenly spaced points
  between their codes ("full moon to half moon");
* random codes and midpoints: decodings of codes drawn at random (the model's
  `sample`) and of the midpoint between two images' codes. An autoencoder's
  are poor, a VAE's are digits; `comparison` draws them side by side.

Written at the end of training (previews, and the code map by a monitor) and
by `tools/latent_pictures.py` for any trained workdir (`tfgen.sampling.write_latent_pictures`).
"""

import io

import numpy as np
import tensorflow as tf

from tfgen import visualize

GRID_EXTENT = 1.5


def _decode(model, codes, palette):
    return model.render(model.decode_logits(tf.constant(codes, tf.float32)), palette)


def _codes(model, images):
    return model.encode(tf.constant(images, tf.int32)).numpy()


def code_grid(model, palette, size=15, extent=GRID_EXTENT):
    """RGB picture of the decoder over [-extent, extent]^2; row 0 is the top (c2 = +extent)."""
    if model.latent_dim != 2:
        raise ValueError(f"the code grid needs a 2-D code; this model's has {model.latent_dim} dimensions")
    values = np.linspace(-extent, extent, size, dtype=np.float32)
    c1, c2 = np.meshgrid(values, values[::-1])
    codes = np.stack([c1.ravel(), c2.ravel()], axis=1)
    return visualize.grid(_decode(model, codes, palette), cols=size, pad=0, scale=2)


def interpolation_strips(model, starts, ends, palette, steps=10):
    """One row per pair: start image, decodings of `steps` points from its code to end's, end image."""
    a, b = _codes(model, starts), _codes(model, ends)
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[None, :, None]
    codes = (a[:, None] * (1 - t) + b[:, None] * t).reshape(-1, a.shape[1])
    decoded = _decode(model, codes, palette).reshape(len(a), steps, *model.image_shape[:2], 3)
    rows = np.concatenate(
        [visualize.render(starts, palette)[:, None], decoded, visualize.render(ends, palette)[:, None]], axis=1
    )
    return visualize.grid(rows.reshape(-1, *rows.shape[2:]), cols=steps + 2)


def midpoint_tiles(model, starts, ends, palette):
    """[N, 3, H, W, 3]: start, decoding of the midpoint of the two codes, end."""
    middle = (_codes(model, starts) + _codes(model, ends)) / 2
    return np.stack(
        [visualize.render(starts, palette), _decode(model, middle, palette), visualize.render(ends, palette)], axis=1
    )


def sample_tiles(model, num, seed, palette):
    """Decodings of `num` random codes (the model's `sample`)."""
    return _decode(model, model.prior_codes(model.noise(num, seed)).numpy(), palette)


def model_previews(model, examples, palette, num_samples=16, seed=0):
    """The pictures written at the end of training, from a few validation images."""
    examples = np.asarray(examples)
    n = len(examples)
    pictures = {"samples": visualize.grid(sample_tiles(model, num_samples, seed, palette))}
    recon = model.render(model(tf.constant(examples, tf.int32)), palette)
    pairs = np.stack([visualize.render(examples, palette), recon], axis=1).reshape(-1, *recon.shape[1:])
    pictures["reconstructions"] = visualize.grid(pairs, cols=4)
    if n >= 2:
        half = n // 2
        starts, ends = examples[:half], examples[half : 2 * half]
        pictures["interpolations"] = interpolation_strips(model, starts, ends, palette)
        tiles = midpoint_tiles(model, starts, ends, palette)
        pictures["midpoints"] = visualize.grid(tiles.reshape(-1, *tiles.shape[2:]), cols=3)
    if model.latent_dim == 2:
        pictures["code_grid"] = code_grid(model, palette)
    return pictures


def encode_split(model, images, batch_size=500, limit=None):
    """Codes [N, D] of a dataset of images (at most `limit`)."""
    encode = tf.function(model.encode, reduce_retracing=True, autograph=False)
    ds = images if limit is None else images.take(limit)
    return np.concatenate([encode(tf.cast(b, tf.int32)).numpy() for b in ds.batch(batch_size)])


def code_map(codes, title):
    """Scatter plot (RGB array) of codes [N, D]: the codes if D = 2, else their first two principal components."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    codes = np.asarray(codes, np.float64)
    if codes.shape[1] == 2:
        xy, labels = codes, ("code 1", "code 2")
    else:
        centred = codes - codes.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        xy, labels = centred @ vt[:2].T, ("principal component 1 of the codes", "principal component 2")
    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    ax.scatter(xy[:, 0], xy[:, 1], s=2, alpha=0.4, linewidths=0)
    ax.set_aspect("equal", adjustable="datalim")
    if codes.shape[1] == 2:
        square = plt.Rectangle(
            (-GRID_EXTENT, -GRID_EXTENT), 2 * GRID_EXTENT, 2 * GRID_EXTENT, fill=False, color="red", linewidth=1
        )
        ax.add_patch(square)  # the region the code grid picture decodes
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title(title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def comparison(models, examples, palette, num=8, seed=0):
    """Per model, one row of random-code decodings and one of (start, midpoint, end) triples.

    Models share the examples and the noise, so the rows differ only in the model.
    """
    examples = np.asarray(examples)
    half = min(num // 2, len(examples) // 2)
    rows = []
    for model in models:
        rows.append(sample_tiles(model, 3 * half, seed, palette))
        tiles = midpoint_tiles(model, examples[:half], examples[half : 2 * half], palette)
        rows.append(tiles.reshape(-1, *tiles.shape[2:]))
    return visualize.grid(np.concatenate(rows), cols=3 * half)
