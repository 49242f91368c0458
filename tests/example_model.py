"""The smallest model that follows docs/ARCHITECTURE.md's "Add a model" recipe.

A first-order Markov chain over the raster scan: each pixel's distribution
depends on its position and the pixel before it (a learned table of logits).
It is written as the recipe says (a family base, configs with `tiny` and
`default`, the register decorator) and loaded as a pytest plugin
(`-p tests.example_model`) by `tests/test_add_a_model.py`, so the
registry-wide tests run on it in a process of their own and nowhere else.
"""

import tensorflow as tf

from tfgen import registry
from tfgen.models.autoregressive import AutoregressiveImageModel

NAME = "example_markov_pixels"

CONFIGS = {
    "default": registry.Config(model={}, batch_size=64, learning_rate=1e-2, epochs=5, description="a Markov chain"),
    "tiny": registry.Config(model={}, batch_size=8, learning_rate=0.1, epochs=1, description="for tests"),
}


@registry.register(NAME, configs=CONFIGS, default_dataset="digits")
class MarkovPixels(AutoregressiveImageModel):
    """p(x) = prod_t p(x_t | x_{t-1}), one table of logits per position.

    Args: see `AutoregressiveImageModel`.
    """

    def build(self, input_shape):
        # Row num_classes of each position's table is the start token's (read before pixel 0).
        self.table = self.add_weight(
            shape=(self.num_pixels, self.num_classes + 1, self.num_classes), initializer="random_normal", name="table"
        )
        self.built = True

    def call(self, images, training=False):
        batch = tf.shape(images)[0]
        x = tf.reshape(tf.cast(images, tf.int32), [batch, self.num_pixels])
        previous = tf.concat([self._start_token(batch)[:, None], x[:, :-1]], axis=1)
        positions = tf.broadcast_to(tf.range(self.num_pixels)[None], [batch, self.num_pixels])
        logits = tf.gather_nd(self.table, tf.stack([positions, previous], axis=-1))
        return tf.reshape(logits, [batch, *self.image_shape, self.num_classes])

    def _step_state(self, previous, state, canvas, t):
        del canvas  # the previous pixel is all the context there is
        return tf.gather(self.table[t], previous), state
