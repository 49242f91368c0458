"""GRAN: a generator that draws on a canvas over T steps.

At step t the generator encodes the current (squashed) canvas, combines that
reading with a code of the noise and its recurrent state (a GRU), and
decodes an update that is added to the canvas: C_t = C_{t-1} + f(h_t). The
image is tanh(C_T), the squashed sum of the updates. With T = 1 it is a DCGAN
generator behind an extra dense layer. The discriminator and the training are
DCGAN's.

The canvas reading is centred (`centre_reading`, on by default): in training
its mean over the batch is subtracted, in sampling its running mean [2].
Without it GRAN collapses to one digit on binarized MNIST at every T, even
T = 1, where the reading of the empty canvas is one learned vector for every
noise: a vector shared by the whole batch, produced by many parameters, enters
the GRU as an input that Adam moves much faster than the noise's part, and it
takes over the hidden state. With only that shared part removed, the same
generators train without collapse (docs/RESULTS.md, issue 18).

[1] Im, Kim, Jiang, Memisevic 2016, "Generating Images with Recurrent
    Adversarial Networks", arXiv:1602.05110.
[2] Salimans, Kingma 2016, "Weight Normalization: A Simple Reparameterization
    to Accelerate Training of Deep Neural Networks" (mean-only batch
    normalization), arXiv:1602.07868.
"""

import keras
import tensorflow as tf

from tfgen import registry
from tfgen.data import colours as colour_space
from tfgen.layers import ConvEncoder, ConvGenerator
from tfgen.models.base import global_batch_mean
from tfgen.models.gan.adversarial_model import AdversarialImageModel
from tfgen.models.gan.gan_configs import GRAN_CONFIGS


class MeanOnlyBatchNorm(keras.layers.Layer):
    """x - its mean over the batch (training) or x - the running mean (otherwise), per feature.

    Mean-only batch normalisation [2]: nothing is divided, so only the part
    shared by the whole batch is removed. Under a tf.distribute strategy the
    mean is the global batch's, so a mirrored run computes what one process does.

    Args:
        momentum: the running mean's decay per training call. Defaults to 0.99.
    """

    def __init__(self, momentum=0.99, **kwargs):
        super().__init__(**kwargs)
        self.momentum = float(momentum)

    def build(self, input_shape):
        # ONLY_FIRST_REPLICA: every replica computes the same update from the same global mean.
        self.moving_mean = self.add_weight(
            shape=(input_shape[-1],),
            initializer="zeros",
            trainable=False,
            aggregation="only_first_replica",
            name="moving_mean",
        )
        self.built = True

    def call(self, x, training=False):
        if not training:
            return x - tf.cast(self.moving_mean.value, x.dtype)
        mean = global_batch_mean(tf.reduce_mean(x, axis=0))
        decayed = self.momentum * self.moving_mean.value
        self.moving_mean.assign(
            decayed + (1.0 - self.momentum) * tf.cast(tf.stop_gradient(mean), self.moving_mean.dtype)
        )
        return x - mean


class CanvasGenerator(keras.layers.Layer):
    """GRAN's generator: noise [B, latent_dim] -> the canvas after each step [B, T, H, W, C].

    Args:
        colour_shape: (height, width, channels) of the images.
        steps, hidden_dim, generator_channels, encoder_channels, kernel_size,
            norm, centre_reading: see `GRAN`.
    """

    def __init__(
        self,
        colour_shape,
        steps,
        hidden_dim,
        generator_channels,
        encoder_channels,
        kernel_size,
        norm,
        centre_reading=True,
        **kw,
    ):
        super().__init__(**kw)
        self.colour_shape = tuple(colour_shape)
        self.steps, self.hidden_dim = int(steps), int(hidden_dim)
        self.noise_code = keras.layers.Dense(self.hidden_dim, activation="tanh", name="noise_code")
        self.canvas_encoder = ConvEncoder(
            encoder_channels, self.hidden_dim, kernel_size, out_activation="tanh", name="canvas_encoder"
        )
        self.cell = keras.layers.GRUCell(self.hidden_dim, name="cell")
        self.decoder = ConvGenerator(self.colour_shape, generator_channels, kernel_size, norm=norm, name="decoder")
        # One per step: the readings of step 1 (the empty canvas), 2, ... differ in mean.
        self.reading_centres = (
            [MeanOnlyBatchNorm(name=f"reading_centre_{t}") for t in range(self.steps)] if centre_reading else []
        )

    def build(self, input_shape):
        self.noise_code.build(tuple(input_shape))
        self.canvas_encoder.build((None, *self.colour_shape))
        self.cell.build((None, 2 * self.hidden_dim))
        self.decoder.build((None, self.hidden_dim))
        for centre in self.reading_centres:
            centre.build((None, self.hidden_dim))
        self.built = True

    def call(self, noise, training=False):
        noise = tf.cast(noise, self.compute_dtype)
        code = self.noise_code(noise)
        state = tf.zeros([tf.shape(noise)[0], self.hidden_dim], code.dtype)
        canvas = tf.zeros([tf.shape(noise)[0], *self.colour_shape], tf.float32)
        out = []
        # Unrolled: T is small and static, and a Python loop converts to TFLite as plain ops.
        for t in range(self.steps):
            reading = self.canvas_encoder(tf.tanh(canvas), training=training)
            if self.reading_centres:
                reading = self.reading_centres[t](reading, training=training)
            hidden, (state,) = self.cell(tf.concat([reading, code], axis=-1), [state], training=training)
            canvas = canvas + tf.cast(self.decoder(hidden, training=training), tf.float32)
            out.append(canvas)
        return tf.stack(out, axis=1)


@registry.register("gran", configs=GRAN_CONFIGS, default_dataset="digits")
class GRAN(AdversarialImageModel):
    """Recurrent adversarial network.

    Args:
        image_shape, palette and every keyword of `AdversarialImageModel`
            (latent_dim, loss, d_steps, gradient_penalty, adam_beta_1,
            adam_beta_2, d_learning_rate_scale, ema_decay, augment_shift,
            binary_pixels, gumbel_temperature, spectral_norm,
            minibatch_stddev, r1_penalty, instance_noise, anneal_steps,
            ada_target, ada_images, reuse_fakes, mode_seeking, top_k): see
            there.
        steps: drawing steps T (1, 3, 5 ...). Defaults to 3.
        hidden_dim: size of the noise code, the canvas reading and the GRU
            state. Defaults to 128.
        generator_channels: the update decoder's channels (as DCGAN's
            generator). Defaults to (128, 64).
        encoder_channels: the canvas encoder's stride-2 convolutions.
            Defaults to (32, 64).
        discriminator_channels: Defaults to (64, 128).
        kernel_size: Defaults to 4.
        generator_norm: "layer" (default), "batch" or "none".
        discriminator_dropout: Defaults to 0.
        centre_reading: subtract the canvas reading's mean over the batch
            (its running mean when sampling), see the module docstring.
            Defaults to True; False is the generator that collapses.

    Example:
        >>> gran = GRAN(image_shape=(28, 28, 1), palette=[[0, 0, 0], [255, 255, 255]], steps=3)
        >>> gran.build_for_data()
        >>> steps = gran.canvas_steps(gran.noise(4, seed=0))  # [4, 3, 28, 28, 1]
    """

    def __init__(
        self,
        image_shape,
        palette,
        steps=3,
        hidden_dim=128,
        generator_channels=(128, 64),
        encoder_channels=(32, 64),
        discriminator_channels=(64, 128),
        kernel_size=4,
        generator_norm="layer",
        discriminator_dropout=0.0,
        centre_reading=True,
        **kwargs,
    ):
        super().__init__(image_shape, palette, **kwargs)
        self.steps = int(steps)
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        self.hidden_dim = int(hidden_dim)
        self.generator_channels = tuple(int(c) for c in generator_channels)
        self.encoder_channels = tuple(int(c) for c in encoder_channels)
        self.discriminator_channels = tuple(int(c) for c in discriminator_channels)
        self.kernel_size = int(kernel_size)
        self.generator_norm = generator_norm
        self.discriminator_dropout = float(discriminator_dropout)
        self.centre_reading = bool(centre_reading)
        self.generator = CanvasGenerator(
            self.colour_shape,
            self.steps,
            self.hidden_dim,
            self.generator_channels,
            self.encoder_channels,
            self.kernel_size,
            generator_norm,
            self.centre_reading,
            name="generator",
        )
        self.discriminator = self.make_discriminator()

    def get_config(self):
        return {
            **super().get_config(),
            "steps": self.steps,
            "hidden_dim": self.hidden_dim,
            "generator_channels": list(self.generator_channels),
            "encoder_channels": list(self.encoder_channels),
            "discriminator_channels": list(self.discriminator_channels),
            "kernel_size": self.kernel_size,
            "generator_norm": self.generator_norm,
            "discriminator_dropout": self.discriminator_dropout,
            "centre_reading": self.centre_reading,
        }

    def build_networks(self):
        self.generator.build((None, self.latent_dim))
        self.discriminator.build((None, *self.colour_shape))

    def _pre_squash(self, canvases):
        return tf.cast(canvases[:, -1], tf.float32)

    def canvases(self, noise, training=False, averaged=False):
        """The unsquashed canvas C_t after each step: [B, T, H, W, C]."""
        return self.run_network(self.generator, noise, averaged=averaged, training=training)

    def canvas_steps(self, noise):
        """Colours in [0, 1] of the squashed canvas after each step: [B, T, H, W, C] (averaged weights)."""
        return (tf.tanh(self.canvases(noise, averaged=True)) + 1.0) * 0.5

    def _canvas_sheet(self, noise):
        from tfgen import visualize

        steps = self.canvas_steps(noise).numpy()
        n = steps.shape[0]
        # One row per sample, one column per step (the last column is the image).
        return visualize.grid(colour_space.to_rgb(steps.reshape(n * self.steps, *steps.shape[2:])), cols=self.steps)

    def probe_pictures(self, palette=None):
        return {**super().probe_pictures(palette), "canvas_steps": self._canvas_sheet(self.probe_noise[:8])}

    def previews(self, examples, palette, num_samples=16, seed=0):
        pictures = super().previews(examples, palette, num_samples, seed)
        pictures["canvas_steps"] = self._canvas_sheet(self.noise(min(num_samples, 8), seed))
        return pictures
