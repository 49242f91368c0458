"""Shared pieces of the registry-wide conformance protocol for image models
that generate colours (GANs, the energy model): the test data shape and the
fixed batch that `tests/models/test_conformance.py` trains on."""

import numpy as np
import tensorflow as tf


def colour_palette_spec():
    """Odd, non-square, with a colour palette (the RGB path); grey palettes are
    covered by the families' own tests on digits."""
    from tfgen.data import DataSpec

    palette = np.array([[255, 255, 255], [200, 30, 30], [20, 160, 40], [10, 10, 120]], np.uint8)
    return DataSpec("test", (6, 5, 1), 4, palette)


def prototype_batch(spec, n, seed=0):
    """Two random prototype images, alternating: a fixed batch with modes a
    generator can learn in a few steps (i.i.d. random pixels give every sample
    the same distance to the batch, whatever it learns)."""
    rng = np.random.default_rng(seed)
    prototypes = rng.integers(0, spec.num_classes, (2, *spec.image_shape))
    return tf.constant(prototypes[np.arange(n) % 2], tf.int32)
