"""`compiled_loop`: a differentiable XLA-compiled recurrence, built in place inside XLA-compiled functions."""

import numpy as np
import tensorflow as tf

from tfgen.layers import compiled_loop as cl


def cumulative_tanh(x, w, steps):
    """A small recurrence: h_k = tanh(x_k + h_{k-1} w), every h stacked."""

    def body(k, h, out):
        h = tf.tanh(x[k] + tf.matmul(h, w))
        return k + 1, h, out.write(k, h)

    out = tf.TensorArray(x.dtype, size=steps)
    _, _, out = tf.while_loop(lambda k, *_: k < steps, body, (0, tf.zeros_like(x[0]), out), maximum_iterations=steps)
    return out.stack()


def value_and_gradients(x, w):
    with tf.GradientTape() as tape:
        tape.watch([x, w])
        y = cl.compiled_loop(cumulative_tanh, [x, w], [x.shape[0]])
        loss = tf.reduce_sum(y * tf.range(1.0, 1.0 + y.shape[-1]))
    return [y, *tape.gradient(loss, [x, w])]


def test_only_xla_compiled_functions_count_as_xla():
    seen = {}

    def probe(name):
        seen[name] = cl.in_xla_function()
        return tf.constant(0.0)

    probe("eager")
    tf.function(lambda: probe("graph"), autograph=False)()
    tf.function(lambda: probe("xla"), jit_compile=True, autograph=False)()
    # A plain function called from an XLA-compiled one is compiled with it.
    inner = tf.function(lambda: probe("nested"), autograph=False)
    tf.function(lambda: inner(), jit_compile=True, autograph=False)()
    assert seen == {"eager": False, "graph": False, "xla": True, "nested": True}


def test_inside_xla_the_loop_is_built_in_place_with_the_same_values_and_gradients():
    """Outside XLA the loop runs as a separate compiled pair (forward, and a backward that recomputes
    the forward); inside an XLA-compiled function it is built in place and XLA differentiates it with
    the rest, which keeps the forward's values. Both give the same numbers."""
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(7, 3, 4)), tf.float32)
    w = tf.constant(rng.normal(size=(4, 4)) / 2, tf.float32)
    cl._COMPILED.clear()
    inlined = [t.numpy() for t in tf.function(value_and_gradients, jit_compile=True, autograph=False)(x, w)]
    assert not cl._COMPILED  # no separate compiled pair was made
    separate = [t.numpy() for t in tf.function(value_and_gradients, autograph=False)(x, w)]
    assert len(cl._COMPILED) == 1
    eager = [t.numpy() for t in value_and_gradients(x, w)]
    assert np.abs(separate[2]).max() > 0.1  # the gradients are not trivially zero
    for a, b, c in zip(inlined, separate, eager, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(c, b, rtol=1e-5, atol=1e-6)
