"""Differentiable XLA-compiled recurrences for training.

A Python-unrolled recurrence (what exports to TFLite) runs its small gate
ops one by one: on this 2-core CPU a 55-step Diagonal BiLSTM layer took
0.95 s forward+backward for a batch of 32, against 0.15 s for the same loop
as one XLA-compiled `tf.while_loop` differentiated inside the compiled
function. A compiled function cannot hand its loop's TensorLists to an
outer GradientTape ("TensorList crossing the XLA/TF boundary"), so the
gradient is a second compiled function that re-runs the loop under its own
tape (recomputation: the forward loop runs twice, still far cheaper).

Inside a function that is XLA-compiled already (a config's `jit_compile`
train step) there is no such boundary: the loop is built in place and XLA
differentiates it with the rest of the step, keeping the forward's values
instead of recomputing them. On the 2-core CPU that made the Diagonal
BiLSTM's train step about 1.18x faster, with bit-identical weights after two
steps (docs/RESULTS.md). (The Row LSTM, which used this too, now has a
hand-written gradient of its own: `tfgen.layers.row_lstm.rows_sequence`.)
"""

import tensorflow as tf
from tensorflow.python.ops import control_flow_util

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


def in_xla_function():
    """Whether the code being traced is part of an XLA-compiled function (`tf.function(jit_compile=True)`).

    TensorFlow marks the graphs it traces for `jit_compile` with an XLA
    control-flow context, and tells them apart by this same check when it
    decides whether a nested function needs compiling of its own. It is not
    public API: `tests/layers/test_compiled_loop.py` fails if it stops working.
    """
    return control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())


def compiled_loop(loop, tensors, static=()):
    """loop(*tensors, *static) -> a tensor or a tuple of tensors, XLA-compiled, differentiable w.r.t. `tensors`.

    Inside an XLA-compiled function the loop is built in place (compiled and
    differentiated with the rest of that function); elsewhere it runs as its
    own compiled pair, forward and recomputing backward.

    Args:
        loop: a module-level function building a `tf.while_loop` (with
            maximum_iterations set, as XLA requires).
        tensors: its tensor arguments.
        static: hashable Python arguments (sizes), passed after the tensors.
    """
    if in_xla_function():
        return loop(*tensors, *static)
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
