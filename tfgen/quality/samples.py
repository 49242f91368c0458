"""Images drawn from any model, as colours: the samples every sample-quality score is computed on.

A model takes part by providing the image hook (docs/ARCHITECTURE.md):
`model.generate_images(num, seed) -> [num, H, W, C]`, float32 colours in
[0, 1] (`tfgen.data.colours`) or integer palette indices, which are looked
up in the dataset's palette here.
"""

import functools
import inspect

import numpy as np

from tfgen.data import colours as colour_space
from tfgen.errors import InvalidArgumentError

CHUNK = 500


def image_sampler(model, pixels=None):
    """model.generate_images, with `pixels` bound for models that take it (see `generate_colours`)."""
    if pixels is None:
        return model.generate_images
    if "pixels" not in inspect.signature(model.generate_images).parameters:
        raise InvalidArgumentError(
            f"--pixels applies to models that decode pixel distributions (vae, autoencoder, draw), "
            f"not {type(model).__name__}"
        )
    return functools.partial(model.generate_images, pixels=pixels)


def generate_colours(model, num, seed, palette, chunk=CHUNK, pixels=None):
    """`num` images from a model (see `image_sampler`), as colours; chunk i uses seed (seed, i).

    pixels: None for the model's own images, or (models that decode pixel
    distributions: the VAE, the autoencoder) "most_likely" or "drawn".
    """
    sampler = image_sampler(model, pixels)
    out = []
    for i, start in enumerate(range(0, num, chunk)):
        n = min(chunk, num - start)
        images = colour_space.as_colours(sampler(n, seed * 100_003 + i), palette)
        if images.shape[0] != n:
            raise ValueError(f"generate_images({n}, ...) returned {images.shape[0]} images")
        out.append(images)
    return np.concatenate(out)
