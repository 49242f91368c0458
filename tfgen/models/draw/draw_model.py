"""DRAW: a sequential VAE that writes an image onto a canvas over T steps, through attention windows.

At each step t = 1..T (Gregor et al. 2015, equations 3-8):

    c_0   = a learned bias (every image starts from the same canvas)
    x^_t  = x - E[x | c_{t-1}]                       the error image
    r_t   = read(x, x^_t, h_dec_{t-1})                a glimpse of both
    h_enc_t = LSTM_enc(h_enc_{t-1}, [r_t, h_dec_{t-1}])
    z_t   ~ q(z_t | h_enc_t) = N(m_t, diag(exp(log_var_t)))
    h_dec_t = LSTM_dec(h_dec_{t-1}, z_t)
    c_t   = c_{t-1} + write(h_dec_t)

and p(x | c_T) is independent Bernoullis with logits c_T (binary images) or
independent categoricals over the palette with logits c_T (one canvas plane
per value). Generation runs the decoder alone on z_t ~ N(0, I). The loss is
the negative ELBO, reconstruction + sum_t KL(q(z_t|...) || N(0, I))
(`tfgen.losses.latent.sequential_kl`), an upper bound on -log p(x) in nats;
the importance-weighted bound (`tools/evaluate_latent.py`) draws k whole
sequences z_1..z_T from the sequential posterior.

The code of an image is the T step codes one after another, [B, T * Z], so
the `LatentImageModel` signatures (sample, decode, encode, reconstruct),
interpolations and code maps work unchanged; `encode` is the posterior means
along the path where every z_t is its mean. For palette images the encoder
reads a learned embedding of the pixel values (and the error in that
embedding, the image's minus the canvas's expected one) instead of K one-hot
planes.

[1] Gregor, Danihelka, Graves, Rezende & Wierstra 2015, "DRAW: A Recurrent
    Neural Network For Image Generation", arXiv:1502.04623.
"""

import keras
import numpy as np
import tensorflow as tf

from tfgen import losses, registry
from tfgen.layers import draw_attention
from tfgen.layers.lstm import SequenceLSTM
from tfgen.losses import latent as latent_losses
from tfgen.models.base import PosteriorModel
from tfgen.models.draw.draw_configs import CONFIGS
from tfgen.models.latent import LatentImageModel

# Validation draws the same noise for every batch, so a checkpoint's -ELBO is reproducible.
EVAL_NOISE_SEED = (2015, 0)


@registry.register("draw", configs=CONFIGS, default_dataset="binarized_mnist")
class DRAW(LatentImageModel, PosteriorModel):
    """DRAW with Gaussian filterbank attention (or none), Bernoulli or categorical pixels.

    Args:
        (see LatentImageModel) num_classes, image_shape, learning_rate_decay,
            clip_norm. latent_dim is steps * code_size (pass it only to check).
        steps: T, the number of writes. Defaults to 10.
        code_size: Z, the size of each step's latent z_t. Defaults to 10.
        encoder_units, decoder_units: of the two LSTMs. Default 256.
        read_size: N of the read window; 0 reads the whole image (no attention).
        write_size: N of the write window; 0 writes a whole-image update.
        embed_dim: size of the learned embedding the encoder reads for
            palette images (binary images are read as 0/1). Defaults to 4.
        kl_warmup: the KL weight rises linearly from 0 to 1 over this fraction
            of the run (as the VAE's; 0: none). Small palette images (the
            embedded digits) otherwise let the learned initial canvas explain
            them before the code does, and the KL collapses to 0.

    Example:
        >>> draw = DRAW(num_classes=2, image_shape=(28, 28, 1), steps=64, code_size=100,
        ...             read_size=2, write_size=5)
        >>> logits = draw.decode_logits(tf.random.normal([16, 64 * 100]))   # [16, 28, 28, 1, 1]
    """

    monitor = "loss"

    def __init__(
        self,
        num_classes,
        image_shape,
        steps=10,
        code_size=10,
        encoder_units=256,
        decoder_units=256,
        read_size=2,
        write_size=5,
        embed_dim=4,
        kl_warmup=0.0,
        latent_dim=None,
        **kwargs,
    ):
        steps, code_size = int(steps), int(code_size)
        if steps < 1 or code_size < 1:
            raise ValueError(f"steps and code_size must be >= 1, got {steps} and {code_size}")
        if latent_dim is not None and int(latent_dim) != steps * code_size:
            raise ValueError(f"DRAW's latent_dim is steps * code_size = {steps * code_size}, got {latent_dim}")
        super().__init__(num_classes, image_shape, latent_dim=steps * code_size, **kwargs)
        self.steps, self.code_size = steps, code_size
        self.encoder_units, self.decoder_units = int(encoder_units), int(decoder_units)
        self.read_size, self.write_size, self.embed_dim = int(read_size), int(write_size), int(embed_dim)
        self.kl_warmup = float(kl_warmup)
        if not 0.0 <= self.kl_warmup <= 1.0:
            raise ValueError(f"kl_warmup is a fraction of the run in [0, 1], got {kl_warmup}")
        height, width, channels = self.image_shape
        # Planes the encoder reads (per image: pixel features) and the canvas holds (logits).
        self.feature_planes = channels * (1 if self.bernoulli else self.embed_dim)
        self.canvas_planes = channels * (1 if self.bernoulli else self.num_classes)
        if not self.bernoulli:
            self.embedding = keras.layers.Embedding(self.num_classes, self.embed_dim, name="pixel_embedding")
        if self.read_size:
            self.reader = draw_attention.AttentionRead(self.read_size, height, width, name="read")
        else:
            self.reader = draw_attention.WholeImageRead(name="read")
        if self.write_size:
            self.writer = draw_attention.AttentionWrite(
                self.write_size, height, width, self.canvas_planes, name="write"
            )
        else:
            self.writer = draw_attention.WholeImageWrite(height, width, self.canvas_planes, name="write")
        # The LSTMs' input projections are separate (bias-free) dense layers: the LSTM adds its own bias.
        self.encoder_input = keras.layers.Dense(4 * self.encoder_units, use_bias=False, name="encoder_input")
        self.encoder_lstm = SequenceLSTM(self.encoder_units, name="encoder_lstm")
        self.to_posterior = keras.layers.Dense(2 * self.code_size, name="posterior", dtype="float32")
        self.decoder_input = keras.layers.Dense(4 * self.decoder_units, use_bias=False, name="decoder_input")
        self.decoder_lstm = SequenceLSTM(self.decoder_units, name="decoder_lstm")
        self.add_elbo_trackers()

    def get_config(self):
        return {
            **super().get_config(),
            "steps": self.steps,
            "code_size": self.code_size,
            "encoder_units": self.encoder_units,
            "decoder_units": self.decoder_units,
            "read_size": self.read_size,
            "write_size": self.write_size,
            "embed_dim": self.embed_dim,
            "kl_warmup": self.kl_warmup,
        }

    def build(self, input_shape):
        self.canvas_bias = self.add_weight(
            shape=(self.canvas_planes, *self.image_shape[:2]), initializer="zeros", name="canvas_bias"
        )
        self.encoder_lstm.build((None, None, 4 * self.encoder_units))
        self.decoder_lstm.build((None, None, 4 * self.decoder_units))
        self._infer(tf.zeros([1, *self.image_shape], tf.int32), tf.zeros([1, self.steps, self.code_size]))
        self.add_noise_seed()
        self.built = True

    # -- the canvas -------------------------------------------------------------

    def pixel_features(self, images):
        """What the encoder reads of an image: [B, feature_planes, H, W] float32 (channel-first)."""
        if self.bernoulli:
            features = tf.cast(images, tf.float32)
        else:
            embedded = tf.cast(self.embedding(tf.cast(images, tf.int32)), tf.float32)  # [B, H, W, C, E]
            features = tf.reshape(embedded, [-1, *self.image_shape[:2], self.feature_planes])
        return tf.transpose(features, [0, 3, 1, 2])

    def expected_features(self, canvas):
        """The pixel features' expectation under the canvas's distribution: [B, feature_planes, H, W]."""
        if self.bernoulli:
            return tf.sigmoid(canvas)
        height, width, channels = self.image_shape
        logits = tf.reshape(canvas, [-1, channels, self.num_classes, height, width])
        probs = tf.nn.softmax(tf.transpose(logits, [0, 1, 3, 4, 2]), axis=-1)  # [B, C, H, W, K]
        expected = tf.matmul(probs, tf.cast(self.embedding.embeddings, tf.float32))  # [B, C, H, W, E]
        expected = tf.transpose(expected, [0, 1, 4, 2, 3])
        return tf.reshape(expected, [-1, self.feature_planes, height, width])

    def canvas_logits(self, canvas):
        """Canvas [B, canvas_planes, H, W] -> pixel logits [B, H, W, C, K] (K = 1 for Bernoulli)."""
        height, width, channels = self.image_shape
        per_value = tf.reshape(canvas, [-1, channels, self.canvas_planes // channels, height, width])
        return tf.transpose(per_value, [0, 3, 4, 1, 2])

    def _initial_canvas(self, batch):
        # c_0 is a learned bias (the paper learns the initial states): the
        # background the writes then only have to correct. Writes are filtered
        # through normalised Gaussians, so a write moves a pixel's logit only by
        # about its patch value / sigma^2; painting the background from 0 alone
        # would take many steps of large patches.
        return tf.tile(self.canvas_bias[None], [batch, 1, 1, 1])

    def _decoder_step(self, z, state):
        h, state = self.decoder_lstm.step(self.decoder_input(tf.cast(z, self.compute_dtype)), state)
        update, win = self.writer(h)
        return h, state, update, win

    def _infer(self, images, eps, training=False, record=False):
        """The posterior pass over T steps with noise eps [B, T, Z].

        Returns a dict: canvas [B, planes, H, W], means, log_vars, codes
        ([B, T, Z] each) and, with record=True, every step's canvas and windows.
        """
        batch = tf.shape(images)[0]
        x = self.pixel_features(images)
        canvas = self._initial_canvas(batch)
        enc_state = self.encoder_lstm.zero_state(batch)
        dec_state = self.decoder_lstm.zero_state(batch)
        h_dec = dec_state[0]
        means, log_vars, codes, history = [], [], [], []
        for t in range(self.steps):
            error = x - self.expected_features(canvas)
            glimpse, read_win = self.reader(x, error, h_dec)
            enc_in = tf.concat([tf.cast(glimpse, self.compute_dtype), h_dec], axis=-1)
            h_enc, enc_state = self.encoder_lstm.step(self.encoder_input(enc_in), enc_state)
            q = tf.cast(self.to_posterior(h_enc), tf.float32)
            mean, log_var = q[:, : self.code_size], q[:, self.code_size :]
            z = latent_losses.reparameterize(mean, log_var, tf.cast(eps[:, t], tf.float32))
            h_dec, dec_state, update, write_win = self._decoder_step(z, dec_state)
            canvas = canvas + update
            means.append(mean), log_vars.append(log_var), codes.append(z)
            if record:
                history.append({"canvas": canvas, "read": read_win, "write": write_win})
        out = {
            "canvas": canvas,
            "means": tf.stack(means, axis=1),
            "log_vars": tf.stack(log_vars, axis=1),
            "codes": tf.stack(codes, axis=1),
        }
        if record:
            out["history"] = history
        return out

    def _generate(self, codes, record=False):
        """The decoder alone on step codes [B, T, Z]: the final canvas (and, with record=True, every step's)."""
        batch = tf.shape(codes)[0]
        canvas = self._initial_canvas(batch)
        state = self.decoder_lstm.zero_state(batch)
        history = []
        for t in range(self.steps):
            _, state, update, win = self._decoder_step(codes[:, t], state)
            canvas = canvas + update
            if record:
                history.append({"canvas": canvas, "write": win})
        return (canvas, history) if record else canvas

    # -- LatentImageModel ---------------------------------------------------------

    def step_codes(self, codes):
        """Flat codes [B, T * Z] -> [B, T, Z]."""
        return tf.reshape(tf.cast(codes, tf.float32), [-1, self.steps, self.code_size])

    def decode_logits(self, codes, training=False):
        return self.canvas_logits(self._generate(self.step_codes(codes)))

    def encode(self, images, training=False):
        """The posterior means along the path where every z_t is its mean: [B, T * Z]."""
        zeros = tf.zeros([tf.shape(images)[0], self.steps, self.code_size])
        return tf.reshape(self._infer(images, zeros, training=training)["codes"], [-1, self.latent_dim])

    def call(self, images, training=False):
        """Logits of the reconstruction from the deterministic code (as `decode_logits(encode(x))`, in one pass)."""
        zeros = tf.zeros([tf.shape(images)[0], self.steps, self.code_size])
        return self.canvas_logits(self._infer(images, zeros, training=training)["canvas"])

    # -- training ---------------------------------------------------------------

    def elbo_terms(self, images, eps, training=False):
        """(reconstruction nats, KL nats summed over steps), each [B], for one code sequence drawn with eps."""
        out = self._infer(images, eps, training=training)
        reconstruction = -self.log_likelihood(images, self.canvas_logits(out["canvas"]))
        return reconstruction, latent_losses.sequential_kl(out["means"], out["log_vars"])

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def train_step(self, images):
        eps = self._training_noise([tf.shape(images)[0], self.steps, self.code_size])
        with tf.GradientTape() as tape:
            reconstruction, kl = self.elbo_terms(images, eps, training=True)
            total = reconstruction + kl
            weight = latent_losses.kl_weight(self.optimizer.iterations, 1.0, self.kl_warmup, self.total_steps)
            loss = self.optimizer.scale_loss(losses.replica_mean(reconstruction + weight * kl))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(losses.dense_gradients(grads), self.trainable_variables))
        return self.elbo_logs(total, reconstruction, kl)

    def per_example_metrics(self, images):
        eps = tf.random.stateless_normal([tf.shape(images)[0], self.steps, self.code_size], seed=EVAL_NOISE_SEED)
        return self.elbo_metrics(images, *self.elbo_terms(images, eps))

    # -- importance-weighted likelihood (PosteriorModel) ----------------------------

    def importance_noise_dim(self):
        return self.latent_dim

    def encode_for_likelihood(self, images):
        return tf.cast(images, tf.int32)

    def log_importance_weights(self, images, eps):
        """S whole code sequences per image, each drawn step by step from q: eps [B, S, T * Z] -> [B, S]."""
        batch, samples = tf.shape(eps)[0], tf.shape(eps)[1]
        tiled = tf.reshape(tf.repeat(images[:, None], samples, axis=1), [-1, *self.image_shape])
        out = self._infer(tiled, tf.reshape(eps, [-1, self.steps, self.code_size]))
        log_likelihood = self.log_likelihood(tiled, self.canvas_logits(out["canvas"]))
        log_w = latent_losses.log_importance_weight(log_likelihood, out["codes"], out["means"], out["log_vars"])
        return tf.reshape(log_w, [batch, samples])

    def posterior_means(self, images):
        return self.encode(images)

    # -- pictures -----------------------------------------------------------------

    def drawing_steps(self, codes=None, images=None):
        """Every step of drawing, as numpy: canvas logits [T, B, H, W, C, K] and windows
        ({"read"/"write": {name: [T, B]}}, only for attention). Codes [B, T * Z] are
        drawn by the decoder; images are reconstructed along their mean path."""
        if codes is not None:
            _, history = self._generate(self.step_codes(codes), record=True)
        else:
            zeros = tf.zeros([len(images), self.steps, self.code_size])
            history = self._infer(tf.constant(images, tf.int32), zeros, record=True)["history"]
        logits = np.stack([self.canvas_logits(h["canvas"]).numpy() for h in history])
        windows = {}
        for kind in ("read", "write"):
            if history[0].get(kind) is not None:
                windows[kind] = {k: np.stack([h[kind][k].numpy() for h in history]) for k in history[0][kind]}
        return logits, windows

    def previews(self, examples, palette, num_samples=16, seed=0):
        """The latent pictures, plus the canvas after every step of a few samples and reconstructions."""
        from tfgen.models.draw import draw_pictures

        pictures = super().previews(examples, palette, num_samples, seed)
        pictures.update(draw_pictures.drawing_previews(self, examples, palette, seed))
        return pictures
