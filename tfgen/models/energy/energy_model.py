"""The discriminator that generates: an energy model trained on its own samples.

A network E(x) scores images (low energy = data-like). It is trained to lower
the energy of data and raise the energy of negatives it produces itself by
Langevin dynamics, x <- x - step * dE/dx + noise, started from a replay
buffer of earlier negatives (and, with a small probability, from fresh
uniform noise) so chains effectively run across training steps [1]. There is
no generator network: sampling is the same Langevin chain run for K steps
from noise given as inputs, so the exported `sample` is deterministic.

Images live in the colour space of `tfgen.data.colours`, in [0, 1]; chains
are clipped to it.

[1] Du & Mordatch 2019, "Implicit Generation and Generalization in
    Energy-Based Models", arXiv:1903.08689.
"""

import keras
import tensorflow as tf

from tfgen import losses, optimizers, registry
from tfgen.data import colours as colour_space
from tfgen.export.signatures import Signature, TensorInput
from tfgen.layers import ConvEncoder
from tfgen.models.base import gather_replicas, replica_rows
from tfgen.models.colour_images import ColourImageModel
from tfgen.models.energy.energy_configs import CONFIGS
from tfgen.models.statistics import gradient_norm, mean_pairwise_distance, nearest_distance


@registry.register("energy", configs=CONFIGS, default_dataset="digits")
class EnergyModel(ColourImageModel):
    """Energy-based model with Langevin sampling from a replay buffer.

    Args:
        image_shape: (height, width, 1) of the dataset's index images.
        palette: uint8 [K, 3]: the colour of each index.
        channels: the energy network's stride-2 convolutions. Defaults to (32, 64).
        kernel_size: Defaults to 3.
        langevin_steps: Langevin steps per training step. Defaults to 20.
        sample_steps: Langevin steps of `sample` from noise. Defaults to 60.
        step_size: multiplies dE/dx in each step. Defaults to 10.
        noise_scale: standard deviation of each step's noise. Defaults to 0.005.
        buffer_size: negatives kept in the replay buffer. Defaults to 1000.
        reinit_fraction: chance that a chain restarts from uniform noise.
            Defaults to 0.05.
        regularization: weight alpha of E(x+)^2 + E(x-)^2. Defaults to 1.
        adam_beta_1, adam_beta_2: Defaults to 0.0 and 0.999 (as [1]).

    Example:
        >>> ebm = EnergyModel(image_shape=(8, 8, 1), palette=grey17, sample_steps=60)
        >>> ebm.build_for_data()
        >>> images = ebm.sample(*ebm.noise(4, seed=0))  # [4, 8, 8, 1] in [0, 1]
    """

    family = "energy"
    has_likelihood = False
    # Mean distance from each negative to its nearest image of the batch:
    # falls as the energy learns the batch and its chains reach it.
    monitor = "sample_distance"
    conformance_steps = 60
    default_signature = "sample"

    def __init__(
        self,
        image_shape,
        palette,
        channels=(32, 64),
        kernel_size=3,
        langevin_steps=20,
        sample_steps=60,
        step_size=10.0,
        noise_scale=0.005,
        buffer_size=1000,
        reinit_fraction=0.05,
        regularization=1.0,
        adam_beta_1=0.0,
        adam_beta_2=0.999,
        **kwargs,
    ):
        super().__init__(image_shape, palette, **kwargs)
        self.channels = tuple(int(c) for c in channels)
        self.kernel_size = int(kernel_size)
        self.langevin_steps = int(langevin_steps)
        self.sample_steps = int(sample_steps)
        self.step_size = float(step_size)
        self.noise_scale = float(noise_scale)
        self.buffer_size = int(buffer_size)
        self.reinit_fraction = float(reinit_fraction)
        self.regularization = float(regularization)
        self.adam_beta_1, self.adam_beta_2 = float(adam_beta_1), float(adam_beta_2)
        self.energy_net = ConvEncoder(self.channels, 1, self.kernel_size, name="energy")
        names = ["loss", "positive_energy", "negative_energy", "grad_norm"]
        names += ["fake_diversity", "real_diversity", "sample_distance"]
        self.trackers = {n: keras.metrics.Mean(name=n) for n in names}

    def get_config(self):
        return {
            **super().get_config(),
            "channels": list(self.channels),
            "kernel_size": self.kernel_size,
            "langevin_steps": self.langevin_steps,
            "sample_steps": self.sample_steps,
            "step_size": self.step_size,
            "noise_scale": self.noise_scale,
            "buffer_size": self.buffer_size,
            "reinit_fraction": self.reinit_fraction,
            "regularization": self.regularization,
            "adam_beta_1": self.adam_beta_1,
            "adam_beta_2": self.adam_beta_2,
        }

    def build(self, input_shape):
        self.energy_net.build((None, *self.colour_shape))
        # The replay buffer is a weight: checkpointed with the run, so chains
        # continue where they were after a resume. Under several replicas each
        # writes the all-gathered chains of the global batch, so the copies stay
        # equal and ONLY_FIRST_REPLICA keeps the single-process buffer.
        self.replay_buffer = self.add_weight(
            shape=(self.buffer_size, *self.colour_shape),
            initializer=keras.initializers.RandomUniform(0.0, 1.0),
            trainable=False,
            aggregation="only_first_replica",
            name="replay_buffer",
        )
        self.add_noise_seed()
        self.built = True

    @property
    def metrics(self):
        return list(self.trackers.values())

    def energy(self, colours, training=False):
        """E(x) [B] for colours in [0, 1]."""
        x = tf.cast(colours, tf.float32) * 2.0 - 1.0
        return tf.cast(self.energy_net(x, training=training)[:, 0], tf.float32)

    def call(self, images, training=False):
        return {"energy": self.energy(self.colour_table.lookup(images), training=training)}

    def per_example_metrics(self, images):
        return {"energy": self.energy(self.colour_table.lookup(images))}

    # -- Langevin dynamics ---------------------------------------------------

    def energy_gradient(self, colours):
        """dE/dx for each image: [B, H, W, C] (the network's hand-written backward pass)."""
        x = tf.cast(colours, tf.float32) * 2.0 - 1.0
        return 2.0 * tf.cast(self.energy_net.input_gradient(x), tf.float32)  # d(2c - 1)/dc = 2

    def langevin(self, x, noise_at, steps):
        """Runs `steps` Langevin steps from x; noise_at(t) gives step t's normal noise."""

        def body(t, x):
            x = losses.langevin_step(
                x, self.energy_gradient(x), self.step_size, noise_at(t), self.noise_scale, 0.0, 1.0
            )
            return t + 1, x

        # A WHILE loop (not unrolled): the exported sampler stays small and
        # converts to a builtin TFLite WHILE.
        _, x = tf.while_loop(lambda t, _: t < steps, body, (tf.constant(0), tf.cast(x, tf.float32)))
        return x

    def sample(self, init, noise):
        """K Langevin steps from init (uniform [0, 1], [B, H, W, C]) with noise [B, K, H, W, C]."""
        noise = tf.cast(noise, tf.float32)
        return self.langevin(init, lambda t: tf.gather(noise, t, axis=1), tf.shape(noise)[1])

    def noise(self, num, seed):
        """(init, noise) for `sample`, reproducible from an int seed."""
        init = tf.random.stateless_uniform([num, *self.colour_shape], seed=[seed, 0])
        noise = tf.random.stateless_normal([num, self.sample_steps, *self.colour_shape], seed=[seed, 1])
        return init, noise

    def generate_images(self, num, seed):
        """The generic image hook (docs/ARCHITECTURE.md): float32 colours [num, H, W, C] in [0, 1]."""
        return self.cached_function(self.sample)(*self.noise(num, seed)).numpy()

    # -- training -----------------------------------------------------------

    def make_optimizers(self, learning_rate):
        return {"optimizer": optimizers.Adam(learning_rate, beta_1=self.adam_beta_1, beta_2=self.adam_beta_2)}

    def negatives(self, batch_size):
        """Chains from the replay buffer (or fresh noise) after `langevin_steps` steps; and their buffer slots."""
        # Every replica draws the global batch's slots and noise and keeps its own rows (`replica_rows`).
        order = tf.argsort(tf.random.stateless_uniform([self.buffer_size], seed=self.training_seed(0)))
        slots = replica_rows(lambda n: order[:n], batch_size)
        start = tf.gather(self.replay_buffer, slots)
        seeds = [self.training_seed(stream) for stream in (1, 2, 3)]
        fresh = replica_rows(lambda n: tf.random.stateless_uniform([n, *self.colour_shape], seed=seeds[0]), batch_size)
        restart = replica_rows(lambda n: tf.random.stateless_uniform([n], seed=seeds[1]), batch_size)
        start = tf.where((restart < self.reinit_fraction)[:, None, None, None], fresh, start)

        def noise_at(t):
            seed = tf.random.experimental.stateless_fold_in(seeds[2], t)
            return replica_rows(lambda n: tf.random.stateless_normal([n, *self.colour_shape], seed=seed), batch_size)

        return tf.stop_gradient(self.langevin(start, noise_at, self.langevin_steps)), slots

    def train_step(self, images):
        positive = self.colour_table.lookup(images)
        batch = tf.shape(positive)[0]
        negative, slots = self.negatives(batch)
        variables = self.energy_net.trainable_variables
        with tf.GradientTape() as tape:
            e_pos = self.energy(positive, training=True)
            e_neg = self.energy(negative, training=True)
            per_example = losses.contrastive_energy(e_pos, e_neg, self.regularization)
            scaled = self.optimizer.scale_loss(losses.replica_mean(per_example))
        grads = tape.gradient(scaled, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        # Every replica writes the whole global batch's chains, as a single process would.
        written_slots, written = gather_replicas(slots), gather_replicas(negative)
        self.replay_buffer.assign(tf.tensor_scatter_nd_update(self.replay_buffer, written_slots[:, None], written))
        values = {
            "loss": tf.reduce_mean(per_example),
            "positive_energy": tf.reduce_mean(e_pos),
            "negative_energy": tf.reduce_mean(e_neg),
            "grad_norm": gradient_norm(self.optimizer, grads),
            "fake_diversity": mean_pairwise_distance(negative),
            "real_diversity": mean_pairwise_distance(positive),
            "sample_distance": nearest_distance(negative, positive),
        }
        for k, v in values.items():
            self.trackers[k].update_state(v)
        return {k: m.result() for k, m in self.trackers.items()}

    # -- pictures and monitoring --------------------------------------------

    def _pictures(self, num, seed):
        from tfgen import visualize

        samples = self.generate_images(num, seed)
        buffer = self.replay_buffer.numpy()[:num]
        return {
            "samples": visualize.grid(colour_space.to_rgb(samples)),
            "replay_buffer": visualize.grid(colour_space.to_rgb(buffer)),
        }

    def probe_pictures(self, palette=None):
        del palette  # drawn as colours already
        return self._pictures(16, seed=0)

    def previews(self, examples, palette, num_samples=16, seed=0):
        del examples, palette
        return self._pictures(num_samples, seed)

    # -- serving ----------------------------------------------------------

    def signatures(self):
        h, w, c = self.colour_shape
        init = TensorInput(
            "init", self.colour_shape, "float32", 0.0, 1.0, doc="uniform noise in [0, 1]: where the chains start"
        )
        noise = TensorInput(
            "noise",
            (self.sample_steps, *self.colour_shape),
            "float32",
            doc=f"standard normal noise, one image per Langevin step ({self.sample_steps} steps)",
        )
        kind = "grey levels" if c == 1 else "RGB"
        return [
            Signature(
                "sample",
                (init, noise),
                {"images": f"float32 [B, {h}, {w}, {c}] {kind} in [0, 1]"},
                # The chain's images are in [0, 1] already; the clip keeps an op between the loop and
                # the output. LiteRT.js (the browser page) returns zeros for a signature output that is
                # a WHILE loop's output itself (measured: tests/export, the browser test).
                lambda x0, n: {"images": tf.clip_by_value(self.sample(x0, n), 0.0, 1.0)},
                doc=f"{self.sample_steps} Langevin steps on the energy from the given noise",
            )
        ]
