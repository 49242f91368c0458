"""Differentiable XLA-compiled recurrences for training.

A Python-unrolled recurrence (what exports to TFLite) runs its small gate
ops one by one: on this 2-core CPU a 55-step Diagonal BiLSTM layer took
0.95 s forward+backward for a batch of 32, against 0.15 s for the same loop
as one XLA-compiled `tf.while_loop` differentiated inside the compiled
function. A compiled function cannot hand its loop's TensorLists to an
outer GradientTape ("TensorList crossing the XLA/TF boundary"), so the
gradient is a second compiled function that re-runs the loop under its own
tape (recomputation: the forward loop runs twice, still far cheaper).
"""

import tensorflow as tf

_COMPILED = {}


def _compiled(loop, static):
    # One pair of compiled functions per (loop, static arguments), so tf.function
    # retraces only for new shapes, not on every call.
    key = (loop, static)
    if key not in _COMPILED:

        def run(*tensors):
            return loop(*tensors, *static)

        @tf.function(jit_compile=True, autograph=False)
        def backward(tensors, upstream):
            with tf.GradientTape() as tape:
                tape.watch(tensors)
                out = run(*tensors)
            return tape.gradient(out, tensors, output_gradients=upstream)

        _COMPILED[key] = (tf.function(run, jit_compile=True, autograph=False), backward)
    return _COMPILED[key]


def compiled_loop(loop, tensors, static=()):
    """loop(*tensors, *static) -> a tensor or a tuple of tensors, XLA-compiled, differentiable w.r.t. `tensors`.

    Args:
        loop: a module-level function building a `tf.while_loop` (with
            maximum_iterations set, as XLA requires).
        tensors: its tensor arguments.
        static: hashable Python arguments (sizes), passed after the tensors.
    """
    forward, backward = _compiled(loop, tuple(static))

    @tf.custom_gradient
    def run(*tensors):
        # stop_gradient: the outer tape must not trace into the compiled loop.
        out = forward(*[tf.stop_gradient(t) for t in tensors])
        flat = tf.nest.flatten(out)

        def grad(*upstream):
            # An output the caller does not use (the last run's final state) comes as None, which
            # tape.gradient would read as ones: it must contribute zeros.
            upstream = [tf.zeros_like(o) if u is None else tf.cast(u, o.dtype) for o, u in zip(flat, upstream)]
            return backward(list(tensors), upstream)

        return out, grad

    return run(*tensors)
