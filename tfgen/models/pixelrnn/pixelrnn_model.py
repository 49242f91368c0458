"""PixelRNN for the "Pokémon creation" exercise: an LSTM over the raster scan.

Each pixel is a 1-of-N choice (a palette index, a grey level or a bit); the
LSTM reads the previous pixel (one-hot, so its input projection is an
embedding gather) and predicts a softmax over the next one. Sampling carries
the LSTM state from pixel to pixel, so drawing an image costs one LSTM step
per pixel, not a pass over the whole prefix.

[1] van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural
    Networks", arXiv:1601.06759.
[2] Hung-yi Lee, ML 2016, "Pokémon creation" exercise (1-layer LSTM, 512
    cells, 167-colour palette, 20x20 sprites).
"""

import keras
import tensorflow as tf

from tfgen import registry
from tfgen.layers import SequenceLSTM
from tfgen.models.autoregressive import AutoregressiveImageModel
from tfgen.models.pixelrnn.pixelrnn_configs import CONFIGS


@registry.register("pixelrnn", configs=CONFIGS, default_dataset="digits")
class PixelRNN(AutoregressiveImageModel):
    """LSTM over the raster-scan sequence of categorical pixels.

    Args:
        num_classes: values a pixel takes (167 for the Pokémon palette).
        image_shape: (height, width, channels).
        units: LSTM cells per layer. Defaults to 512, as in the exercise.
        num_layers: stacked LSTM layers. Defaults to 1.
        dropout, weight_decay: see `AutoregressiveModel`; dropout acts on each LSTM layer's
            output (what the logits and the next layer read), one mask per sequence.

    Example:
        >>> model = PixelRNN(num_classes=167, image_shape=(20, 20, 1), units=64)
        >>> nats = model.log_prob(tf.zeros([2, 20, 20, 1], tf.int32))  # [2]
        >>> images = model.sample(model.noise(4, seed=0), tf.ones([4]))
    """

    supports_dropout = True

    def __init__(self, num_classes, image_shape, units=512, num_layers=1, **kwargs):
        super().__init__(num_classes, image_shape, **kwargs)
        self.units = int(units)
        self.num_layers = int(num_layers)
        # Index num_classes is the start token read before the first pixel.
        self.embedding = keras.layers.Embedding(
            num_classes + 1, 4 * units, embeddings_initializer="glorot_uniform", name="input_gates"
        )
        self.lstms = [SequenceLSTM(units, name=f"lstm_{i}") for i in range(num_layers)]
        self.projections = [
            keras.layers.Dense(4 * units, use_bias=False, name=f"input_gates_{i + 1}") for i in range(num_layers - 1)
        ]
        self.head = keras.layers.Dense(num_classes, name="logits")

    def get_config(self):
        return {**super().get_config(), "units": self.units, "num_layers": self.num_layers}

    def build(self, input_shape):
        steps = self.num_pixels
        self.embedding.build((None, steps))
        for i, lstm in enumerate(self.lstms):
            lstm.build((None, steps, 4 * self.units))
            if i:
                self.projections[i - 1].build((None, steps, self.units))
        self.head.build((None, steps, self.units))
        self.build_noise_seed()
        self.built = True

    def training_flops_per_example(self):
        """Matmul FLOPs of one training example (forward + backward = 3x forward).

        The input projection of the first layer is a gather (no FLOPs);
        elementwise gate math is left out, so achieved GFLOP/s is a lower bound.
        """
        h, k, t = self.units, self.num_classes, self.num_pixels
        recurrent = 2 * h * 4 * h * self.num_layers
        projections = 2 * h * 4 * h * (self.num_layers - 1)
        head = 2 * h * k
        return 3 * t * (recurrent + projections + head)

    def call(self, images, training=False):
        batch = tf.shape(images)[0]
        x = tf.reshape(tf.cast(images, tf.int32), [batch, self.num_pixels])
        previous = tf.concat([self._start_token(batch)[:, None], x[:, :-1]], axis=1)
        # Time-major throughout the recurrence: only the small logits get transposed.
        h = None
        for i, lstm in enumerate(self.lstms):
            gates = self.embedding(tf.transpose(previous)) if i == 0 else self.projections[i - 1](h)
            # One mask per sequence, the same at every pixel (variational dropout, Gal & Ghahramani
            # 2016): a fresh mask per pixel tripled the step time of the 512-cell model (XLA's CPU
            # random numbers for 400 x 64 x 512 values) and is not what RNNs regularise well with.
            h = self.dropout_features(
                lstm(gates, time_major=True), training, stream=i, noise_shape=[1, batch, self.units], batch_axis=1
            )
        logits = tf.transpose(self.head(h), [1, 0, 2])
        return tf.reshape(logits, [batch, *self.image_shape, self.num_classes])

    def serving_log_prob(self, images):
        # The training pass stores hidden states in a TensorArray, which
        # TFLite cannot lower with a dynamic batch; the step loop can.
        return self.log_prob_sequential(images)

    def _initial_state(self, batch_size):
        return tuple(lstm.zero_state(batch_size) for lstm in self.lstms)

    def _step_state(self, previous, state, canvas, t):
        del canvas, t  # the LSTM state already summarises every earlier pixel
        new_state = []
        h = None
        for i, lstm in enumerate(self.lstms):
            gates = self.embedding(previous) if i == 0 else self.projections[i - 1](h)
            h, s = lstm.step(gates, state[i])
            new_state.append(s)
        return self.head(h), tuple(new_state)
