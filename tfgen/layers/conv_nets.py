"""Convolutional encoder and generator networks shared by the GAN family and
the energy model.

Both work for any image size, including odd and non-square ones: the
encoder's strided convolutions pad to "same", and the generator upsamples from
a base grid of ceil(H / 2^n) x ceil(W / 2^n) and crops the centre.

[1] Radford, Metz, Chintala 2016, "Unsupervised Representation Learning with
    Deep Convolutional Generative Adversarial Networks", arXiv:1511.06434.
[2] Miyato, Kataoka, Koyama, Yoshida 2018, "Spectral Normalization for
    Generative Adversarial Networks", arXiv:1802.05957.
[3] Karras, Aila, Laine, Lehtinen 2018, "Progressive Growing of GANs for
    Improved Quality, Stability, and Variation", arXiv:1710.10196
    (minibatch standard deviation).
"""

import math

import keras
import tensorflow as tf

NORMS = ("layer", "batch", "none")


def leaky_relu(x, alpha=0.2):
    # max(x, a x) rather than tf.nn.leaky_relu: its gradient is built from
    # builtin ops (a select), so a model that differentiates its network
    # inside an exported function (Langevin sampling) still converts to TFLite
    # without the LeakyReluGrad op, which TFLite lacks.
    return tf.maximum(x, alpha * x)


def spectral_estimate(kernel, u):
    """One power iteration [2]: (sigma, new u) for the kernel as a matrix [fan_in, out].

    u [out] is the running estimate of the top right-singular vector (a
    weight carried from step to step, so one iteration per step suffices).
    u and v are held constant in the gradient, as in [2]: the gradient flows
    through sigma = v^T W u only via W.
    """
    w = tf.reshape(kernel, [-1, kernel.shape[-1]])
    u = tf.cast(u, w.dtype)
    v = tf.math.l2_normalize(tf.linalg.matvec(w, u))
    new_u = tf.math.l2_normalize(tf.linalg.matvec(w, v, transpose_a=True))
    v, new_u = tf.stop_gradient(v), tf.stop_gradient(new_u)
    return tf.tensordot(v, tf.linalg.matvec(w, new_u), 1), new_u


def minibatch_stddev(x, group_size):
    """x [B, H, W, C] with one more channel: the standard deviation across each group of examples [3].

    Groups are `group_size` consecutive examples (so a batch split into
    replicas of multiples of `group_size` groups alike); for each group the
    per-feature standard deviation over its examples, averaged over every
    feature and position, is appended as a constant channel to each of its
    examples. A batch that does not split into groups is one group. A
    discriminator can then see a batch of identical fakes.
    """
    batch = tf.shape(x)[0]
    group = tf.where(tf.equal(batch % group_size, 0), group_size, batch)
    y = tf.reshape(x, tf.concat([[-1, group], tf.shape(x)[1:]], 0))  # [M, G, H, W, C]
    variance = tf.reduce_mean(tf.square(y - tf.reduce_mean(y, axis=1, keepdims=True)), axis=1)
    deviation = tf.reduce_mean(tf.sqrt(variance + 1e-8), axis=[1, 2, 3])  # [M]
    per_example = tf.repeat(deviation, group)  # [B]
    return tf.concat([x, tf.ones_like(x[..., :1]) * per_example[:, None, None, None]], axis=-1)


def _norm(kind, name):
    if kind == "layer":
        # Per position over channels: batch-independent, so training and
        # inference compute the same function and nothing but gradients
        # changes a network's weights.
        return keras.layers.LayerNormalization(axis=-1, name=name)
    if kind == "batch":
        return keras.layers.BatchNormalization(name=name)
    if kind == "none":
        return None
    raise ValueError(f"unknown normalization {kind!r}; choose one of {NORMS}")


class ConvEncoder(keras.layers.Layer):
    """Strided 2-D convolutions with leaky ReLUs, then a dense layer.

    A GAN's discriminator (out_dim=1), an energy function (out_dim=1), or
    GRAN's canvas encoder.

    Args:
        channels: filters of each stride-2 convolution. Defaults to (64, 128).
        out_dim: size of the output vector. Defaults to 1.
        kernel_size: convolution kernel size. Defaults to 4.
        dropout: dropout rate after each convolution (training only).
        norm: "none" (default), "layer" or "batch" after each convolution
            but the first. Keep "none" with a gradient penalty: it is defined
            per example.
        out_activation: None or "tanh".
        spectral_norm: divide every kernel by its largest singular value,
            estimated by one power iteration per training call [2]. Each
            layer is then at most 1-Lipschitz (leaky ReLU is too), a cheap
            constraint on a discriminator that needs no penalty term.
        minibatch_stddev: 0 (default, off) or a group size G: before the
            output layer, each example gets a channel holding the diversity
            of its group of G examples (`minibatch_stddev`) [3]. The output
            then depends on the other examples of the group.
    """

    def __init__(
        self,
        channels=(64, 128),
        out_dim=1,
        kernel_size=4,
        dropout=0.0,
        norm="none",
        out_activation=None,
        spectral_norm=False,
        minibatch_stddev=0,
        **kw,
    ):
        super().__init__(**kw)
        self.spectral_norm = bool(spectral_norm)
        self.minibatch_stddev = int(minibatch_stddev)
        self.channels = tuple(int(c) for c in channels)
        self.out_dim = int(out_dim)
        self.convs = [
            keras.layers.Conv2D(c, kernel_size, strides=2, padding="same", name=f"conv_{i}")
            for i, c in enumerate(self.channels)
        ]
        self.norms = [_norm(norm, f"norm_{i}") if i else None for i in range(len(self.channels))]
        self.dropout = keras.layers.Dropout(dropout) if dropout else None
        self.out = keras.layers.Dense(self.out_dim, activation=out_activation, name="out")

    def build(self, input_shape):
        shape = tuple(input_shape)
        for conv, norm in zip(self.convs, self.norms):
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
            if norm is not None:
                norm.build(shape)
        if self.minibatch_stddev:
            shape = (*shape[:-1], shape[-1] + 1)
        self.flat_dim = int(math.prod(shape[1:]))
        self.out.build((None, self.flat_dim))
        self.singular_vectors = []
        if self.spectral_norm:
            # Started from a random unit vector (seeded by the global Keras seed), like [2].
            # ONLY_FIRST_REPLICA: every replica computes the same update from the same kernel.
            for layer in (*self.convs, self.out):
                out = layer.kernel.shape[-1]
                self.singular_vectors.append(
                    self.add_weight(
                        shape=(out,),
                        initializer=keras.initializers.RandomNormal(stddev=1.0 / math.sqrt(out)),
                        trainable=False,
                        aggregation="only_first_replica",
                        name=f"{layer.name}_singular_vector",
                    )
                )
        self.built = True

    def _kernel(self, index, layer, training):
        """The layer's kernel, divided by its spectral norm when spectral_norm is on."""
        if not self.spectral_norm:
            return layer.kernel
        u = self.singular_vectors[index]
        sigma, new_u = spectral_estimate(tf.convert_to_tensor(layer.kernel), u.value)
        if training:
            u.assign(tf.cast(new_u, u.dtype))
        return layer.kernel / sigma

    def _conv(self, index, conv, x, training):
        if not self.spectral_norm:
            return conv(x)
        kernel = tf.cast(self._kernel(index, conv, training), x.dtype)
        return tf.nn.conv2d(x, kernel, conv.strides, "SAME") + tf.cast(conv.bias, x.dtype)

    def call(self, x, training=False):
        for index, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            x = self._conv(index, conv, x, training)
            if norm is not None:
                x = norm(x, training=training)
            x = leaky_relu(x)
            if self.dropout is not None:
                x = self.dropout(x, training=training)
        if self.minibatch_stddev:
            x = minibatch_stddev(x, self.minibatch_stddev)
        x = tf.reshape(x, [-1, self.flat_dim])
        if not self.spectral_norm:
            return self.out(x)
        kernel = tf.cast(self._kernel(len(self.convs), self.out, training), x.dtype)
        x = tf.matmul(x, kernel) + tf.cast(self.out.bias, x.dtype)
        return self.out.activation(x)

    def input_gradient(self, x):
        """d(sum over the batch of out[:, 0]) / dx, by a hand-written backward pass.

        The same number as a GradientTape (tested), but built from ops that
        TFLite has as builtins: a taped gradient with a dynamic batch brings
        BroadcastGradientArgs and StridedSliceGrad, which need Flex ops. The
        backward pass of a stride-2 "same" convolution is its transposed
        convolution with the same kernel (TRANSPOSE_CONV).
        """
        if (
            any(n is not None for n in self.norms)
            or self.dropout is not None
            or self.spectral_norm
            or self.minibatch_stddev
            or self.out.activation.__name__ != "linear"
        ):
            raise ValueError(
                "input_gradient supports encoders without normalization, spectral normalization, minibatch "
                "deviation, dropout or output activation"
            )
        inputs, pre = [], []
        for conv in self.convs:
            inputs.append(x)
            a = conv(x)
            pre.append(a)
            x = leaky_relu(a)
        g = tf.reshape(tf.cast(self.out.kernel[:, 0], x.dtype), [1, *x.shape[1:]])
        for conv, a, inp in zip(reversed(self.convs), reversed(pre), reversed(inputs)):
            g = tf.where(a > 0, g, 0.2 * g)  # leaky_relu's slope; broadcasts g over the batch
            g = tf.nn.conv2d_transpose(
                g, tf.cast(conv.kernel, g.dtype), output_shape=tf.shape(inp), strides=conv.strides, padding="SAME"
            )
        return g


class ConvGenerator(keras.layers.Layer):
    """Dense projection to a small grid, then stride-2 transposed convolutions.

    Returns pre-activation images (the caller squashes them, or GRAN sums
    them as canvas updates).

    Args:
        image_shape: (height, width, channels) of the output.
        channels: filters of the base grid and of each hidden upsampling
            layer; the number of upsamplings is len(channels). Defaults to
            (128, 64): base grid of H/4 x W/4 with 128 channels.
        kernel_size: transposed-convolution kernel size. Defaults to 4.
        norm: "layer" (default), "batch" or "none" after each hidden layer.
    """

    def __init__(self, image_shape, channels=(128, 64), kernel_size=4, norm="layer", **kw):
        super().__init__(**kw)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.channels = tuple(int(c) for c in channels)
        h, w, c = self.image_shape
        scale = 2 ** len(self.channels)
        self.base = (math.ceil(h / scale), math.ceil(w / scale))
        self.full = (self.base[0] * scale, self.base[1] * scale)
        self.project = keras.layers.Dense(self.base[0] * self.base[1] * self.channels[0], name="project")
        self.ups = [
            keras.layers.Conv2DTranspose(ch, kernel_size, strides=2, padding="same", name=f"up_{i}")
            for i, ch in enumerate((*self.channels[1:], c))
        ]
        self.norms = [_norm(norm, f"norm_{i}") for i in range(len(self.channels))]

    def build(self, input_shape):
        self.project.build(tuple(input_shape))
        shape = (None, *self.base, self.channels[0])
        for i, up in enumerate(self.ups):
            if self.norms[i] is not None:
                self.norms[i].build(shape)
            up.build(shape)
            shape = up.compute_output_shape(shape)
        self.built = True

    def call(self, z, training=False):
        x = tf.reshape(self.project(z), [-1, *self.base, self.channels[0]])
        for norm, up in zip(self.norms, self.ups):
            if norm is not None:
                x = norm(x, training=training)
            x = up(tf.nn.relu(x))
        h, w, _ = self.image_shape
        top, left = (self.full[0] - h) // 2, (self.full[1] - w) // 2
        return x[:, top : top + h, left : left + w, :]
