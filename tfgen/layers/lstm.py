"""An LSTM layer with a hand-written backward pass, and its one-step cell.

Why not `keras.layers.LSTM`: on CPU it runs a generic while loop whose
autodiff re-derives every gate per step and computes the recurrent weight
gradient one small matmul at a time. Here the forward loop stores exactly what
the backward pass needs (gate derivatives premultiplied), the backward loop
does one [B, 4H] x [4H, H] matmul per step, and the recurrent-kernel gradient
is one large [H, T*B] x [T*B, 4H] matmul after the loop, like cuDNN. Both
loops are XLA-compiled on their own, so the speed does not depend on whether
the surrounding train step is. Measured on the 2-core CPU (T=400, B=64,
H=512): about 2x a `keras.layers.LSTM` model (see tools/benchmark.py).

The input projection is not part of this layer: callers pass precomputed
input gates [B, T, 4H] (for one-hot inputs this is just an embedding gather).
"""

import dataclasses

import keras
import tensorflow as tf


def one_sigmoid_gates(z):
    """The activated gates (i, f, g, o) from pre-activations z [..., 4H] (i, f, g, o order).

    One sigmoid over the full width, with tanh(g) = 2 sigmoid(2g) - 1, instead
    of four slices activated one by one: the same values to float32 rounding,
    and on the 2-core CPU faster (pixelrnn's XLA-compiled train step
    1.10x; see docs/RESULTS.md).
    """
    units = z.shape[-1] // 4
    scale = tf.constant([1.0] * (2 * units) + [2.0] * units + [1.0] * units, z.dtype)
    i, f, g, o = tf.split(tf.sigmoid(z * scale), 4, axis=-1)
    return i, f, 2 * g - 1, o


def _gates(z, c):
    i, f, g, o = one_sigmoid_gates(z)
    c_new = f * c + i * g
    return i, f, g, o, c_new


def lstm_step(input_gates, h, c, recurrent_kernel):
    """One LSTM step: (input_gates [B,4H], h, c) -> (h, c). Builtin ops only."""
    z = input_gates + tf.matmul(h, recurrent_kernel)
    _, _, _, o, c_new = _gates(z, c)
    return o * tf.tanh(c_new), c_new


@dataclasses.dataclass(frozen=True)
class DenseRecurrence:
    """How h_{t-1} enters step t: the plain LSTM's h_{t-1} U.

    `lstm_sequence` runs any recurrence whose state-to-state part is one
    matmul of a linear rearrangement of h with the kernel: `inputs(h)` maps
    states [..., H] to the matmul's rows [N, in] and `inputs_transpose` is
    its adjoint (the Row LSTM's 1-D convolution over the row above is the
    other one: `tfgen.layers.row_lstm.RowWindow`). Frozen, so that it is
    part of the compiled loops' cache key.
    """

    def inputs(self, h):
        return tf.reshape(h, [-1, h.shape[-1]])

    def inputs_transpose(self, rows, like):
        """rows [N, in] -> the gradient of `inputs` w.r.t. a state shaped like `like`."""
        out = tf.reshape(rows, tf.shape(like))
        out.set_shape(like.shape)
        return out


@tf.function(jit_compile=True, autograph=False)
def _forward(xg, u, recurrence):
    # xg: time-major input gates [T, B, ..., 4H] (bias included); u: [in, 4H].
    steps, units = xg.shape[0], xg.shape[-1] // 4
    zeros = tf.zeros_like(xg[0][..., :units])

    def body(t, h, c, hs, ps, pcs, fs):
        z = xg[t] + tf.reshape(tf.matmul(recurrence.inputs(h), u), tf.shape(xg[t]))
        i, f, g, o, c_new = _gates(z, c)
        tc = tf.tanh(c_new)
        # d c_t/d preactivations of (i, f, g) and d h_t/d preactivation of o,
        # saved so the backward loop is two multiplies and a matmul per step.
        p = tf.concat([g * i * (1 - i), c * f * (1 - f), i * (1 - g * g), tc * o * (1 - o)], -1)
        return (
            t + 1,
            o * tc,
            c_new,
            hs.write(t, o * tc),
            ps.write(t, p),
            pcs.write(t, o * (1 - tc * tc)),
            fs.write(t, f),
        )

    arrays = [tf.TensorArray(xg.dtype, size=steps) for _ in range(4)]
    _, _, _, hs, ps, pcs, fs = tf.while_loop(
        lambda t, *_: t < steps, body, (0, zeros, zeros, *arrays), maximum_iterations=steps
    )
    return hs.stack(), ps.stack(), pcs.stack(), fs.stack()


@tf.function(jit_compile=True, autograph=False)
def _backward(dhs, hs, ps, pcs, fs, u, recurrence):
    steps, units = hs.shape[0], hs.shape[-1]
    zeros = tf.zeros_like(hs[0])

    def body(t, dh, dc, dz):
        dht = dh + dhs[t]
        dct = dc + dht * pcs[t]
        dzt = tf.concat([dct, dct, dct, dht], -1) * ps[t]
        d_inputs = tf.matmul(tf.reshape(dzt, [-1, 4 * units]), u, transpose_b=True)
        return t - 1, recurrence.inputs_transpose(d_inputs, dh), dct * fs[t], dz.write(t, dzt)

    _, _, _, dz = tf.while_loop(
        lambda t, *_: t >= 0,
        body,
        (steps - 1, zeros, zeros, tf.TensorArray(hs.dtype, size=steps)),
        maximum_iterations=steps,
    )
    dz = dz.stack()
    h_prev = tf.concat([tf.zeros_like(hs[:1]), hs[:-1]], 0)
    du = tf.matmul(recurrence.inputs(h_prev), tf.reshape(dz, [-1, 4 * units]), transpose_a=True)
    return dz, du


def lstm_sequence(xg, u, recurrence=DenseRecurrence()):
    """Runs an LSTM from a zero state over time-major input gates [T, B, ..., 4H].

    Returns the hidden states [T, B, ..., H]; differentiable w.r.t. xg and u.
    `recurrence`: how the previous state meets the kernel u (`DenseRecurrence`).
    """

    @tf.custom_gradient
    def run(xg, u):
        # stop_gradient: the tape must not trace through the compiled loop (XLA
        # cannot build autodiff accumulators for it); `grad` below replaces it.
        hs, ps, pcs, fs = _forward(tf.stop_gradient(xg), tf.stop_gradient(u), recurrence)

        def grad(dhs):
            return _backward(tf.cast(dhs, hs.dtype), hs, ps, pcs, fs, u, recurrence)

        return hs, grad

    return run(xg, u)


class SequenceLSTM(keras.layers.Layer):
    """LSTM over precomputed input gates, with a fast hand-written gradient.

    Args:
        units: hidden size H.

    Inputs: input gates [B, T, 4H] (i, f, g, o order, without the bias), or
        [T, B, 4H] with `time_major=True`, which saves two transposes of the
        largest tensors in the model.
    Outputs: hidden states [B, T, H] (or [T, B, H]) from a zero initial state.

    Example:
        >>> lstm = SequenceLSTM(32)
        >>> h = lstm(tf.zeros([2, 10, 128]))  # [2, 10, 32]
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        h = self.units
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(h, 4 * h), initializer="orthogonal")
        # Forget-gate bias of 1 (Jozefowicz et al. 2015) so early gradients flow.
        self.bias = self.add_weight(
            name="bias",
            shape=(4 * h,),
            initializer=lambda shape, dtype: tf.concat([tf.zeros([h]), tf.ones([h]), tf.zeros([2 * h])], 0),
        )

    def call(self, input_gates, time_major=False):
        dtype = self.compute_dtype
        xg = tf.cast(input_gates, dtype)
        if not time_major:
            xg = tf.transpose(xg, [1, 0, 2])
        hs = lstm_sequence(xg + tf.cast(self.bias, dtype), tf.cast(self.recurrent_kernel, dtype))
        return hs if time_major else tf.transpose(hs, [1, 0, 2])

    def step(self, input_gates, state):
        """One step for samplers: (input_gates [B, 4H], (h, c)) -> (h, (h, c))."""
        h, c = state
        dtype = self.compute_dtype
        xg = tf.cast(input_gates, dtype) + tf.cast(self.bias, dtype)
        h, c = lstm_step(xg, h, c, tf.cast(self.recurrent_kernel, dtype))
        return h, (h, c)

    def zero_state(self, batch_size):
        z = tf.zeros([batch_size, self.units], self.compute_dtype)
        return (z, z)

    def get_config(self):
        return {**super().get_config(), "units": self.units}
