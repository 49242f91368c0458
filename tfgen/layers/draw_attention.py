"""DRAW's reading and writing: Gaussian filterbank attention, and the whole-image variants.

An N x N grid of Gaussian filters is placed over an image of height H (B in
the paper) and width W (A) by five numbers a dense layer predicts from the
decoder state (Gregor et al. 2015, section 3.2):

    (g~X, g~Y, log sigma^2, log delta~, log gamma) = Dense(h_dec)
    gX = (W + 1) / 2 * (g~X + 1)            grid centre, in pixels 1..W
    gY = (H + 1) / 2 * (g~Y + 1)
    delta = (max(H, W) - 1) / (N - 1) * exp(log delta~)      stride
    mu_X^i = gX + (i - N/2 - 1/2) * delta   filter i's centre, i = 1..N
    F_X[i, a] = exp(-(a - mu_X^i)^2 / (2 sigma^2)) / Z_X     a = 1..W

with Z_X normalising each filter to sum 1 (plus a small epsilon, so a filter
that falls entirely off the image does not divide by zero). The variance,
stride and intensity gamma are exponentials, so always positive.

    read(x)  = gamma * F_Y x F_X^T           an N x N glimpse per channel
    write(w) = 1 / gamma * F_Y^T w F_X       an N x N patch spread over H x W

Images here are channel-first, [B, D, H, W], so a glimpse is two batched
matmuls (TFLite builtins). `WholeImageRead` and `WholeImageWrite` are the
paper's no-attention model: read every pixel, write a whole-image update.

[1] Gregor, Danihelka, Graves, Rezende & Wierstra 2015, "DRAW: A Recurrent
    Neural Network For Image Generation", arXiv:1502.04623.
"""

import math

import keras
import tensorflow as tf

EPSILON = 1e-8


def initial_window(height, width, size, write=False):
    """Bias of a window layer: the first window (decoder state 0) centred, spanning the image, its
    filters one stride wide (sigma = delta) so that they overlap, and unit gain.

    With the paper's parametrisation and a zero bias, a 2 x 2 read of a
    28 x 28 digit starts with sigma = 1 filters on the border pixels, which
    are 0 in every MNIST image: the glimpse carries nothing, its gradient
    with respect to the window is 0, and the model learns to ignore its code.

    Gain: a read of normalised filters is a weighted mean of pixels (gamma =
    1 keeps their scale). A write spreads each patch value over about
    2 pi sigma^2 pixels, so with gamma = 1 a wide first window changes a
    pixel's logit by a few thousandths of the patch value and the decoder's
    code barely reaches the image; the write starts at 1/gamma = 2 pi sigma^2,
    so a patch value lands on the pixel under its filter at gain about 1.
    """
    stride = (max(height, width) - 1) / max(size - 1, 1)
    log_variance = 2.0 * math.log(max(stride, 1.0))
    log_gamma = -math.log(2.0 * math.pi) - log_variance if write else 0.0
    return [0.0, 0.0, log_variance, 0.0, log_gamma]


def window(params, height, width, size):
    """The attention window of five predicted numbers per image.

    Args:
        params: [B, 5] (g~X, g~Y, log sigma^2, log delta~, log gamma).
        height, width: of the image (H, W); size: N.
    Returns:
        dict of [B] float32 tensors: centre_x, centre_y (1-based pixels),
        stride, variance, intensity.
    """
    params = tf.cast(params, tf.float32)
    gx, gy, log_var, log_stride, log_gamma = tf.unstack(params, axis=-1)
    return {
        "centre_x": (width + 1) / 2 * (gx + 1),
        "centre_y": (height + 1) / 2 * (gy + 1),
        "stride": (max(height, width) - 1) / max(size - 1, 1) * tf.exp(log_stride),
        "variance": tf.exp(log_var),
        "intensity": tf.exp(log_gamma),
    }


def filterbank(centre, stride, variance, size, length):
    """F [B, size, length]: row i is the normalised Gaussian filter of grid point i over positions 1..length."""
    offsets = tf.range(1, size + 1, dtype=tf.float32) - size / 2 - 0.5
    mu = centre[:, None] + offsets[None, :] * stride[:, None]  # [B, N]
    positions = tf.range(1, length + 1, dtype=tf.float32)
    f = tf.exp(-tf.square(positions[None, None, :] - mu[:, :, None]) / (2 * variance[:, None, None]))
    return f / (tf.reduce_sum(f, axis=-1, keepdims=True) + EPSILON)


def filterbanks(win, size, height, width):
    """(F_Y [B, N, H], F_X [B, N, W]) of a window."""
    fy = filterbank(win["centre_y"], win["stride"], win["variance"], size, height)
    fx = filterbank(win["centre_x"], win["stride"], win["variance"], size, width)
    return fy, fx


def read_glimpse(images, fy, fx, intensity):
    """gamma * F_Y x F_X^T: images [B, D, H, W] -> glimpses [B, D, N, N]."""
    glimpse = tf.matmul(tf.matmul(fy[:, None], images), fx[:, None], transpose_b=True)
    return glimpse * intensity[:, None, None, None]


def write_patch(patches, fy, fx, intensity):
    """1/gamma * F_Y^T w F_X: patches [B, D, N, N] -> images [B, D, H, W]."""
    image = tf.matmul(tf.matmul(fy[:, None], patches, transpose_a=True), fx[:, None])
    return image / intensity[:, None, None, None]


class AttentionRead(keras.layers.Layer):
    """Reads an N x N glimpse of the image and of the error image where the decoder state points.

    Call: (images [B, D, H, W], errors [B, D, H, W], h_dec [B, U]) ->
    (glimpses [B, 2 * D * N * N], window dict).
    """

    def __init__(self, size, height, width, **kwargs):
        super().__init__(**kwargs)
        self.size, self.height, self.width = int(size), int(height), int(width)
        bias = keras.initializers.Constant(initial_window(self.height, self.width, self.size))
        self.to_window = keras.layers.Dense(5, bias_initializer=bias, name="window", dtype="float32")

    def call(self, images, errors, h_dec):
        win = window(self.to_window(tf.cast(h_dec, tf.float32)), self.height, self.width, self.size)
        fy, fx = filterbanks(win, self.size, self.height, self.width)
        both = read_glimpse(tf.concat([images, errors], axis=1), fy, fx, win["intensity"])
        return tf.reshape(both, [tf.shape(both)[0], -1]), win

    def get_config(self):
        return {**super().get_config(), "size": self.size, "height": self.height, "width": self.width}


class AttentionWrite(keras.layers.Layer):
    """Writes an N x N patch (D channels) predicted from the decoder state through its own window.

    Call: h_dec [B, U] -> (canvas update [B, D, H, W], window dict).
    """

    def __init__(self, size, height, width, channels, **kwargs):
        super().__init__(**kwargs)
        self.size, self.height, self.width, self.channels = int(size), int(height), int(width), int(channels)
        bias = keras.initializers.Constant(initial_window(self.height, self.width, self.size, write=True))
        self.to_window = keras.layers.Dense(5, bias_initializer=bias, name="window", dtype="float32")
        self.to_patch = keras.layers.Dense(self.channels * self.size * self.size, name="patch", dtype="float32")

    def call(self, h_dec):
        h = tf.cast(h_dec, tf.float32)
        win = window(self.to_window(h), self.height, self.width, self.size)
        fy, fx = filterbanks(win, self.size, self.height, self.width)
        patches = tf.reshape(self.to_patch(h), [-1, self.channels, self.size, self.size])
        return write_patch(patches, fy, fx, win["intensity"]), win

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "height": self.height,
            "width": self.width,
            "channels": self.channels,
        }


class WholeImageRead(keras.layers.Layer):
    """The no-attention read: the whole image and the whole error image, flattened."""

    def call(self, images, errors, h_dec):
        both = tf.concat([images, errors], axis=1)
        return tf.reshape(both, [tf.shape(both)[0], -1]), None


class WholeImageWrite(keras.layers.Layer):
    """The no-attention write: a dense whole-image update [B, D, H, W] from the decoder state."""

    def __init__(self, height, width, channels, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width, self.channels = int(height), int(width), int(channels)
        self.to_image = keras.layers.Dense(self.channels * self.height * self.width, name="image", dtype="float32")

    def call(self, h_dec):
        update = self.to_image(tf.cast(h_dec, tf.float32))
        return tf.reshape(update, [-1, self.channels, self.height, self.width]), None

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width, "channels": self.channels}
