"""Base classes of latent-code image models: the autoencoder, the VAE and DRAW.

Each maps an image to a code and a code back to a distribution over images:
independent Bernoullis for binary pixels, independent categoricals over the
palette (or grey levels) otherwise. The autoencoder and the VAE do it with one
encoder and one decoder network (`EncoderDecoderModel`,
`tfgen.layers.image_coders`); DRAW with recurrent networks that read and write
over several steps. They differ in the code: the autoencoder's is a
deterministic point, the VAE's a Gaussian q(c|x) trained to stay close to
N(0, I), DRAW's a sequence of such Gaussians. `LatentImageModel` holds
everything else they share: the likelihood of pixels, reconstruction, the
pictures (code grid, code map, interpolations) and the serving signatures
(encode, decode, sample, reconstruct). Randomness (codes to decode) is always
an input.
"""

import keras
import numpy as np
import tensorflow as tf

from tfgen import losses, optimizers
from tfgen.errors import InvalidArgumentError
from tfgen.export.signatures import Signature, TensorInput
from tfgen.layers.image_coders import ImageDecoder, ImageEncoder
from tfgen.losses import latent as latent_losses
from tfgen.models.base import GenerativeModel, replica_rows

# How generate_images turns decoded pixel distributions into images.
PIXELS = ("most_likely", "drawn")


class LatentImageModel(GenerativeModel):
    """Images to codes and codes to a distribution over images.

    A subclass says how: `encode` (the deterministic code of an image),
    `decode_logits` (the pixel logits of a code) and its own networks; this
    class gives the pixel likelihood, the pictures and the signatures. The
    code is a flat vector of `latent_dim` numbers even when the model draws it
    in parts (DRAW: one part per step).

    Args:
        num_classes: values a pixel channel takes (2: binary, Bernoulli
            likelihood; more: categorical over the values).
        image_shape: (height, width, channels).
        latent_dim: size of the code. Defaults to 32.
        learning_rate_decay: "cosine": the learning rate follows a cosine from
            the configured rate down to 2% of it over the whole run (its
            length comes from `plan_run`). None (default): constant.
        clip_norm: clip the gradient to this global norm (None: no clipping).
    """

    family = "latent"
    default_signature = "sample"
    monitors = ("code_map",)

    def __init__(self, num_classes, image_shape, latent_dim=32, learning_rate_decay=None, clip_norm=None, **kwargs):
        super().__init__(**kwargs)
        if learning_rate_decay not in (None, "cosine"):
            raise ValueError(f"learning_rate_decay must be None or 'cosine', got {learning_rate_decay!r}")
        if clip_norm is not None and not clip_norm > 0:
            raise ValueError(f"clip_norm must be positive or None, got {clip_norm!r}")
        self.learning_rate_decay = learning_rate_decay
        self.clip_norm = None if clip_norm is None else float(clip_norm)
        self.num_classes = int(num_classes)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.num_pixels = int(np.prod(self.image_shape))
        self.latent_dim = int(latent_dim)
        self.bernoulli = self.num_classes == 2

    @classmethod
    def from_data_spec(cls, spec, **kwargs):
        if spec.kind != "image":
            raise ValueError(f"{cls.__name__} models images; {spec.name} holds {spec.kind}")
        return cls(num_classes=spec.num_classes, image_shape=spec.image_shape, **kwargs)

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "image_shape": list(self.image_shape),
            "latent_dim": self.latent_dim,
            "learning_rate_decay": self.learning_rate_decay,
            "clip_norm": self.clip_norm,
        }

    def make_optimizers(self, learning_rate):
        """Adam, with the cosine decay over the run if `learning_rate_decay` asks for it.

        Annealing the rate at the end of a short run is worth a nat or more
        of validation NLL for a VAE: the last epochs average out the noise of
        the single-sample gradient instead of bouncing around the optimum.
        """
        if self.learning_rate_decay == "cosine" and self.total_steps:
            learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, self.total_steps, alpha=0.02)
        return {"optimizer": optimizers.Adam(learning_rate, global_clipnorm=self.clip_norm)}

    # -- conformance tests ------------------------------------------------

    @classmethod
    def conformance_spec(cls):
        from tfgen.data import DataSpec

        # Odd sizes (the conv decoder must crop) and three values (categorical path).
        palette = np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0]], np.uint8)
        return DataSpec("test", (7, 6, 1), 3, palette)

    @classmethod
    def example_batch(cls, spec, n, seed=0):
        """Images with structure (a background value and a random filled box),
        so that a model can learn something from a handful of them."""
        rng = np.random.default_rng(seed)
        h, w, c = spec.image_shape
        images = np.zeros((n, h, w, c), np.int32)
        for i in range(n):
            top, left = rng.integers(0, h - 1), rng.integers(0, w - 1)
            bottom, right = rng.integers(top + 1, h + 1), rng.integers(left + 1, w + 1)
            images[i, top:bottom, left:right] = rng.integers(1, spec.num_classes)
        return tf.constant(images)

    def build_for_data(self):
        self(tf.zeros([1, *self.image_shape], tf.int32))

    # -- pieces ---------------------------------------------------------------

    def encode(self, images, training=False):
        """The code an image gets when nothing is random: [B, latent_dim]."""
        raise NotImplementedError

    def decode_logits(self, codes, training=False):
        """[B, H, W, C, 1] Bernoulli logits (binary) or [B, H, W, C, K] logits."""
        raise NotImplementedError

    def log_likelihood(self, images, logits):
        """log p(images | code) in nats per image: [B]."""
        if self.bernoulli:
            return latent_losses.bernoulli_log_prob(logits[..., 0], images)
        return losses.categorical_log_prob(logits, images)

    def probabilities(self, logits):
        """[B, H, W, C, K] probability of every pixel value."""
        logits = tf.cast(logits, tf.float32)
        if self.bernoulli:
            # sigmoid(-l), not 1 - sigmoid(l): keeps small probabilities accurate.
            return tf.concat([tf.sigmoid(-logits), tf.sigmoid(logits)], axis=-1)
        return tf.nn.softmax(logits, axis=-1)

    def most_likely(self, logits):
        """The most likely value of every pixel: int32 [B, H, W, C]."""
        if self.bernoulli:
            return tf.cast(logits[..., 0] > 0, tf.int32)
        return tf.argmax(logits, axis=-1, output_type=tf.int32)

    def call(self, images, training=False):
        """Logits of the reconstruction from the deterministic code."""
        return self.decode_logits(self.encode(images, training=training), training=training)

    def reconstruction_metrics(self, images, logits):
        """Per-image reconstruction error: nats (what is trained) and squared error.

        `squared_error` sums (E[v] - v)^2 over pixels with values v scaled to
        [0, 1] (v / (K - 1)): for binary images this is the classic deep
        autoencoder's error and what the PCA baseline reports. It is
        meaningless for palette indices, whose order carries no meaning.
        """
        probs = self.probabilities(logits)
        scale = tf.range(self.num_classes, dtype=tf.float32) / (self.num_classes - 1)
        expected = tf.reduce_sum(probs * scale, axis=-1)
        target = tf.cast(images, tf.float32) / (self.num_classes - 1)
        squared = tf.reduce_sum(tf.reshape(tf.square(expected - target), [tf.shape(images)[0], -1]), axis=1)
        return {"reconstruction": -self.log_likelihood(images, logits), "squared_error": squared}

    # -- the ELBO's bookkeeping (the VAE and DRAW) -------------------------

    def add_elbo_trackers(self):
        """Running means of the logged loss and the -ELBO's two terms (list them in `metrics`)."""
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")

    def elbo_logs(self, loss, reconstruction, kl):
        """Updates the ELBO trackers with [B] values; the `train_step` outputs."""
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return {m.name: m.result() for m in (self.loss_tracker, self.reconstruction_tracker, self.kl_tracker)}

    def elbo_metrics(self, images, reconstruction, kl):
        """`per_example_metrics` of a variational model: -ELBO (one code draw; an upper bound on the
        NLL), its two terms, bits/dim, and the squared error of the deterministic code's reconstruction."""
        negative_elbo = reconstruction + kl
        return {
            "negative_elbo": negative_elbo,
            "reconstruction": reconstruction,
            "kl": kl,
            "bits_per_dim": losses.bits_per_dim(negative_elbo, self.num_pixels),
            "squared_error": self.reconstruction_metrics(images, self(images))["squared_error"],
        }

    def _training_noise(self, shape):
        """Standard normal noise [B, ...] for a train step: a function of the run's seed, the step and the example.

        Stateless, seeded by checkpointed state (`GenerativeModel.training_seed`),
        so a resumed run draws the same noise as an uninterrupted one, another
        --seed draws other noise, and an example's noise does not depend on
        how the batch is split over replicas (`replica_rows`).
        """
        batch, rest = shape[0], list(shape[1:])
        return replica_rows(lambda n: tf.random.stateless_normal([n, *rest], seed=self.training_seed(0)), batch)

    # -- pictures ---------------------------------------------------------

    def prior_codes(self, noise):
        """Codes to decode for `sample`, from standard normal noise [B, D]."""
        return noise

    def render(self, logits, palette):
        """RGB uint8 [B, H, W, 3]: every pixel's expected colour under the palette.

        For binary images this is the grey level P(ink); for a palette it is
        a blend of the likely colours (the uncertainty stays visible).
        """
        probs = self.probabilities(logits).numpy()
        palette = np.asarray(palette, np.float32)[: self.num_classes]
        rgb = np.einsum("bhwck,kr->bhwcr", probs, palette)[..., 0, :]
        return np.clip(np.round(rgb), 0, 255).astype(np.uint8)

    def previews(self, examples, palette, num_samples=16, seed=0):
        """Samples, reconstructions, interpolations and (2-D codes) the code grid."""
        from tfgen.models import latent_pictures

        return latent_pictures.model_previews(self, examples, palette, num_samples, seed)

    def code_map_picture(self, images, title, limit=None):
        """RGB uint8 of the codes of `images` (a dataset) in 2-D, for the `code_map` monitor."""
        from tfgen.models import latent_pictures

        codes = latent_pictures.encode_split(self, images, limit=limit)
        return latent_pictures.code_map(codes, f"{title} ({len(codes)})")

    def generate_images(self, num, seed, pixels="most_likely"):
        """int32 palette indices [num, H, W, C] decoded from `num` prior codes.

        The codes are the `sample` signature's noise as `tools/sample.py`
        draws it for an export, so a workdir and its export give the same
        images. pixels="most_likely" (the default, what `sample` serves)
        takes each pixel's most likely value; "drawn" draws each pixel from
        its decoded distribution (seeded by `seed` too), which is the model's
        actual distribution over images.
        """
        from tfgen.export import noise as export_noise

        if pixels not in PIXELS:
            raise InvalidArgumentError(f"pixels must be one of {', '.join(PIXELS)}, got {pixels!r}")
        sample = next(s for s in self.signatures() if s.name == "sample")
        codes = tf.constant(export_noise.request_inputs(sample.inputs, num, seed)["noise"])
        if pixels == "most_likely":
            return self.cached_function(self._most_likely_sample)(codes).numpy()
        return self.cached_function(self._drawn_sample)(codes, tf.constant([seed, 1])).numpy()

    def _most_likely_sample(self, noise):
        return self.most_likely(self.decode_logits(self.prior_codes(noise)))

    def _drawn_sample(self, noise, seed):
        logits = tf.cast(self.decode_logits(self.prior_codes(noise)), tf.float32)
        if self.bernoulli:
            uniform = tf.random.stateless_uniform(tf.shape(logits[..., 0]), seed)
            return tf.cast(uniform < tf.sigmoid(logits[..., 0]), tf.int32)
        flat = tf.reshape(logits, [-1, logits.shape[-1]])
        drawn = tf.random.stateless_categorical(flat, 1, seed, dtype=tf.int32)
        return tf.reshape(drawn, tf.shape(logits)[:-1])

    def noise(self, num, seed):
        """Standard normal noise for `sample`, reproducible from an int seed."""
        return tf.random.stateless_normal([num, self.latent_dim], seed=[seed, 0])

    # -- serving ----------------------------------------------------------

    def _image_outputs(self, logits):
        return {"images": self.most_likely(logits), "probabilities": self.probabilities(logits)}

    def encode_outputs(self, images):
        """{name: [B, ...]} of the `encode` signature."""
        return {"codes": self.encode(images)}

    def signatures(self):
        shape, k, d = self.image_shape, self.num_classes, self.latent_dim
        images = TensorInput("images", shape, "int32", 0, k - 1, doc=f"pixel values in 0..{k - 1}")
        codes = TensorInput("codes", (d,), "float32", doc="codes to decode")
        noise = TensorInput("noise", (d,), "float32", doc="standard normal noise, one value per code dimension")
        dims = ", ".join(map(str, shape))
        outputs = {
            "images": f"int32 [B, {dims}] the most likely value of every pixel",
            "probabilities": f"float32 [B, {dims}, {k}] the probability of every value of every pixel",
        }
        return [
            Signature(
                "sample",
                (noise,),
                outputs,
                lambda n: self._image_outputs(self.decode_logits(self.prior_codes(n))),
                exact_outputs=("images",),
                doc="decode codes drawn from noise",
            ),
            Signature(
                "decode",
                (codes,),
                outputs,
                lambda c: self._image_outputs(self.decode_logits(c)),
                exact_outputs=("images",),
                doc="decode given codes",
            ),
            Signature(
                "encode",
                (images,),
                {name: f"float32 [B, {d}] {what}" for name, what in self.encode_output_docs().items()},
                self.encode_outputs,
                doc="encode images",
            ),
            Signature(
                "reconstruct",
                (images,),
                outputs,
                lambda x: self._image_outputs(self(x)),
                exact_outputs=("images",),
                doc="decode the images' own (deterministic) codes",
            ),
        ]

    def encode_output_docs(self):
        return {"codes": "the code"}


class EncoderDecoderModel(LatentImageModel):
    """A latent image model whose code comes from one encoder network and goes back through one decoder
    (`tfgen.layers.image_coders`): the autoencoder and the VAE.

    Args:
        (see LatentImageModel) num_classes, image_shape, latent_dim,
            learning_rate_decay, clip_norm.
        architecture: "conv" (default) or "mlp".
        hidden_units: dense layers of the encoder after the input/convs, in
            encoder order (the decoder mirrors them).
        conv_channels: channels of the stride-2 convolutions (conv only).
        embed_dim: embedding size of a pixel value for num_classes > 2.
        activation: of the hidden layers.
    """

    def __init__(
        self,
        num_classes,
        image_shape,
        architecture="conv",
        hidden_units=(256,),
        conv_channels=(32, 64),
        embed_dim=8,
        activation="elu",
        **kwargs,
    ):
        super().__init__(num_classes, image_shape, **kwargs)
        self.architecture = architecture
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.conv_channels = tuple(int(c) for c in conv_channels)
        self.embed_dim = int(embed_dim)
        self.activation = activation
        common = dict(
            image_shape=self.image_shape,
            num_classes=self.num_classes,
            architecture=architecture,
            hidden_units=self.hidden_units,
            conv_channels=self.conv_channels,
            activation=activation,
        )
        self.encoder = ImageEncoder(embed_dim=self.embed_dim, name="encoder", **common)
        self.decoder = ImageDecoder(name="decoder", **common)

    def get_config(self):
        return {
            **super().get_config(),
            "architecture": self.architecture,
            "hidden_units": list(self.hidden_units),
            "conv_channels": list(self.conv_channels),
            "embed_dim": self.embed_dim,
            "activation": self.activation,
        }

    def decode_logits(self, codes, training=False):
        return self.decoder(tf.cast(codes, self.compute_dtype), training=training)
