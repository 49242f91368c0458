"""Base classes for autoregressive models over categorical values: images and audio.

A model of p(x) = prod_t p(x_t | x_<t), with t running over the positions of
an example in raster order: the pixels of an image (channels last, innermost)
or the samples of an audio window. Subclasses implement `call(x)` giving
logits for every position at once (teacher forcing, used for training and
exact likelihoods). Sampling and completion share one loop over positions,
`_autoregress`, with randomness passed in as uniform noise so the result is a
deterministic function of its inputs (reproducible, and exportable to TFLite,
which has no random ops). The base loop re-runs the whole model on the canvas
for every position (quadratic, the keras-io PixelCNN approach); subclasses
that can carry state override `_step_state` to do linear work instead.
"""

import keras
import numpy as np
import tensorflow as tf

from tfgen import losses, optimizers
from tfgen.export.signatures import Signature, TensorInput
from tfgen.models.base import GenerativeModel, replica_rows

NUM_PROBES, PROBE_SEED = 16, 1234  # the monitoring grid's fixed noise


def sample_categorical(logits, uniform):
    """Inverse-CDF draw from softmax(logits): the first k with CDF(k) > u.

    Args:
        logits: [B, K]. uniform: [B] in [0, 1).
    Returns:
        int32 [B].
    """
    probs = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
    cdf = tf.cumsum(probs, axis=-1)
    # Scale u by the CDF's last entry so float error in the softmax sum can
    # never push u past the end of the distribution.
    threshold = uniform[:, None] * cdf[:, -1:]
    index = tf.reduce_sum(tf.cast(cdf <= threshold, tf.int32), axis=-1)
    return tf.minimum(index, tf.shape(logits)[-1] - 1)


class AutoregressiveModel(GenerativeModel):
    """Shared training, likelihood, sampling and completion over categorical positions.

    Args:
        num_classes: values one position takes (palette size, grey levels,
            mu-law levels).
        example_shape: the shape of one example; its positions are modelled
            in raster order.
        dropout: rate of the dropout a subclass applies to its features in
            training (`self.dropout_features`); 0 draws no training noise.
            For small datasets (668 Pokemon sprites) that the models overfit.
        weight_decay: decoupled weight decay (AdamW) of every weight; 0 is Adam.

    Subclasses implement `call(x int [B, *example_shape]) -> logits
    [B, *example_shape, num_classes]`, and name what they draw: `output_name`
    (the signatures' output), `unit` (one position, for messages) and
    `per_position_metric` (the per-position NLL in bits that training and
    evaluation report).
    """

    family = "autoregressive"
    monitors = ("sample_grids",)  # tfgen.training.callbacks: samples from fixed noise every epoch
    monitor = "nll"  # the train_step output that must fall on a fixed batch (conformance test)
    output_name = "values"
    unit = "position"
    per_position_metric = "bits_per_dim"
    supports_dropout = False  # True where `call(x, training)` applies `dropout_features`

    def __init__(self, num_classes, example_shape, dropout=0.0, weight_decay=0.0, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if dropout and not self.supports_dropout:
            raise ValueError(f"{type(self).__name__} has no dropout (its call ignores training); use dropout=0")
        self.dropout = float(dropout)
        self.weight_decay = float(weight_decay)
        self.num_classes = int(num_classes)
        self.example_shape = tuple(int(d) for d in example_shape)
        self.num_positions = int(np.prod(self.example_shape))
        self.nll_tracker = keras.metrics.Mean(name="nll")
        self.bpd_tracker = keras.metrics.Mean(name=self.per_position_metric)

    @classmethod
    def from_data_spec(cls, spec, **kwargs):
        return cls(spec.num_classes, spec.example_shape, **kwargs)

    @classmethod
    def example_batch(cls, spec, n, seed=0):
        rng = np.random.default_rng(seed)
        return tf.constant(rng.integers(0, spec.num_classes, (n, *spec.example_shape)), tf.int32)

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "example_shape": list(self.example_shape),
            "dropout": self.dropout,
            "weight_decay": self.weight_decay,
        }

    def make_optimizers(self, learning_rate):
        if self.weight_decay:
            return {"optimizer": optimizers.AdamW(learning_rate, weight_decay=self.weight_decay)}
        return super().make_optimizers(learning_rate)

    def build_noise_seed(self):
        """Subclasses call this at the end of `build`: the seed weight exists only when training draws noise."""
        if self.dropout:
            self.add_noise_seed()

    def dropout_features(self, x, training, stream=0, noise_shape=None, batch_axis=0):
        """Dropout of `x` in training (stateless, seeded by the checkpointed seed and step); identity otherwise.

        `noise_shape` with 1s shares one mask along those axes (e.g. every position of a sequence);
        `batch_axis` says which axis holds the examples, whose masks are drawn through `replica_rows`.
        """
        if not (training and self.dropout):
            return x
        seed = self.training_seed(stream)
        shape = tf.unstack(tf.shape(x)) if noise_shape is None else list(noise_shape)
        others = shape[:batch_axis] + shape[batch_axis + 1 :]
        keep = replica_rows(lambda n: tf.random.stateless_uniform([n, *others], seed=seed), shape[batch_axis])
        if batch_axis:
            keep = tf.experimental.numpy.moveaxis(keep, 0, batch_axis)
        keep = tf.cast(keep >= self.dropout, x.dtype)
        return x * keep / tf.cast(1.0 - self.dropout, x.dtype)

    def build_for_data(self):
        """Creates the weights (subclasses implement `build`) and traces one call."""
        self(tf.zeros([1, *self.example_shape], tf.int32))

    # -- likelihood -------------------------------------------------------

    def log_prob(self, x, training=False):
        """Exact log-likelihood in nats of each example: [B] (`training`: with dropout, if any)."""
        return losses.categorical_log_prob(self(x, training=training), x)

    def log_prob_sequential(self, x):
        """`log_prob` computed one position at a time through the sampling loop.

        Same number (tested); used for serving by models whose parallel pass
        does not convert to TFLite (an RNN's TensorArray with a dynamic
        batch), since the sampling loop is built from builtin ops only.
        """
        batch = tf.shape(x)[0]
        ones = tf.ones([batch], tf.float32)
        zeros = tf.zeros([batch, *self.example_shape], tf.float32)
        steps = tf.fill([batch], self.num_positions)
        return tf.reduce_sum(self._autoregress(x, steps, zeros, ones)[1], axis=1)

    def serving_log_prob(self, x):
        """The log_prob the exported signature computes: the parallel pass by default.

        The cross-entropy is written as log_softmax times a one-hot:
        SparseSoftmaxCrossEntropyWithLogits is no TFLite builtin, these are.
        The export tests check it against `log_prob`.
        """
        logits = tf.cast(self(x), tf.float32)
        picked = tf.nn.log_softmax(logits) * tf.one_hot(tf.cast(x, tf.int32), self.num_classes)
        return tf.reduce_sum(tf.reshape(picked, [tf.shape(picked)[0], -1]), axis=1)

    @property
    def metrics(self):
        return [self.nll_tracker, self.bpd_tracker]

    def _update_metrics(self, nll):
        self.nll_tracker.update_state(nll)
        self.bpd_tracker.update_state(losses.bits_per_dim(nll, self.num_positions))
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        with tf.GradientTape() as tape:
            nll = -self.log_prob(data, training=True)
            # Optimise the per-position mean so the learning rate does not depend on the example size.
            loss = losses.replica_mean(nll) / self.num_positions
            # Identity unless a LossScaleOptimizer (float16) scales it.
            loss = self.optimizer.scale_loss(loss)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(losses.dense_gradients(grads), self.trainable_variables))
        return self._update_metrics(nll)

    def per_example_metrics(self, x):
        """What evaluation averages: nats per example and bits per position."""
        nll = -self.log_prob(x)
        return {"nll": nll, self.per_position_metric: losses.bits_per_dim(nll, self.num_positions)}

    # -- sampling ---------------------------------------------------------

    def _initial_state(self, batch_size):
        """State carried from position to position; the base loop carries none."""
        return ()

    def _step_state(self, previous, state, canvas, t):
        """Logits for position t given the values before it.

        Args:
            previous: int32 [B], the value at t - 1 (unused by the base loop).
            state: what `_initial_state` returned or the last step produced.
            canvas: int32 [B, T], values before t filled in, zeros after.
            t: scalar int32 position.
        Returns:
            (logits [B, K], new state).
        """
        logits = self(tf.reshape(canvas, [-1, *self.example_shape]))
        flat = tf.reshape(logits, [-1, self.num_positions, self.num_classes])
        return tf.gather(flat, t, axis=1), state

    def _start_token(self, batch_size):
        return tf.fill([batch_size], self.num_classes)

    def _autoregress(self, x, num_known, noise, temperature, step=None, with_log_probs=True):
        """The sampling loop shared by `sample` and `complete`.

        Args:
            x: int [B, *example_shape]; positions t < num_known[b] are kept.
            num_known: int32 [B], number of leading (raster order) known positions.
            noise: float32 [B, *example_shape] uniform in [0, 1), one draw per position.
            temperature: float32 [B], > 0; logits are divided by it.
            step: the per-position function; defaults to `_step_state`.
            with_log_probs: also return the log-probabilities (samplers skip
                that work: it is a full-length buffer update per position).
        Returns:
            (x int32 [B, *example_shape], log_probs float32 [B, T] or None)
            where log_probs[b, t] is log p(x_t | x_<t) at that temperature of
            the value actually written.
        """
        step = step or self._step_state
        steps = self.num_positions
        batch = tf.shape(noise)[0]
        known = tf.reshape(tf.cast(x, tf.int32), [batch, steps])
        uniform = tf.reshape(tf.cast(noise, tf.float32), [batch, steps])
        num_known = tf.cast(num_known, tf.int32)
        inv_temp = 1.0 / tf.cast(temperature, tf.float32)[:, None]
        positions = tf.range(steps)[None, :]

        def body(t, previous, state, canvas, *log_probs):
            logits, state = step(previous, state, canvas, t)
            logits = tf.cast(logits, tf.float32) * inv_temp
            sampled = sample_categorical(logits, tf.gather(uniform, t, axis=1))
            x = tf.where(t < num_known, tf.gather(known, t, axis=1), sampled)
            # Fixed-shape buffers updated through a position mask, not
            # TensorArrays: TFLite converts this loop to a builtin WHILE (a
            # TensorArray with a dynamic batch does not convert).
            here = tf.equal(positions, t)
            canvas = tf.where(here, x[:, None], canvas)
            if log_probs:
                lp = tf.reduce_sum(tf.nn.log_softmax(logits) * tf.one_hot(x, self.num_classes), -1)
                log_probs = (tf.where(here, lp[:, None], log_probs[0]),)
            return (t + 1, x, state, canvas, *log_probs)

        initial = (
            tf.constant(0),
            self._start_token(batch),
            self._initial_state(batch),
            tf.zeros([batch, steps], tf.int32),
        )
        if with_log_probs:
            initial += (tf.zeros([batch, steps], tf.float32),)
        _, _, _, canvas, *log_probs = tf.while_loop(lambda t, *_: t < steps, body, initial)
        return tf.reshape(canvas, [batch, *self.example_shape]), (log_probs[0] if log_probs else None)

    def complete(self, x, num_known, noise, temperature):
        """Keeps the first num_known[b] positions of each example and samples the rest."""
        return self._autoregress(x, num_known, noise, temperature, with_log_probs=False)[0]

    def sample(self, noise, temperature):
        """Draws examples from scratch: noise [B, *example_shape] uniform, temperature [B]."""
        batch = tf.shape(noise)[0]
        zeros = tf.zeros([batch, *self.example_shape], tf.int32)
        return self.complete(zeros, tf.zeros([batch], tf.int32), noise, temperature)

    # The in-process samplers (tools/sample.py, training pictures, benchmarks) run the loop
    # XLA-compiled: each position is a few small ops, so an uncompiled loop spends its time
    # dispatching them. `tools/benchmark.py` measured 4-5x for the PixelRNN paper's models and
    # 10x for WaveNet, with the same samples (docs/RESULTS.md; the conformance tests check
    # equality). The exported signatures keep the plain graph, which TFLite and TF Serving run.

    def sampler(self):
        """`sample` as this model's cached XLA-compiled function: (noise, temperature) -> values."""
        return self.cached_function(self.sample, jit_compile=True)

    def completer(self):
        """`complete` as this model's cached XLA-compiled function: (x, num_known, noise, temperature) -> values."""
        return self.cached_function(self.complete, jit_compile=True)

    def sample_naive(self, noise, temperature):
        """`sample` by re-running the whole model for every position (a baseline)."""
        batch = tf.shape(noise)[0]
        zeros = tf.zeros([batch, *self.example_shape], tf.int32)
        return self._autoregress(
            zeros,
            tf.zeros([batch], tf.int32),
            noise,
            temperature,
            step=self._naive_step,
            with_log_probs=False,
        )[0]

    def _naive_step(self, previous, state, canvas, t):
        """The baseline's step: the whole model re-run on the canvas (subclasses may crop what it reads)."""
        return AutoregressiveModel._step_state(self, previous, state, canvas, t)

    # -- serving ----------------------------------------------------------

    default_signature = "sample"

    def signatures(self):
        """sample, complete and log_prob, as the export layer builds them."""
        shape, unit, out = self.example_shape, self.unit, self.output_name
        k, steps = self.num_classes, self.num_positions
        noise = TensorInput(
            "noise",
            shape,
            "float32",
            0.0,
            1.0,
            high_open=True,
            doc=f"uniform noise, one value per {unit} (inverse-CDF sampling)",
        )
        temperature = TensorInput(
            "temperature",
            (),
            "float32",
            0.0,
            None,
            low_open=True,
            doc="softmax temperature; 1 samples the model, lower is more conservative",
        )
        values = TensorInput(out, shape, "int32", 0, k - 1, doc=f"{unit} values in 0..{k - 1}")
        num_known = TensorInput(
            "num_known",
            (),
            "int32",
            0,
            steps,
            doc=f"leading {unit}s (raster order) to keep, 0..{steps}",
        )
        out_doc = f"int32 [B, {', '.join(map(str, shape))}] {unit} values"
        return [
            Signature(
                "sample",
                (noise, temperature),
                {out: out_doc},
                lambda n, t: {out: self.sample(n, t)},
                exact_outputs=(out,),
                doc=f"draw new {out}",
            ),
            Signature(
                "complete",
                (values, num_known, noise, temperature),
                {out: out_doc},
                lambda x, k_, n, t: {out: self.complete(x, k_, n, t)},
                exact_outputs=(out,),
                doc=f"keep the first num_known {unit}s, sample the rest",
            ),
            Signature(
                "log_prob",
                (values,),
                {"log_prob": "float32 [B] log-likelihood in nats per example"},
                lambda x: {"log_prob": self.serving_log_prob(x)},
                doc="exact log-likelihood",
                reference=lambda x: {"log_prob": self.log_prob(x)},
            ),
        ]

    def noise(self, num, seed):
        """Uniform noise for `sample`/`complete`, reproducible from an int seed."""
        return tf.random.stateless_uniform([num, *self.example_shape], seed=[seed, 0])


class AutoregressiveImageModel(AutoregressiveModel):
    """An autoregressive model of images: pixels in raster order, channels innermost.

    Args:
        num_classes: values a pixel channel takes (palette size, grey levels).
        image_shape: (height, width, channels).

    Subclasses implement `call(images) -> logits [B, H, W, C, num_classes]`.
    """

    output_name = "images"
    unit = "pixel"
    renamed_arguments = {"example_shape": "image_shape"}  # the base's argument, under its image name

    def __init__(self, num_classes, image_shape, **kwargs):
        super().__init__(num_classes, image_shape, **kwargs)

    @property
    def image_shape(self):
        return self.example_shape

    @property
    def num_pixels(self):
        return self.num_positions

    @classmethod
    def from_data_spec(cls, spec, **kwargs):
        return cls(num_classes=spec.num_classes, image_shape=spec.image_shape, **kwargs)

    @classmethod
    def conformance_spec(cls):
        from tfgen.data import DataSpec

        # Small, odd shapes catch code that assumes square images or a fixed size.
        return DataSpec("test", (3, 4, 1), 5, np.zeros((5, 3), np.uint8))

    def get_config(self):
        config = super().get_config()
        config["image_shape"] = config.pop("example_shape")
        return config

    def previews(self, examples, palette, num_samples=16, seed=0):
        """Pictures written by training: samples and a completion sheet.

        Returns {"samples": RGB grid, "completions": RGB sheet}; each
        completion row is: original, 50% covered, completed, 75% covered,
        completed.
        """
        from tfgen import visualize

        sample = self.sampler()  # compiled already by the monitor's grids
        complete = self.completer()
        samples = sample(self.noise(num_samples, seed), tf.ones([num_samples]))
        n = len(examples)
        rows = []
        for fraction in (0.5, 0.25):
            known = int(self.num_positions * fraction)
            completed = complete(
                tf.constant(examples, tf.int32),
                tf.fill([n], known),
                self.noise(n, seed + 1),
                tf.ones([n]),
            )
            # Known pixels are copied, never resampled: a sheet that shows a
            # changed known pixel would be a bug, so fail loudly here.
            flat_c = tf.reshape(completed, [n, -1])[:, :known]
            flat_e = tf.reshape(tf.cast(examples, tf.int32), [n, -1])[:, :known]
            tf.debugging.assert_equal(flat_c, flat_e, message="completion changed a known pixel")
            rows.append((known, completed.numpy()))
        return {
            "samples": visualize.grid(visualize.render(samples.numpy(), palette)),
            "completions": visualize.completion_sheet(examples, rows, palette),
        }

    def probe_pictures(self, palette):
        """Samples from fixed noise (seed 1234) at temperature 1, for `SampleGrids`."""
        from tfgen import visualize

        images = self.sampler()(self.noise(NUM_PROBES, PROBE_SEED), tf.ones([NUM_PROBES]))
        return {"samples": visualize.grid(visualize.render(images.numpy(), palette))}

    def generate_images(self, num, seed):
        """int32 palette indices [num, H, W, C] sampled at temperature 1, reproducible from an int seed."""
        return self.sampler()(self.noise(num, seed), tf.ones([num])).numpy()
