"""DCGAN: a convolutional generator against a convolutional discriminator.

[1] Radford, Metz, Chintala 2016, "Unsupervised Representation Learning with
    Deep Convolutional Generative Adversarial Networks", arXiv:1511.06434.
"""

from tfgen import registry
from tfgen.layers import ConvGenerator
from tfgen.models.gan.adversarial_model import AdversarialImageModel
from tfgen.models.gan.gan_configs import DCGAN_CONFIGS


@registry.register("dcgan", configs=DCGAN_CONFIGS, default_dataset="digits")
class DCGAN(AdversarialImageModel):
    """Transposed convolutions up from noise; strided convolutions down to a logit.

    Args:
        image_shape, palette and every keyword of `AdversarialImageModel`
            (latent_dim, loss, d_steps, gradient_penalty, adam_beta_1,
            adam_beta_2, d_learning_rate_scale, ema_decay, augment_shift,
            binary_pixels, gumbel_temperature, spectral_norm,
            minibatch_stddev, r1_penalty, instance_noise, anneal_steps,
            ada_target, ada_images, reuse_fakes, mode_seeking, top_k): see
            there.
        generator_channels: base grid channels, then each hidden upsampling
            layer's; len() upsamplings. Defaults to (128, 64).
        discriminator_channels: filters of each stride-2 convolution.
            Defaults to (64, 128).
        kernel_size: Defaults to 4.
        generator_norm: "layer" (default), "batch" or "none".
        discriminator_dropout: Defaults to 0. A Keras `Dropout` drawn from Keras's own seed: a run using
            it does not resume exactly, nor equal a single process under a strategy.

    Example:
        >>> gan = DCGAN(image_shape=(28, 28, 1), palette=[[0, 0, 0], [255, 255, 255]])
        >>> gan.build_for_data()
        >>> images = gan.generate(gan.noise(16, seed=0))  # [16, 28, 28, 1] in [0, 1]
    """

    def __init__(
        self,
        image_shape,
        palette,
        generator_channels=(128, 64),
        discriminator_channels=(64, 128),
        kernel_size=4,
        generator_norm="layer",
        discriminator_dropout=0.0,
        **kwargs,
    ):
        super().__init__(image_shape, palette, **kwargs)
        self.generator_channels = tuple(int(c) for c in generator_channels)
        self.discriminator_channels = tuple(int(c) for c in discriminator_channels)
        self.kernel_size = int(kernel_size)
        self.generator_norm = generator_norm
        self.discriminator_dropout = float(discriminator_dropout)
        self.generator = ConvGenerator(
            self.colour_shape, self.generator_channels, self.kernel_size, norm=generator_norm, name="generator"
        )
        self.discriminator = self.make_discriminator()

    def get_config(self):
        return {
            **super().get_config(),
            "generator_channels": list(self.generator_channels),
            "discriminator_channels": list(self.discriminator_channels),
            "kernel_size": self.kernel_size,
            "generator_norm": self.generator_norm,
            "discriminator_dropout": self.discriminator_dropout,
        }

    def build_networks(self):
        self.generator.build((None, self.latent_dim))
        self.discriminator.build((None, *self.colour_shape))
