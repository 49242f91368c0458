"""Variational autoencoder over index images.

The encoder gives the mean m and the LOG VARIANCE of a diagonal Gaussian
q(c|x); a code is drawn by reparameterisation, c = m + exp(log_var / 2) * e
with e ~ N(0, I) (the lecture's c = exp(sigma) * e + m with sigma = log std =
log_var / 2), so gradients reach the encoder through m and log_var. The loss
is reconstruction + beta * KL, with KL = 1/2 * sum(exp(log_var) - (1 +
log_var) + m^2) in nats: half the lecture's sum(exp(sigma) - (1 + sigma) +
m^2) with sigma the log variance (see `tfgen.losses.latent`). With beta = 1
it is the negative ELBO, an upper bound on -log p(x); the importance-weighted
estimate with k samples [2] tightens it for evaluation
(`tfgen.evaluation.importance`).

Pixels are independent Bernoullis for binary images (binarized MNIST) and
independent categoricals over the palette for palette images (Pokémon).

[1] Kingma & Welling 2014, "Auto-Encoding Variational Bayes", arXiv:1312.6114.
[2] Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders",
    arXiv:1509.00519.
"""

import keras
import tensorflow as tf

from tfgen import losses, registry
from tfgen.losses import latent as latent_losses
from tfgen.models.base import GaussianCodePosterior
from tfgen.models.latent import EncoderDecoderModel
from tfgen.models.vae.vae_configs import CONFIGS

# Validation draws the same code noise for every batch: the -ELBO estimate of
# a checkpoint is then reproducible.
EVAL_NOISE_SEED = (2016, 0)


@registry.register("vae", configs=CONFIGS, default_dataset="binarized_mnist")
class VAE(EncoderDecoderModel, GaussianCodePosterior):
    """VAE with a Gaussian code and Bernoulli or categorical pixels.

    Args:
        (see EncoderDecoderModel) num_classes, image_shape, latent_dim,
            architecture, hidden_units, conv_channels, embed_dim, activation,
            learning_rate_decay.
        beta: weight of the KL term (1: the ELBO; > 1: beta-VAE). Defaults to 1.
        kl_warmup: the KL weight rises linearly from 0 to beta over this
            fraction of the run (0: no warm-up; `tfgen.losses.latent.kl_weight`),
            which keeps more code dimensions in use early on (Sønderby et al. 2016).

    Example:
        >>> vae = VAE(num_classes=2, image_shape=(28, 28, 1), latent_dim=2)
        >>> mean, log_var = vae.posterior(images)
        >>> logits = vae.decode_logits(tf.random.normal([16, 2]))
    """

    monitor = "loss"

    def __init__(self, num_classes, image_shape, beta=1.0, kl_warmup=0.0, **kwargs):
        super().__init__(num_classes, image_shape, **kwargs)
        self.beta = float(beta)
        self.kl_warmup = float(kl_warmup)
        if not 0.0 <= self.kl_warmup <= 1.0:
            raise ValueError(f"kl_warmup is a fraction of the run in [0, 1], got {kl_warmup}")
        self.to_posterior = keras.layers.Dense(2 * self.latent_dim, name="posterior")
        self.add_elbo_trackers()

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "kl_warmup": self.kl_warmup}

    def build(self, input_shape):
        features = self.encoder(tf.zeros([1, *self.image_shape], tf.int32))
        self.to_posterior.build(features.shape)
        self.decoder(tf.zeros([1, self.latent_dim]))
        self.add_noise_seed()
        self.built = True

    def posterior(self, images, training=False):
        """(mean, log_variance) of q(c | images), each [B, latent_dim]."""
        h = tf.cast(self.to_posterior(self.encoder(images, training=training)), tf.float32)
        return h[:, : self.latent_dim], h[:, self.latent_dim :]

    def encode(self, images, training=False):
        return self.posterior(images, training=training)[0]

    def encode_outputs(self, images):
        mean, log_var = self.posterior(images)
        return {"mean": mean, "log_variance": log_var}

    def encode_output_docs(self):
        return {"mean": "mean of q(c|x)", "log_variance": "log variance of q(c|x)"}

    def elbo_terms(self, images, eps, training=False):
        """(reconstruction nats, KL nats), each [B], for one code per image drawn with eps."""
        mean, log_var = self.posterior(images, training=training)
        codes = latent_losses.reparameterize(mean, log_var, eps)
        logits = self.decode_logits(codes, training=training)
        return -self.log_likelihood(images, logits), latent_losses.gaussian_kl(mean, log_var)

    def kl_weight(self):
        return latent_losses.kl_weight(self.optimizer.iterations, self.beta, self.kl_warmup, self.total_steps)

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def train_step(self, images):
        eps = self._training_noise([tf.shape(images)[0], self.latent_dim])
        with tf.GradientTape() as tape:
            reconstruction, kl = self.elbo_terms(images, eps, training=True)
            total = reconstruction + self.kl_weight() * kl
            # Nats per image (not per pixel): gradients of a per-pixel mean are ~1e-6, where
            # Adam's epsilon (1e-7) starts to damp the steps.
            loss = self.optimizer.scale_loss(losses.replica_mean(total))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(losses.dense_gradients(grads), self.trainable_variables))
        return self.elbo_logs(total, reconstruction, kl)

    def per_example_metrics(self, images):
        eps = tf.random.stateless_normal([tf.shape(images)[0], self.latent_dim], seed=EVAL_NOISE_SEED)
        return self.elbo_metrics(images, *self.elbo_terms(images, eps))

    # -- importance-weighted likelihood (tfgen.evaluation.importance) ------

    def gaussian_posterior(self, images):
        """(context, mean, log_var): what `sample_log_likelihood` needs, and q(c|x)."""
        mean, log_var = self.posterior(images)
        return tf.cast(images, tf.int32), mean, log_var

    def sample_log_likelihood(self, images, codes):
        """log p(images | codes) for S codes per image: codes [B, S, D] -> [B, S]."""
        batch, samples = tf.shape(codes)[0], tf.shape(codes)[1]
        logits = self.decode_logits(tf.reshape(codes, [-1, self.latent_dim]))
        logits = tf.reshape(tf.cast(logits, tf.float32), [batch, samples, self.num_pixels, -1])
        targets = tf.reshape(images, [batch, 1, self.num_pixels])
        if self.bernoulli:
            labels = tf.broadcast_to(tf.cast(targets, tf.float32), [batch, samples, self.num_pixels])
            per_pixel = -tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits[..., 0])
        else:
            labels = tf.broadcast_to(targets, [batch, samples, self.num_pixels])
            per_pixel = -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        return tf.reduce_sum(per_pixel, axis=-1)
