"""WaveNet's residual block (van den Oord et al. 2016, arXiv:1609.03499), run two ways.

`call` runs a whole sequence at once: a causal dilated convolution (the input
is padded on the left, so position t sees t, t - d, ..., t - (k - 1) d), the
gated unit tanh(a) * sigmoid(b), and one 1x1 projection that gives both the
residual update and the skip output. The convolution is written as its k
shifted copies of the input, each multiplied by its tap of the kernel and
summed, not as a dilated `conv1d`: TensorFlow's own CPU convolution (used
wherever oneDNN is off, its default on x86 CPUs without AVX-512) has no
gradient for a dilation above 1, and this form is the one `step` uses.

`step` runs one position given a queue of the block's last (k - 1) d inputs
(Paine et al. 2016, "Fast WaveNet Generation", arXiv:1611.09482): the
convolution's taps are read from the queue instead of being recomputed, so a
new sample costs one position of work per block, whatever the receptive
field. The queue starts at zeros, which is exactly the left padding of `call`,
so both give the same numbers (tested).
"""

import functools

import keras
import tensorflow as tf


class WaveNetBlock(keras.layers.Layer):
    """Gated residual block with a dilated causal convolution.

    Args:
        residual_channels: channels of the residual stream (input and output).
        dilation_channels: channels of each half of the gated unit.
        skip_channels: channels of the skip output.
        dilation: the convolution's dilation d.
        kernel_size: the convolution's taps k (2 in the paper).
    """

    def __init__(self, residual_channels, dilation_channels, skip_channels, dilation, kernel_size=2, **kwargs):
        super().__init__(**kwargs)
        self.residual_channels = int(residual_channels)
        self.dilation_channels = int(dilation_channels)
        self.skip_channels = int(skip_channels)
        self.dilation = int(dilation)
        self.kernel_size = int(kernel_size)
        if self.dilation < 1 or self.kernel_size < 2:
            raise ValueError(f"dilation must be >= 1 and kernel_size >= 2, got {self.dilation}, {self.kernel_size}")

    @property
    def queue_length(self):
        """Past inputs the block reads: (k - 1) d."""
        return (self.kernel_size - 1) * self.dilation

    def build(self, input_shape=None):
        r, d, s, k = self.residual_channels, self.dilation_channels, self.skip_channels, self.kernel_size
        init = keras.initializers.GlorotUniform()
        self.conv_kernel = self.add_weight(name="conv_kernel", shape=(k, r, 2 * d), initializer=init)
        self.conv_bias = self.add_weight(name="conv_bias", shape=(2 * d,), initializer="zeros")
        self.out_kernel = self.add_weight(name="out_kernel", shape=(d, r + s), initializer=init)
        self.out_bias = self.add_weight(name="out_bias", shape=(r + s,), initializer="zeros")

    def _gate_and_project(self, z, h):
        d, r = self.dilation_channels, self.residual_channels
        gated = tf.tanh(z[..., :d]) * tf.sigmoid(z[..., d:])
        out = tf.tensordot(gated, tf.cast(self.out_kernel, z.dtype), axes=1) + tf.cast(self.out_bias, z.dtype)
        return h + out[..., :r], out[..., r:]

    def _conv(self, taps):
        """The convolution at positions whose k taps (oldest first) are `taps` [B, T, R] or [B, R] each."""
        kernel = tf.cast(self.conv_kernel, taps[0].dtype)
        # One position (`step`) takes a plain matmul. `tensordot` builds its reshapes from the batch size at
        # run time; inside the sampler's while loop that made a fresh LiteRT 2.3 interpreter's first
        # invocation draw other samples than its later ones, at random (cause inside the runtime unknown).
        product = tf.matmul if taps[0].shape.rank == 2 else functools.partial(tf.tensordot, axes=1)
        z = tf.add_n([product(tap, kernel[j]) for j, tap in enumerate(taps)])
        return z + tf.cast(self.conv_bias, taps[0].dtype)

    def call(self, h):
        """h: [B, T, residual_channels] -> (new h [B, T, R], skip [B, T, skip_channels])."""
        steps = h.shape[1] if h.shape[1] is not None else tf.shape(h)[1]  # static where known
        padded = tf.pad(h, [[0, 0], [self.queue_length, 0], [0, 0]])
        # Tap j reads position t - (k - 1 - j) d, i.e. padded index t + j d.
        taps = [padded[:, j * self.dilation : j * self.dilation + steps] for j in range(self.kernel_size - 1)] + [h]
        return self._gate_and_project(self._conv(taps), h)

    def step(self, h, queue):
        """One position.

        Args:
            h: [B, R], this block's input at position t.
            queue: [B, (k - 1) d, R], its inputs at t - (k - 1) d .. t - 1.
        Returns:
            (new h [B, R], skip [B, S], the queue for t + 1).
        """
        d = self.dilation
        # Tap j of the kernel reads position t - (k - 1 - j) d: queue index j d, or h itself for the last tap.
        taps = [queue[:, j * d] for j in range(self.kernel_size - 1)] + [h]
        h_new, skip = self._gate_and_project(self._conv(taps), h)
        return h_new, skip, tf.concat([queue[:, 1:], h[:, None]], axis=1)

    def get_config(self):
        return {
            **super().get_config(),
            "residual_channels": self.residual_channels,
            "dilation_channels": self.dilation_channels,
            "skip_channels": self.skip_channels,
            "dilation": self.dilation,
            "kernel_size": self.kernel_size,
        }
