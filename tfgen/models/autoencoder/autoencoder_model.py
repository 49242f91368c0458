"""Deep autoencoder: image -> code -> image, trained on reconstruction alone.

The decoder can be fed any code, which makes it look like a generator, but
nothing ties the codes of the training images to a known region: random codes
and midpoints between two codes land where the decoder was never trained and
decode to poor images (see `tools/latent_pictures.py`, which draws them next
to the VAE's). `sample` decodes Gaussian codes with the mean and variance of
the training codes (tracked while training), the fairest naive generator.

[1] Hinton & Salakhutdinov 2006, "Reducing the Dimensionality of Data with
    Neural Networks", Science 313 (784-1000-500-250-30 on MNIST).
"""

import keras
import tensorflow as tf

from tfgen import losses, registry
from tfgen.models.autoencoder.autoencoder_configs import CONFIGS
from tfgen.models.base import global_batch_mean
from tfgen.models.latent import EncoderDecoderModel


@registry.register("autoencoder", configs=CONFIGS, default_dataset="binarized_mnist")
class Autoencoder(EncoderDecoderModel):
    """Deterministic autoencoder over index images.

    Args:
        (see EncoderDecoderModel) num_classes, image_shape, latent_dim,
            architecture, hidden_units, conv_channels, embed_dim, activation.
        code_momentum: of the running mean/variance of the training codes
            that `sample` draws from. Defaults to 0.99.

    Example:
        >>> model = Autoencoder(num_classes=2, image_shape=(28, 28, 1), latent_dim=30,
        ...                     architecture="mlp", hidden_units=(1000, 500, 250))
        >>> codes = model.encode(images)              # [B, 30]
        >>> logits = model.decode_logits(codes)       # [B, 28, 28, 1, 1]
    """

    monitor = "reconstruction"
    has_likelihood = False  # reconstruction error only

    def __init__(self, num_classes, image_shape, code_momentum=0.99, **kwargs):
        super().__init__(num_classes, image_shape, **kwargs)
        self.code_momentum = float(code_momentum)
        # A linear code layer, as in [1]: the code is not squashed into a box.
        self.to_code = keras.layers.Dense(self.latent_dim, name="code")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.squared_error_tracker = keras.metrics.Mean(name="squared_error")

    def get_config(self):
        return {**super().get_config(), "code_momentum": self.code_momentum}

    def build(self, input_shape):
        features = self.encoder(tf.zeros([1, *self.image_shape], tf.int32))
        self.to_code.build(features.shape)
        self.decoder(tf.zeros([1, self.latent_dim]))
        # aggregation="mean": under a distribution strategy every replica
        # updates these from its own slice and the variable keeps the mean.
        self.code_mean = self.add_weight(
            shape=(self.latent_dim,), initializer="zeros", trainable=False, aggregation="mean", name="code_mean"
        )
        self.code_variance = self.add_weight(
            shape=(self.latent_dim,), initializer="ones", trainable=False, aggregation="mean", name="code_variance"
        )
        self.built = True

    def encode(self, images, training=False):
        return self.to_code(self.encoder(images, training=training))

    def prior_codes(self, noise):
        return self.code_mean + tf.sqrt(self.code_variance) * tf.cast(noise, self.code_mean.dtype)

    @property
    def metrics(self):
        return [self.reconstruction_tracker, self.squared_error_tracker]

    def train_step(self, images):
        with tf.GradientTape() as tape:
            codes = self.encode(images, training=True)
            logits = self.decode_logits(codes, training=True)
            nll = -self.log_likelihood(images, logits)
            # Nats per image, as the VAE (see there), so the two train on comparable scales.
            loss = self.optimizer.scale_loss(losses.replica_mean(nll))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(losses.dense_gradients(grads), self.trainable_variables))
        codes = tf.cast(tf.stop_gradient(codes), tf.float32)
        m = self.code_momentum
        # The global batch's moments, not a mean of per-replica variances.
        mean = global_batch_mean(tf.reduce_mean(codes, axis=0))
        mean_square = global_batch_mean(tf.reduce_mean(tf.square(codes), axis=0))
        self.code_mean.assign(m * self.code_mean + (1 - m) * mean)
        self.code_variance.assign(m * self.code_variance + (1 - m) * tf.maximum(mean_square - tf.square(mean), 0.0))
        metrics = self.reconstruction_metrics(images, logits)
        self.reconstruction_tracker.update_state(metrics["reconstruction"])
        self.squared_error_tracker.update_state(metrics["squared_error"])
        return {m.name: m.result() for m in self.metrics}

    def per_example_metrics(self, images):
        """Reconstruction error per image: nats and squared error (see reconstruction_metrics)."""
        return self.reconstruction_metrics(images, self(images))
