"""Encoders (index images -> features) and decoders (codes -> pixel logits).

Shared by the autoencoder and the VAE, so the two differ only in what sits
between them (a code, or a Gaussian over codes). Two architectures:

* "mlp": fully connected layers over the flattened image, as in the classic
  deep autoencoder (784-1000-500-250-30, Hinton & Salakhutdinov 2006).
* "conv": stride-2 3x3 convolutions down, transposed convolutions up. The
  decoder works at ceil(H / 2^n) and crops, so any image size works.

Pixels are class indices. With two values (binary images) the encoder reads
the value itself and the decoder gives one Bernoulli logit per pixel; with
more (grey levels, palette indices) the encoder embeds each index (palette
order carries no meaning, so a learned embedding, not the raw number) and the
decoder gives one logit per value.
"""

import math

import keras
import tensorflow as tf

ARCHITECTURES = ("mlp", "conv")


def logits_per_pixel(num_classes):
    """1 for binary images (a Bernoulli logit), else one logit per value."""
    return 1 if num_classes == 2 else num_classes


class ImageEncoder(keras.layers.Layer):
    """Index images [B, H, W, C] -> features [B, F].

    Args:
        image_shape: (H, W, C).
        num_classes: values a pixel channel takes.
        architecture: "mlp" or "conv".
        hidden_units: dense layers after the input (mlp) or after the convs (conv).
        conv_channels: channels of the stride-2 convolutions (conv only).
        embed_dim: size of the learned embedding of a pixel value (num_classes > 2).
        activation: of every hidden layer.
    """

    def __init__(
        self,
        image_shape,
        num_classes,
        architecture="conv",
        hidden_units=(256,),
        conv_channels=(32, 64),
        embed_dim=8,
        activation="elu",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if architecture not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {architecture!r}; choose one of {ARCHITECTURES}")
        self.image_shape = tuple(int(d) for d in image_shape)
        self.num_classes = int(num_classes)
        self.architecture = architecture
        self.embedding = None
        if self.num_classes > 2:
            self.embedding = keras.layers.Embedding(self.num_classes, embed_dim, name="pixel_embedding")
        self.convs = []
        if architecture == "conv":
            self.convs = [
                keras.layers.Conv2D(c, 3, strides=2, padding="same", activation=activation, name=f"conv_{i}")
                for i, c in enumerate(conv_channels)
            ]
        self.flatten = keras.layers.Flatten()
        self.dense = [
            keras.layers.Dense(u, activation=activation, name=f"dense_{i}") for i, u in enumerate(hidden_units)
        ]

    def call(self, images, training=False):
        h, w, c = self.image_shape
        if self.embedding is None:
            x = tf.cast(images, self.compute_dtype)
        else:
            # [B, H, W, C, E] -> [B, H, W, C * E]: each channel's value embedded.
            x = self.embedding(tf.cast(images, tf.int32))
            x = tf.reshape(x, [-1, h, w, c * self.embedding.output_dim])
        for conv in self.convs:
            x = conv(x)
        x = self.flatten(x)
        for dense in self.dense:
            x = dense(x)
        return x


class ImageDecoder(keras.layers.Layer):
    """Codes [B, D] -> pixel logits [B, H, W, C, L], L = logits_per_pixel(num_classes).

    Args: as ImageEncoder; the layers mirror the encoder's (hidden_units and
        conv_channels are given in encoder order and reversed here).
    """

    def __init__(
        self,
        image_shape,
        num_classes,
        architecture="conv",
        hidden_units=(256,),
        conv_channels=(32, 64),
        activation="elu",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if architecture not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {architecture!r}; choose one of {ARCHITECTURES}")
        self.image_shape = tuple(int(d) for d in image_shape)
        self.num_classes = int(num_classes)
        self.architecture = architecture
        self.out_per_pixel = logits_per_pixel(self.num_classes)
        h, w, c = self.image_shape
        self.dense = [
            keras.layers.Dense(u, activation=activation, name=f"dense_{i}")
            for i, u in enumerate(reversed(tuple(hidden_units)))
        ]
        self.deconvs = []
        if architecture == "mlp":
            self.to_pixels = keras.layers.Dense(h * w * c * self.out_per_pixel, name="logits")
            return
        channels = tuple(conv_channels)
        scale = 2 ** len(channels)
        self.start_shape = (math.ceil(h / scale), math.ceil(w / scale), channels[-1])
        self.to_grid = keras.layers.Dense(math.prod(self.start_shape), activation=activation, name="to_grid")
        self.deconvs = [
            keras.layers.Conv2DTranspose(ch, 3, strides=2, padding="same", activation=activation, name=f"deconv_{i}")
            for i, ch in enumerate(reversed(channels[:-1]))
        ]
        self.to_pixels = keras.layers.Conv2DTranspose(
            c * self.out_per_pixel, 3, strides=2, padding="same", name="logits"
        )

    def call(self, codes, training=False):
        h, w, c = self.image_shape
        x = codes
        for dense in self.dense:
            x = dense(x)
        if self.architecture == "conv":
            x = tf.reshape(self.to_grid(x), [-1, *self.start_shape])
            for deconv in self.deconvs:
                x = deconv(x)
            # The upsampled grid may be larger than the image (odd sizes): crop.
            x = self.to_pixels(x)[:, :h, :w, :]
        else:
            x = self.to_pixels(x)
        return tf.reshape(x, [-1, h, w, c, self.out_per_pixel])
