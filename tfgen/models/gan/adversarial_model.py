"""Base class for GANs over tfgen's image datasets.

A generator maps standard normal noise to images; a discriminator scores
images. Both work in the colour space of `tfgen.data.colours` scaled to
[-1, 1]: real index images are looked up in the palette (one grey channel,
or RGB for colour palettes). Palette images are therefore generated as RGB
and, where an index image is needed, snapped to the nearest palette colour:
the discriminator sees continuous colours on both sides and needs no
Gumbel-softmax relaxation of a 167-way choice per pixel. Two-colour
(binarized) data is the exception that needs one: there real pixels are
exactly 0 or 1, and `binary_pixels="threshold"` makes the generated ones so.

One `train_step` (one batch) is one generator step: the batch is split into
`d_steps` equal strided slices, each used for one discriminator step against fresh
fakes, then the generator takes one step on fresh noise (with `reuse_fakes`, the
last slice's discriminator step is trained on the generator step's fakes). Each step
differentiates and updates only its own network, with its own optimizer
(`compile(d_optimizer=..., g_optimizer=..., loss=...)`).

Randomness in training comes from stateless ops seeded by (the model's
`noise_seed` weight, the generator optimizer's step count and a stream
number), drawn per example (`replica_rows`): checkpointed with the run, so a
resumed run draws exactly the noise an uninterrupted one would, and a mirrored
run draws what a single process would.

Weight averaging (`ema_decay` > 0): the model keeps an exponential moving
average of both networks' weights [2] and uses the averaged networks for
everything but training: `generate` (exports, samples, evaluation) and the
judge's logits (`discriminate_colours`: validation metrics, GAM). A GAN's
weights orbit rather than converge: measured on binarized MNIST, the
discriminator's error on validation digits swung between 0.0002 and 0.6 from
one checkpoint to the next, and the average of three checkpoints' weights gave
an error of 0.12 and a better FID than two of the three.

Stabilisers, each behind a constructor argument and off by default:
spectral normalisation of the discriminator [3], the R1 penalty on real data
[4], two time-scale learning rates (`d_learning_rate_scale`, [5]), instance
noise annealed to zero [6], DiffAugment translation [7] and its adaptive
form, ADA [8]: each image the discriminator sees is translated with a
probability p that training moves so that the discriminator's sign on real
training images, E[sign(D(x))], stays at a target. ADA holds the *live*
discriminator there; the judge GAM battles with is calibrated once the
weights are final (`calibrate_judge`, the trainer's `--judge_error`): its
output bias is shifted so that it calls a chosen share of the training images
fake, so two models' judges are equally sure of real data, which GAM's
r_test compares (`tfgen.evaluation.gam`).

[2] Yazıcı et al. 2019, "The Unusual Effectiveness of Averaging in GAN
    Training", arXiv:1806.04498.
[3] Miyato et al. 2018, "Spectral Normalization for Generative Adversarial
    Networks", arXiv:1802.05957.
[4] Mescheder, Geiger, Nowozin 2018, "Which Training Methods for GANs do
    actually Converge?", arXiv:1801.04406.
[5] Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule
    Converge to a Local Nash Equilibrium", arXiv:1706.08500.
[6] Sønderby et al. 2017, "Amortised MAP Inference for Image
    Super-resolution", arXiv:1610.04490 (instance noise).
[7] Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN
    Training", arXiv:2006.10738.
[8] Karras et al. 2020, "Training Generative Adversarial Networks with
    Limited Data", arXiv:2006.06676.
[9] Mao et al. 2019, "Mode Seeking Generative Adversarial Networks for
    Diverse Image Synthesis", arXiv:1903.05628.
[10] Sinha et al. 2020, "Top-k Training of GANs: Improving GAN Performance
    by Throwing Away Bad Samples", arXiv:2002.06224.

[1] Goodfellow et al. 2014, "Generative Adversarial Nets", arXiv:1406.2661.
"""

import keras
import numpy as np
import tensorflow as tf

from tfgen import losses, optimizers
from tfgen.data import colours as colour_space
from tfgen.errors import InvalidArgumentError
from tfgen.export.signatures import Signature, TensorInput
from tfgen.layers import ConvEncoder
from tfgen.models.base import gather_replicas, global_batch_mean, replica_rows
from tfgen.models.colour_images import ColourImageModel
from tfgen.models.gan import augment
from tfgen.models.statistics import gradient_norm, mean_pairwise_distance, nearest_distance

NUM_PROBES = 16  # fixed noise vectors the monitoring grids are drawn from


def straight_through_sign(x):
    """-1 or 1 by the sign of x (0 goes to 1) in the forward pass; the identity's gradient in the backward pass.

    The threshold itself has zero gradient almost everywhere; passing the
    gradient straight through (Bengio et al. 2013, arXiv:1308.3432) lets the
    discriminator's judgement of the binary image reach the generator.
    """
    # hard + (x - x) is exactly hard in the forward pass by construction. (The
    # common x + (hard - x) is exact here too, as hard has x's sign, but rounds
    # to 0.99999994 when it does not, e.g. for a Bernoulli draw.)
    return tf.where(x >= 0.0, 1.0, -1.0) + (x - tf.stop_gradient(x))


BINARY_PIXELS = (None, "threshold", "gumbel")


def _fold(seed, stream):
    return tf.random.experimental.stateless_fold_in(seed, stream)


class AdversarialImageModel(ColourImageModel):
    """Shared GAN training, monitoring, sampling and export.

    Subclasses create `self.generator` (a layer: noise [B, latent_dim] ->
    pre-tanh images [B, H, W, C], or override `_squash`) and
    `self.discriminator` (a layer: images in [-1, 1] -> logits [B, 1], whose
    last layer `out` has the bias `calibrate_judge` shifts; `make_discriminator`
    builds one) in their constructor and build both in `build_networks()`.

    Args:
        image_shape: (height, width, 1) of the dataset's index images.
        palette: uint8 [K, 3] (list or array): the colour of each index.
        latent_dim: size of the noise vector. Defaults to 64.
        loss: a name in `tfgen.losses.ADVERSARIAL_LOSSES`. Defaults to
            "non_saturating".
        d_steps: discriminator steps per generator step (k). Defaults to 1.
        gradient_penalty: weight of the gradient penalty; None for the
            loss's default (10 for "wasserstein", 0 otherwise).
        adam_beta_1, adam_beta_2: Adam moments for both optimizers.
            Defaults to 0.5 and 0.999 (DCGAN).
        d_learning_rate_scale: the discriminator's learning rate relative to
            the generator's. Defaults to 1.
        ema_decay: decay of the weight averages; 0 (default) trains and
            serves the networks themselves.
        augment_shift: in training, every image the discriminator sees (real
            and fake, in both networks' steps) is translated by up to this
            many pixels per axis (`augment.py`, DiffAugment). Defaults to 0
            (off). Evaluation and GAM judge unaugmented images.
        binary_pixels: for two-colour (binarized) data: None (default) for
            continuous pixels, or "threshold": every generated pixel is the
            sign of the generator's output, exactly 0 or 1 everywhere (in
            training, `generate` and the export), with the gradient passed
            straight through. Real binarized images are exactly 0 or 1, so
            against a continuous generator the discriminator tells real from
            fake by the grey levels alone (measured on binarized MNIST:
            validation error 1-5.5%). Drawing each pixel from a probability
            with a straight-through gradient, as binarized MNIST was made,
            was measured worse and removed (docs/RESULTS.md). "gumbel": in
            training each pixel is a relaxed Bernoulli draw (Gumbel-sigmoid,
            `losses.relaxed_bernoulli_tanh`) with p = (tanh(x) + 1) / 2 and a
            temperature annealed from `gumbel_temperature[0]` to
            `gumbel_temperature[1]` over `anneal_steps` (geometrically); the
            served image is each pixel's most likely value (the threshold),
            the limit of the draw as its noise and temperature go to zero.
        gumbel_temperature: (start, end) of that schedule. Defaults to (1.0, 0.1).
        spectral_norm: spectral normalisation of the discriminator's kernels [3].
        minibatch_stddev: 0 (default, off) or a group size G: the
            discriminator sees how diverse each group of G images is
            (`tfgen.layers.conv_nets.minibatch_stddev`, Karras et al. 2018),
            so a generator that draws one image for every noise is caught.
        r1_penalty: weight gamma of gamma/2 ||grad D(x)||^2 on real images [4];
            0 (default) is off.
        instance_noise: standard deviation (in the [-1, 1] space) of Gaussian
            noise added to every image the discriminator sees in training,
            real and fake, falling linearly to 0 over `anneal_steps` [6].
            0 (default) is off.
        anneal_steps: generator steps over which instance noise and the
            Gumbel temperature anneal. Defaults to 5,000.
        ada_target: None (default) or the target of E[sign(D(x) - threshold)]
            on real training images (0.6 in [8]): translation by up to
            `augment_shift` pixels is then applied to each image with a
            probability p moved after every step by
            sign(statistic - target) * global batch / `ada_images`, clipped to
            [0, 1]. Needs augment_shift >= 1 and a loss with a threshold.
        ada_images: images over which p can move from 0 to 1. Defaults to 50,000.
        reuse_fakes: the last discriminator slice is trained on the generator
            step's fakes (its noise and seed) instead of its own, so one
            generator pass serves both updates, as in the PyTorch DCGAN
            example: 1.1-1.2x faster steps (docs/RESULTS.md). The
            discriminator is still updated before the generator's loss is
            taken. The generator's activations are held through the
            discriminator's update (more memory), and GRAN's running mean of
            the reading sees one pass fewer per step. Defaults to False.
        mode_seeking: weight of the mode-seeking penalty [9] in the
            generator's loss (`losses.mode_seeking`): pairs of the generator
            step's noise vectors are rewarded for images far apart relative
            to their noise. Measured on each pixel's expected value (the
            generator's tanh), not on a Gumbel draw, whose own noise would
            reward blur. 0 (default) is off; [9] uses 1.
        top_k: the share of the generator step's fakes its loss keeps at the
            end of `anneal_steps` [10]: the share starts at 1 and falls
            linearly to `top_k`, and each step keeps the fakes the
            discriminator scores highest (`losses.top_k_weights`), ranked over
            the global batch, so a replica keeps what a single process would.
            1 (default) is off; [10] anneals to 0.5.
    """

    # Besides the pictures and the diversity alarm: recall on our features every epoch, which sees a
    # generator that drops kinds of images while each batch stays varied (`SampleQuality`).
    monitors = ("sample_grids", "mode_collapse", "sample_quality")

    family = "adversarial"
    has_likelihood = False
    # Mean distance from each generated image to its nearest image of the
    # batch: falls as the generator learns a fixed batch (conformance test).
    monitor = "sample_distance"
    # Steps of the fixed-batch conformance test: the generator learns only
    # through the discriminator, so it takes ~100 steps where a likelihood
    # model takes 30 (measured: the distance halves by step ~100 at tiny size).
    conformance_steps = 120
    default_signature = "generate"

    def __init__(
        self,
        image_shape,
        palette,
        latent_dim=64,
        loss="non_saturating",
        d_steps=1,
        gradient_penalty=None,
        adam_beta_1=0.5,
        adam_beta_2=0.999,
        d_learning_rate_scale=1.0,
        ema_decay=0.0,
        augment_shift=0,
        binary_pixels=None,
        gumbel_temperature=(1.0, 0.1),
        spectral_norm=False,
        minibatch_stddev=0,
        r1_penalty=0.0,
        instance_noise=0.0,
        anneal_steps=5000,
        ada_target=None,
        ada_images=50000,
        reuse_fakes=False,
        mode_seeking=0.0,
        top_k=1.0,
        **kwargs,
    ):
        super().__init__(image_shape, palette, **kwargs)
        self.channels = self.colour_table.channels
        self.latent_dim = int(latent_dim)
        self.loss_name = loss
        self.loss_spec = losses.adversarial_loss(loss)
        self.d_steps = int(d_steps)
        if self.d_steps < 1:
            raise ValueError(f"d_steps must be >= 1, got {d_steps}")
        self.gradient_penalty = None if gradient_penalty is None else float(gradient_penalty)
        self.gp_weight = self.loss_spec.gradient_penalty if gradient_penalty is None else float(gradient_penalty)
        self.adam_beta_1, self.adam_beta_2 = float(adam_beta_1), float(adam_beta_2)
        self.d_learning_rate_scale = float(d_learning_rate_scale)
        self.ema_decay = float(ema_decay)
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {ema_decay}")
        self.augment_shift = int(augment_shift)
        if not 0 <= self.augment_shift < min(self.image_shape[:2]):
            raise ValueError(
                f"augment_shift must be in [0, {min(self.image_shape[:2])}) for {self.image_shape[:2]} images, "
                f"got {augment_shift}"
            )
        if binary_pixels not in BINARY_PIXELS:
            raise ValueError(f"binary_pixels must be one of {BINARY_PIXELS}, got {binary_pixels!r}")
        self.binary_pixels = binary_pixels
        if self.binary_pixels and (len(self.palette) != 2 or self.channels != 1):
            raise ValueError(
                f"binary_pixels needs a two-colour grey palette (binarized data), got {len(self.palette)} colours "
                f"in {self.channels} channel(s)"
            )
        self.gumbel_temperature = tuple(float(t) for t in gumbel_temperature)
        if len(self.gumbel_temperature) != 2 or min(self.gumbel_temperature) <= 0:
            raise ValueError(f"gumbel_temperature must be two positive numbers (start, end), got {gumbel_temperature}")
        self.spectral_norm = bool(spectral_norm)
        self.minibatch_stddev = int(minibatch_stddev)
        if self.minibatch_stddev < 0:
            raise ValueError(f"minibatch_stddev must be 0 (off) or a group size, got {minibatch_stddev}")
        self.r1_penalty = float(r1_penalty)
        self.instance_noise = float(instance_noise)
        self.anneal_steps = int(anneal_steps)
        if self.r1_penalty < 0 or self.instance_noise < 0 or self.anneal_steps < 1:
            raise ValueError(
                f"r1_penalty and instance_noise must be >= 0 and anneal_steps >= 1, got {r1_penalty}, "
                f"{instance_noise}, {anneal_steps}"
            )
        self.ada_target = None if ada_target is None else float(ada_target)
        self.ada_images = int(ada_images)
        if self.ada_target is not None:
            if not -1.0 < self.ada_target < 1.0 or self.ada_images < 1:
                raise ValueError(f"ada_target must be in (-1, 1) and ada_images >= 1, got {ada_target}, {ada_images}")
            if not self.augment_shift:
                raise ValueError("ada_target needs augment_shift >= 1: ADA adapts how often images are translated")
            if self.loss_spec.threshold is None:
                raise ValueError(f"ada_target needs a loss whose outputs have a real/fake threshold, not {loss!r}")
        self.reuse_fakes = bool(reuse_fakes)
        self.mode_seeking = float(mode_seeking)
        if self.mode_seeking < 0:
            raise ValueError(f"mode_seeking must be >= 0, got {mode_seeking}")
        self.top_k = float(top_k)
        if not 0.0 < self.top_k <= 1.0:
            raise ValueError(f"top_k must be in (0, 1] (the share of fakes kept; 1 is off), got {top_k}")
        names = ["d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm"]
        names += ["fake_diversity", "real_diversity", "sample_distance", "gradient_penalty"]
        names += ["r1_penalty", "instance_noise", "gumbel_temperature", "ada_p", "ada_statistic", "mode_seeking"]
        names += ["top_k"]
        # All created here (Keras locks a built model's state); train_step
        # reports each technique's metrics only when it is in use.
        self.trackers = {n: keras.metrics.Mean(name=n) for n in names}

    def get_config(self):
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "loss": self.loss_name,
            "d_steps": self.d_steps,
            "gradient_penalty": self.gradient_penalty,
            "adam_beta_1": self.adam_beta_1,
            "adam_beta_2": self.adam_beta_2,
            "d_learning_rate_scale": self.d_learning_rate_scale,
            "ema_decay": self.ema_decay,
            "augment_shift": self.augment_shift,
            "binary_pixels": self.binary_pixels,
            "gumbel_temperature": list(self.gumbel_temperature),
            "spectral_norm": self.spectral_norm,
            "minibatch_stddev": self.minibatch_stddev,
            "r1_penalty": self.r1_penalty,
            "instance_noise": self.instance_noise,
            "anneal_steps": self.anneal_steps,
            "ada_target": self.ada_target,
            "ada_images": self.ada_images,
            "reuse_fakes": self.reuse_fakes,
            "mode_seeking": self.mode_seeking,
            "top_k": self.top_k,
        }

    # -- building ---------------------------------------------------------

    def make_discriminator(self):
        """The convolutional discriminator both families use, from `discriminator_channels`,
        `kernel_size` and `discriminator_dropout` (set by the subclass) and the stabiliser switches."""
        return ConvEncoder(
            self.discriminator_channels,
            1,
            self.kernel_size,
            dropout=self.discriminator_dropout,
            spectral_norm=self.spectral_norm,
            minibatch_stddev=self.minibatch_stddev,
            name="discriminator",
        )

    def build_networks(self):
        """Builds every weight of `self.generator` and `self.discriminator` (subclasses)."""
        raise NotImplementedError

    def build(self, input_shape):
        self.build_networks()
        # Fixed noise for the monitoring grids and the seed of the training
        # noise: weights, so they are checkpointed and a resumed run shows the
        # same latent points and draws the same noise. Both come from the
        # global Keras seed (the trainer's --seed).
        self.probe_noise = self.add_weight(
            shape=(NUM_PROBES, self.latent_dim),
            initializer=keras.initializers.RandomNormal(stddev=1.0),  # standard normal, like the training noise
            trainable=False,
            name="probe_noise",
        )
        self.add_noise_seed()
        if self.ada_target is not None:
            # ADA's augmentation probability: state of the run, checkpointed and resumed with it.
            self.ada_p = self.add_weight(
                shape=(), initializer="zeros", trainable=False, aggregation="only_first_replica", name="ada_p"
            )
        # The averages start at the initial weights. ONLY_FIRST_REPLICA: every
        # replica holds the same weights, so any one's update is the update.
        # Averages are keyed by the variable they follow (id), not by position:
        # a variable may later be frozen, which moves it between the trainable
        # and non-trainable lists. Integer state (a GRU cell's dropout seed) is
        # not averaged. The map bypasses Keras/TF attribute tracking (object.__setattr__):
        # SavedModel cannot save a dict with integer keys, and the averages are
        # tracked already as this model's weights.
        object.__setattr__(self, "averages", {})
        if self.ema_decay:
            for net in (self.generator, self.discriminator):
                for i, v in enumerate(net.trainable_variables + net.non_trainable_variables):
                    if "float" in str(v.dtype):
                        self.averages[id(v)] = (
                            v,
                            self.add_weight(
                                shape=v.shape,
                                dtype=v.dtype,
                                initializer=lambda shape, dtype, v=v: tf.identity(v.value),
                                trainable=False,
                                aggregation="only_first_replica",
                                name=f"average_{net.name}_{i}",
                            ),
                        )
        self.built = True

    def average_of(self, variable):
        """The running average of a network variable (None if not averaged)."""
        pair = self.averages.get(id(variable))
        return pair[1] if pair else None

    @property
    def metrics(self):
        return list(self.trackers.values())

    # -- the colour space ---------------------------------------------------

    def to_model_space(self, images):
        """Index images -> colours scaled to [-1, 1]."""
        return self.colour_table.lookup(images) * 2.0 - 1.0

    def run_network(self, net, *args, averaged=False, **kwargs):
        """Calls a network with its own weights, or with their running averages."""
        if not (averaged and self.ema_decay):
            return net(*args, **kwargs)

        def values(variables):
            return [v.value if self.average_of(v) is None else self.average_of(v).value for v in variables]

        out, _ = net.stateless_call(
            values(net.trainable_variables), values(net.non_trainable_variables), *args, **kwargs
        )
        return out

    def _pre_squash(self, generator_output):
        """The generator's output -> the image before tanh (GRAN keeps its canvases)."""
        return tf.cast(generator_output, tf.float32)

    def _squash(self, generator_output):
        """The generator's output -> images in [-1, 1]."""
        return tf.tanh(self._pre_squash(generator_output))

    def generate_model_space(self, noise, training=False, averaged=False, seed=None, with_mean=False):
        """Images in [-1, 1] for noise [B, latent_dim] (exactly -1 or 1 with `binary_pixels`).

        With binary_pixels="gumbel", a training call (training=True) needs
        `seed`, which draws the relaxed Bernoulli's noise.
        with_mean: also return each pixel's expected value in [-1, 1] (the
        images themselves for continuous pixels; 2p - 1 for binary ones).
        """
        output = self.run_network(self.generator, noise, averaged=averaged, training=training)
        if self.binary_pixels == "gumbel" and training:
            pre = self._pre_squash(output)
            pixel_noise = replica_rows(lambda n: losses.logistic_noise([n, *pre.shape[1:]], seed), tf.shape(pre)[0])
            images = losses.relaxed_bernoulli_tanh(pre, pixel_noise, self.annealed()["gumbel_temperature"])
            mean = tf.tanh(pre)  # the draw is near 1 with probability (tanh(pre) + 1) / 2
        else:
            mean = self._squash(output)
            images = straight_through_sign(mean) if self.binary_pixels else mean
        return (images, mean) if with_mean else images

    def generate(self, noise):
        """Colours in [0, 1], [B, H, W, C], for standard normal noise [B, latent_dim] (averaged weights)."""
        return (self.generate_model_space(noise, averaged=True) + 1.0) * 0.5

    def discriminate(self, images_model_space, training=False, averaged=False):
        """Discriminator logits [B] for images in [-1, 1]."""
        logits = self.run_network(self.discriminator, images_model_space, averaged=averaged, training=training)
        return tf.cast(logits[:, 0], tf.float32)

    def discriminate_colours(self, colours, averaged=True):
        """The judge's logits [B] for colours in [0, 1] (e.g. another model's samples; averaged weights
        unless `averaged=False`, the weights as trained)."""
        return self.discriminate(tf.cast(colours, tf.float32) * 2.0 - 1.0, averaged=averaged)

    def call(self, images, training=False):
        # Both networks in one call, so saving and reloading is checked on
        # each: the judge's logits for the images and the generator's images
        # for the fixed probe noise.
        return {
            "logits": self.discriminate_colours(self.colour_table.lookup(images)),
            "probe_images": self.generate(self.probe_noise),
        }

    # -- training -----------------------------------------------------------

    def make_optimizers(self, learning_rate):
        def adam(lr):
            return optimizers.Adam(lr, beta_1=self.adam_beta_1, beta_2=self.adam_beta_2)

        return {"d_optimizer": adam(learning_rate * self.d_learning_rate_scale), "g_optimizer": adam(learning_rate)}

    def compile(self, d_optimizer, g_optimizer, loss=None, **kwargs):
        """Sets the two optimizers and optionally another adversarial loss."""
        super().compile(optimizer=d_optimizer, **kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        if loss is not None:
            self.loss_name = loss
            self.loss_spec = losses.adversarial_loss(loss)
            if self.gradient_penalty is None:
                self.gp_weight = self.loss_spec.gradient_penalty

    def seed_counter(self):
        return self.g_optimizer.iterations  # one train_step is one generator step

    def training_noise(self, batch_size, stream):
        seed = self.training_seed(stream)
        return replica_rows(lambda n: tf.random.stateless_normal([n, self.latent_dim], seed=seed), batch_size)

    def penalty(self, real, fake, seed):
        """Per-example gradient penalty at points between real and fake examples."""
        weights = replica_rows(lambda n: losses.interpolation_weights(n, seed), tf.shape(real)[0])
        x_hat = losses.interpolate(real, fake, weights)
        with tf.GradientTape() as tape:
            tape.watch(x_hat)
            out = self.discriminate(x_hat, training=True)
        return losses.gradient_penalty(tape.gradient(out, x_hat))

    def annealed(self):
        """This step's instance-noise deviation, Gumbel temperature and top-k share (float32 scalars)."""
        progress = tf.minimum(tf.cast(self.seed_counter(), tf.float32) / float(self.anneal_steps), 1.0)
        start, end = self.gumbel_temperature
        return {
            "instance_noise": self.instance_noise * (1.0 - progress),
            "gumbel_temperature": start * (end / start) ** progress,
            "top_k": 1.0 - (1.0 - self.top_k) * progress,
        }

    def augment(self, images, seed, stream):
        """What the discriminator sees in training: `images` translated (always, or with ADA's
        probability p) and with instance noise added; the identity when both are off."""
        seed = _fold(seed, stream)
        rows = tf.shape(images)[0]
        if self.augment_shift:
            offsets = replica_rows(lambda n: augment.random_offsets(n, self.augment_shift, seed), rows)
            if self.ada_target is not None:
                chosen = replica_rows(lambda n: tf.random.stateless_uniform([n, 1], _fold(seed, 1)), rows)
                offsets = offsets * tf.cast(chosen < self.ada_p, tf.int32)
            images = augment.translate(images, offsets)
        if self.instance_noise:
            noise = replica_rows(lambda n: tf.random.stateless_normal([n, *images.shape[1:]], _fold(seed, 2)), rows)
            images = images + self.annealed()["instance_noise"] * noise
        return images

    def d_step(self, real, noise, seed, fake=None):
        """One discriminator update on real images (in [-1, 1]) against fakes from noise (or `fake`, given)."""
        if fake is None:
            fake = self.generate_model_space(noise, training=True, seed=_fold(seed, 4))
        fake = tf.stop_gradient(fake)
        real, fake = self.augment(real, seed, 1), self.augment(fake, seed, 2)
        variables = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            if self.r1_penalty:
                # R1: the gradient at the real images as the discriminator sees them (augmented).
                with tf.GradientTape() as real_tape:
                    real_tape.watch(real)
                    real_logits = self.discriminate(real, training=True)
                r1 = losses.r1_penalty(real_tape.gradient(real_logits, real))
            else:
                real_logits = self.discriminate(real, training=True)
            fake_logits = self.discriminate(fake, training=True)
            per_example = self.loss_spec.d(real_logits, fake_logits)
            loss = per_example
            if self.gp_weight:
                penalty = self.penalty(real, fake, seed)
                loss = loss + self.gp_weight * penalty
            if self.r1_penalty:
                loss = loss + self.r1_penalty * r1
            scaled = self.d_optimizer.scale_loss(losses.replica_mean(loss))
        grads = tape.gradient(scaled, variables)
        self.d_optimizer.apply_gradients(zip(grads, variables))
        out = {
            "d_loss": tf.reduce_mean(per_example),
            "d_real": tf.reduce_mean(self.loss_spec.score(real_logits)),
            "d_fake": tf.reduce_mean(self.loss_spec.score(fake_logits)),
            "d_grad_norm": gradient_norm(self.d_optimizer, grads),
        }
        if self.gp_weight:
            out["gradient_penalty"] = tf.reduce_mean(penalty)
        if self.r1_penalty:
            out["r1_penalty"] = tf.reduce_mean(r1)
        if self.ada_target is not None:
            # ADA's overfitting statistic r_t: how sure the discriminator is that real training images are real.
            real_sign = tf.sign(real_logits - self.loss_spec.threshold)
            out["ada_statistic"] = global_batch_mean(tf.reduce_mean(real_sign))
        return out

    def g_step(self, noise, seed, d_update=None):
        """One generator update (`seed` draws its augmentation).

        d_update: None, or a function of these fakes that updates the discriminator first and returns its
        metrics (`reuse_fakes`).
        Returns (the generator's metrics, its unaugmented fakes, d_update's metrics or None).
        """
        variables = self.generator_variables()
        d_out = None
        with tf.GradientTape() as tape:
            fake, mean = self.generate_model_space(noise, training=True, seed=_fold(seed, 4), with_mean=True)
            if d_update is not None:
                # Not recorded: the update's ops carry no gradient to the generator, only cost.
                with tape.stop_recording():
                    d_out = d_update(fake)
            # The generator is judged through the same augmentation as the
            # discriminator was trained with; the gradient flows through the shift.
            logits = self.discriminate(self.augment(fake, seed, 3), training=True)
            per_example = self.loss_spec.g(logits)
            loss = per_example
            if self.top_k < 1.0:
                share = self.annealed()["top_k"]
                # Ranked over the global batch; this replica keeps the weights of its own rows.
                weights = replica_rows(
                    lambda _: losses.top_k_weights(gather_replicas(logits), share), tf.shape(logits)[0]
                )
                loss = loss * weights
            if self.mode_seeking:
                spread = losses.mode_seeking(mean, noise)
                loss = loss + self.mode_seeking * spread
            scaled = self.g_optimizer.scale_loss(losses.replica_mean(loss))
        grads = tape.gradient(scaled, variables)
        self.g_optimizer.apply_gradients(zip(grads, variables))
        out = {"g_loss": tf.reduce_mean(per_example), "g_grad_norm": gradient_norm(self.g_optimizer, grads)}
        if self.mode_seeking:
            out["mode_seeking"] = tf.reduce_mean(spread)
        if self.top_k < 1.0:
            out["top_k"] = share
        return out, fake, d_out

    def generator_variables(self):
        """Everything the generator step trains."""
        return self.generator.trainable_variables

    def train_step(self, images):
        real = self.to_model_space(images)
        batch = real.shape[0]
        if batch is not None and batch % self.d_steps:
            raise ValueError(
                f"a batch of {batch} (per replica) does not split into d_steps={self.d_steps} equal slices; "
                f"choose a batch size that is a multiple of {self.d_steps} times the replica count"
            )
        if batch is None:  # the size is known only when the step runs
            message = f"a batch does not split into d_steps={self.d_steps} slices"
            tf.debugging.assert_equal(tf.shape(real)[0] % self.d_steps, 0, message=message)
        # Strided slices: slice i of every replica holds the global rows i, i + d, ... of its part of
        # the batch, so together they are exactly the single-process slice i (rows i, i + d, ...).
        slices = [real[i :: self.d_steps] for i in range(self.d_steps)]
        annealed = self.annealed()  # what this step uses (the generator step advances the count)
        d_out = []
        own_fakes = slices[:-1] if self.reuse_fakes else slices
        for i, chunk in enumerate(own_fakes):
            d_out.append(self.d_step(chunk, self.training_noise(tf.shape(chunk)[0], i), self.training_seed(100 + i)))

        def last_slice_on(fake):
            last = len(slices) - 1
            return self.d_step(slices[last], None, self.training_seed(100 + last), fake=fake)

        g_out, fake, shared_d_out = self.g_step(
            self.training_noise(tf.shape(slices[0])[0], self.d_steps),
            self.training_seed(100 + self.d_steps),
            d_update=last_slice_on if self.reuse_fakes else None,
        )
        if shared_d_out is not None:
            d_out.append(shared_d_out)
        fake_colours, real_colours = (fake + 1.0) * 0.5, (real + 1.0) * 0.5
        values = {k: tf.add_n([d[k] for d in d_out]) / len(d_out) for k in d_out[0]}
        values.update(g_out)
        if self.ada_target is not None:
            values["ada_p"] = tf.identity(self.ada_p.value)  # the p this step used, read before the update
            self.update_ada(values["ada_statistic"], tf.shape(real)[0])
        if self.instance_noise:
            values["instance_noise"] = annealed["instance_noise"]
        if self.binary_pixels == "gumbel":
            values["gumbel_temperature"] = annealed["gumbel_temperature"]
        values["fake_diversity"] = mean_pairwise_distance(fake_colours)
        values["real_diversity"] = mean_pairwise_distance(real_colours)
        values["sample_distance"] = nearest_distance(fake_colours, real_colours)
        if self.ema_decay:
            self.update_averages()
        for k, v in values.items():
            self.trackers[k].update_state(v)
        return {k: m.result() for k, m in self.trackers.items() if k in values}

    def update_ada(self, statistic, batch_size):
        """Moves ADA's p towards keeping `statistic` at the target: by the images of this step / ada_images."""
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        images = tf.cast(batch_size * replicas, tf.float32)
        step = tf.sign(statistic - self.ada_target) * images / float(self.ada_images)
        self.ada_p.assign(tf.clip_by_value(self.ada_p + step, 0.0, 1.0))

    def update_averages(self):
        # Warm-up as tf.train.ExponentialMovingAverage's num_updates: early on
        # the average follows the weights closely instead of clinging to the
        # random initialisation.
        step = tf.cast(self.g_optimizer.iterations, tf.float32)
        decay = tf.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))
        for v, average in self.averages.values():
            average.assign(decay * average + (1.0 - decay) * v.value)

    # -- the judge ----------------------------------------------------------

    def judge_bias(self):
        """The variable holding the judge's output bias: the running average of the discriminator's
        output bias (the averaged discriminator judges)."""
        return self.average_of(self.discriminator.out.bias)

    def check_judge_error(self, error):
        """Refuses a calibration `calibrate_judge` cannot do (one line, before any training)."""
        where = f"judge_error={error} (the config's, or --judge_error)"
        if not 0.0 < error < 1.0:
            raise InvalidArgumentError(f"{where}: must be in (0, 1), the share of training images called fake")
        if self.loss_spec.threshold is None:
            raise InvalidArgumentError(
                f"{where}: a {self.loss_name} critic has no real/fake threshold to calibrate its judge against; "
                "give --judge_error=0"
            )
        if not self.ema_decay:
            raise InvalidArgumentError(
                f"{where}: the judge is calibrated in the weight averages, which training never reads, and "
                "ema_decay=0 keeps none; give --judge_error=0, or ema_decay > 0"
            )

    def calibrate_judge(self, images, error, batch_size=500):
        """Shifts the judge's output bias so that it calls a share `error` of `images` fake.

        The trainer calls this after the last step (the config's `judge_error`,
        or `--judge_error`) on every training image, so that two models' judges
        reject the same share of real training data and GAM's r_test on
        held-out data compares how they generalise, not where training happened
        to leave their biases: ADA holds the *live* discriminator's statistic
        near its target, on augmented images, and the averaged judge's error on
        real digits was left anywhere from 0.01% to 18% (docs/RESULTS.md).

        Only the averaged bias moves. Training reads only the live weights, so
        a run trained on from here trains exactly as if never calibrated, and
        the calibration at its new last step sets the bias afresh (the result
        does not depend on the bias it starts from; calibrating a calibrated
        judge moves it by ~0). The new threshold lies
        halfway between the k-th and (k+1)-th smallest logits (k = the share's
        count), so no training image sits on it. Call it on a float32 model:
        what the judge calls fake in bfloat16 differs.

        images: a tf.data.Dataset of index images (a model's training split).
        Returns {"judge_error", "bias_change", "train_error", "num_images"}.
        """
        self.check_judge_error(error)
        fn = self.cached_function(self.judge_logits)
        logits = np.sort(np.concatenate([fn(batch).numpy() for batch in images.batch(batch_size)]))
        k = min(max(round(error * len(logits)), 1), len(logits) - 1)
        cut = (float(logits[k - 1]) + float(logits[k])) / 2.0
        bias = self.judge_bias()
        bias.assign(bias.value - (cut - float(self.loss_spec.threshold)))
        return {
            "judge_error": float(error),
            "bias_change": float(self.loss_spec.threshold) - cut,
            # The shift moves every logit alike, so the share below the cut is the share now called fake.
            "train_error": float(np.mean(logits < cut)),
            "num_images": int(len(logits)),
        }

    def judge_logits(self, images):
        """The judge's logits [B] for index images."""
        return self.discriminate_colours(self.colour_table.lookup(images))

    def per_example_metrics(self, images):
        """On held-out images: the judge's (averaged discriminator's) score
        and, where its output has a real/fake threshold, whether it calls them
        fake: its error on test data, GAM's r_test numerator."""
        logits = self.judge_logits(images)
        out = {"d_score": self.loss_spec.score(logits)}
        if self.loss_spec.threshold is not None:
            out["d_error"] = tf.cast(logits < self.loss_spec.threshold, tf.float32)
        return out

    # -- sampling -------------------------------------------------------------

    def noise(self, num, seed):
        """Standard normal noise for `generate`, reproducible from an int seed."""
        return tf.random.stateless_normal([num, self.latent_dim], seed=[seed, 0])

    def generate_images(self, num, seed):
        """The generic image hook (docs/ARCHITECTURE.md): float32 colours [num, H, W, C] in [0, 1]."""
        return self.cached_function(self.generate)(self.noise(num, seed)).numpy()

    def probe_pictures(self, palette=None):
        """Pictures of the fixed probe noise, for the monitoring callbacks."""
        del palette  # generated as colours already
        from tfgen import visualize

        return {"samples": visualize.grid(colour_space.to_rgb(self.generate(self.probe_noise).numpy()))}

    def previews(self, examples, palette, num_samples=16, seed=0):
        from tfgen import visualize

        del examples, palette
        colours = self.generate_images(num_samples, seed)
        return {"samples": visualize.grid(colour_space.to_rgb(colours))}

    # -- serving ----------------------------------------------------------

    def signatures(self):
        h, w, c = self.colour_shape
        noise = TensorInput("noise", (self.latent_dim,), "float32", doc="standard normal noise, the latent code")
        kind = "grey levels" if c == 1 else "RGB"
        return [
            Signature(
                "generate",
                (noise,),
                {"images": f"float32 [B, {h}, {w}, {c}] {kind} in [0, 1]"},
                lambda z: {"images": self.generate(z)},
                doc="map latent noise to images",
            )
        ]
