"""WaveNet: an autoregressive model of audio samples (van den Oord et al. 2016, arXiv:1609.03499).

Each sample of a window is a mu-law class (256 for 8-bit mu-law); the model
predicts it from every sample before it through a stack of gated residual
blocks with dilated causal convolutions, whose skip outputs are summed and
mapped to a softmax over the classes. The input at position t is an
embedding of the sample at t - 1 (a start token at t = 0), so position t never
sees itself.

Three ways to compute the same conditionals, all tested to agree:
* `call`: every position at once (training, exact likelihoods);
* `_step_state`: the fast generator, one position per step, each block
  reading its taps from a queue of its past inputs (Paine et al. 2016), so a
  sample costs one position of work per block;
* `_naive_step`: the baseline, which re-runs the whole stack over the
  receptive field for every sample (positions before the window's start
  masked to the zero padding `call` uses).
"""

import keras
import numpy as np
import tensorflow as tf

from tfgen import registry
from tfgen.layers.wavenet_block import WaveNetBlock
from tfgen.models.autoregressive import NUM_PROBES, PROBE_SEED, AutoregressiveModel
from tfgen.models.wavenet.wavenet_configs import CONFIGS


@registry.register("wavenet", configs=CONFIGS, default_dataset="speech")
class WaveNet(AutoregressiveModel):
    """WaveNet over mu-law audio windows.

    Args:
        num_classes: mu-law levels (256).
        example_shape: (window,): samples per training window.
        sample_rate: samples per second of the audio (for nats per second,
            WAV files and spectrograms).
        dilations: the dilation of each residual block, in order.
        residual_channels, dilation_channels, skip_channels: block widths.
        kernel_size: taps of each dilated convolution.
        output_channels: width of the hidden layer between the summed skips
            and the softmax.

    Example:
        >>> model = WaveNet(256, (8000,), 8000, dilations=[2**i for i in range(10)] * 2)
        >>> model.receptive_field
        2047
    """

    output_name = "audio"
    unit = "sample"
    per_position_metric = "bits_per_sample"
    # No per-epoch probe sounds: a second of audio is 8,000 sequential steps,
    # too dear to pay every epoch; training ends with sounds and spectrograms.
    monitors = ()

    def __init__(
        self,
        num_classes,
        example_shape,
        sample_rate,
        dilations=(1, 2, 4, 8),
        residual_channels=32,
        dilation_channels=32,
        skip_channels=128,
        kernel_size=2,
        output_channels=128,
        **kwargs,
    ):
        super().__init__(num_classes, example_shape, **kwargs)
        if len(self.example_shape) != 1:
            raise ValueError(f"WaveNet models 1-D windows; got example_shape {self.example_shape}")
        self.sample_rate = int(sample_rate)
        self.dilations = [int(d) for d in dilations]
        self.residual_channels = int(residual_channels)
        self.dilation_channels = int(dilation_channels)
        self.skip_channels = int(skip_channels)
        self.kernel_size = int(kernel_size)
        self.output_channels = int(output_channels)
        self.embedding = keras.layers.Embedding(self.num_classes + 1, self.residual_channels, name="embedding")
        self.blocks = [
            WaveNetBlock(
                self.residual_channels,
                self.dilation_channels,
                self.skip_channels,
                d,
                self.kernel_size,
                name=f"block_{i}",
            )
            for i, d in enumerate(self.dilations)
        ]
        self.hidden = keras.layers.Dense(self.output_channels, activation="relu", name="hidden")
        self.logits = keras.layers.Dense(self.num_classes, name="logits")
        self.nats_per_second_tracker = keras.metrics.Mean(name="nats_per_second")

    @property
    def receptive_field(self):
        """Samples the prediction of position t depends on: x_{t-R} .. x_{t-1}."""
        return 1 + sum(b.queue_length for b in self.blocks)

    @classmethod
    def from_data_spec(cls, spec, **kwargs):
        return cls(spec.num_classes, spec.example_shape, spec.sample_rate, **kwargs)

    @classmethod
    def conformance_spec(cls):
        from tfgen.data import DataSpec

        # A short odd window and few classes keep the registry-wide tests quick.
        return DataSpec("test", (13,), 7, np.zeros((0, 3), np.uint8), kind="audio", sample_rate=8000)

    def get_config(self):
        return {
            **super().get_config(),
            "sample_rate": self.sample_rate,
            "dilations": list(self.dilations),
            "residual_channels": self.residual_channels,
            "dilation_channels": self.dilation_channels,
            "skip_channels": self.skip_channels,
            "kernel_size": self.kernel_size,
            "output_channels": self.output_channels,
        }

    # -- the network --------------------------------------------------------

    def _head(self, skip_sum):
        return self.logits(self.hidden(tf.nn.relu(skip_sum)))

    def call(self, x):
        """x int [B, T] -> logits [B, T, num_classes]."""
        x = tf.cast(x, tf.int32)
        start = tf.fill([tf.shape(x)[0], 1], self.num_classes)
        h = self.embedding(tf.concat([start, x[:, :-1]], axis=1))
        skip_sum = 0.0
        for block in self.blocks:
            h, skip = block(h)
            skip_sum += skip
        return self._head(skip_sum)

    @property
    def metrics(self):
        return [*super().metrics, self.nats_per_second_tracker]

    def _update_metrics(self, nll):
        self.nats_per_second_tracker.update_state(nll / self.seconds)
        return super()._update_metrics(nll)

    @property
    def seconds(self):
        return self.num_positions / self.sample_rate

    def per_example_metrics(self, x):
        metrics = super().per_example_metrics(x)
        return {**metrics, "nats_per_second": metrics["nll"] / self.seconds}

    # -- generation ---------------------------------------------------------

    def _initial_state(self, batch_size):
        dtype = self.compute_dtype
        return tuple(tf.zeros([batch_size, b.queue_length, self.residual_channels], dtype) for b in self.blocks)

    def _step_state(self, previous, state, canvas, t):
        """The queue sampler: one position of every block, taps read from the queues."""
        h = self.embedding(previous)
        skip_sum, queues = 0.0, []
        for block, queue in zip(self.blocks, state):
            h, skip, queue = block.step(h, queue)
            skip_sum += skip
            queues.append(queue)
        return self._head(skip_sum), tuple(queues)

    def _naive_step(self, previous, state, canvas, t):
        """The whole stack over the receptive field ending at t, every step (the baseline)."""
        del previous
        r = self.receptive_field
        batch = tf.shape(canvas)[0]
        # Token at position p is x_{p-1} (the start token at p = 0); positions
        # p < 0 are masked to the zero padding that `call` sees there.
        padded = tf.concat([tf.zeros([batch, r], tf.int32), tf.fill([batch, 1], self.num_classes), canvas], axis=1)
        tokens = tf.slice(padded, [0, t + 1], [batch, r])
        valid = tf.cast(tf.range(r) >= r - 1 - t, self.compute_dtype)[None, :, None]
        h = self.embedding(tokens) * valid
        skip_sum = 0.0
        for block in self.blocks:
            h, skip = block(h)
            h *= valid
            skip_sum += skip[:, -1]
        return self._head(skip_sum), state

    # -- pictures and sound -------------------------------------------------

    def _clips(self, x):
        from tfgen import audio

        return [audio.Clip(audio.mu_law_decode(c, self.num_classes), self.sample_rate) for c in np.asarray(x)]

    def previews(self, examples, palette=None, num_samples=4, seed=0):
        """Sounds and spectrograms written by training.

        Returns {"sample_<i>": Clip, "samples": spectrograms, "completion_<i>":
        Clip (the first half of a validation window, then the model's
        continuation), "completions": spectrograms of original over completed}.
        """
        from tfgen import audio

        del palette
        num_samples = min(num_samples, 4)  # a second of audio each; a few are enough to listen to
        sample = self.sampler()
        complete = self.completer()
        drawn = sample(self.noise(num_samples, seed), tf.ones([num_samples])).numpy()
        examples = np.asarray(examples)[:num_samples]
        n = len(examples)
        known = self.num_positions // 2
        x = tf.constant(examples, tf.int32)
        completed = complete(x, tf.fill([n], known), self.noise(n, seed + 1), tf.ones([n])).numpy()
        if not np.array_equal(completed[:, :known], examples[:, :known]):
            raise AssertionError("completion changed a known sample")
        out = {f"sample_{i}": clip for i, clip in enumerate(self._clips(drawn))}
        out.update({f"completion_{i}": clip for i, clip in enumerate(self._clips(completed))})
        out["samples"] = audio.spectrogram_sheet([c.samples for c in self._clips(drawn)])
        pairs = [c.samples for pair in zip(self._clips(examples), self._clips(completed)) for c in pair]
        out["completions"] = audio.spectrogram_sheet(pairs, mark=known)
        return out

    def probe_pictures(self, palette=None):
        """Spectrograms of samples from fixed noise, for `SampleGrids`."""
        from tfgen import audio

        num = min(NUM_PROBES, 4)
        drawn = self.sampler()(self.noise(num, PROBE_SEED), tf.ones([num])).numpy()
        return {"samples": audio.spectrogram_sheet([c.samples for c in self._clips(drawn)])}

    def generate_audio(self, num, seed, temperature=1.0):
        """Clips sampled from seeded noise."""
        drawn = self.sampler()(self.noise(num, seed), tf.fill([num], float(temperature)))
        return self._clips(drawn.numpy())
