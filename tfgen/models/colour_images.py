"""What the models that generate colours share (GANs, the energy model).

They read index images, look them up in the data's palette and work in the
colour space of `tfgen.data.colours` (one grey channel for grey palettes, RGB
otherwise), and they are tested on a small odd-shaped colour dataset.
"""

import numpy as np
import tensorflow as tf

from tfgen.data import DataSpec
from tfgen.data import colours as colour_space
from tfgen.models.base import GenerativeModel


class ColourImageModel(GenerativeModel):
    """Base of image models that draw colours rather than palette indices.

    Args:
        image_shape: (height, width, 1) of the dataset's index images.
        palette: uint8 [K, 3]: the colour of each index.
    """

    # A sampler has no likelihood to watch: monitoring looks at its pictures and their diversity.
    monitors = ("sample_grids", "mode_collapse")

    def __init__(self, image_shape, palette, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(d) for d in image_shape)
        if self.image_shape[-1] != 1:
            raise ValueError(f"expected index images with one channel, got {self.image_shape}")
        self.palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
        self.colour_table = colour_space.ColourTable(self.palette)
        self.colour_shape = (*self.image_shape[:2], self.colour_table.channels)

    @classmethod
    def from_data_spec(cls, spec, **kwargs):
        return cls(image_shape=spec.image_shape, palette=np.asarray(spec.palette).tolist(), **kwargs)

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape), "palette": self.palette.tolist()}

    @classmethod
    def conformance_spec(cls):
        """Odd, non-square, with a colour palette (the RGB path); grey palettes are
        covered by the families' own tests on digits."""
        palette = np.array([[255, 255, 255], [200, 30, 30], [20, 160, 40], [10, 10, 120]], np.uint8)
        return DataSpec("test", (6, 5, 1), 4, palette)

    @classmethod
    def example_batch(cls, spec, n, seed=0):
        """Two random prototype images, alternating: a fixed batch with modes a
        generator can learn in a few steps (i.i.d. random pixels give every sample
        the same distance to the batch, whatever it learns)."""
        rng = np.random.default_rng(seed)
        prototypes = rng.integers(0, spec.num_classes, (2, *spec.image_shape))
        return tf.constant(prototypes[np.arange(n) % 2], tf.int32)

    def build_for_data(self):
        self(tf.zeros([1, *self.image_shape], tf.int32))
