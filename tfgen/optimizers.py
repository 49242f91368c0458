"""Adam and AdamW whose update is TensorFlow's fused `ResourceApplyAdam` kernel.

Keras 3's Adam builds each variable's update from about 30 small ops (casts,
powers of the betas, the moment updates, the step), so in a small model the
optimizer is most of the train step's graph: 315 of a tiny PixelRNN's 576
ops, 665 of a tiny VAE's 1,065. Tracing time grows with the op count, and
each op costs a dispatch per step. These classes compute the step's scalars
once per update (per dtype) and give each variable one `ResourceApplyAdam`,
the kernel TensorFlow's own Adam used, which implements the same formula:

    m += (g - m) (1 - beta_1);  v += (g^2 - v) (1 - beta_2)
    var -= m * lr sqrt(1 - beta_2^t) / (1 - beta_1^t) / (sqrt(v) + epsilon)

They subclass Keras's `Adam` and `AdamW`: the same arguments, slot variables
and checkpoints, and everything before the update (gradient clipping, AdamW's
weight decay, loss scaling, distribution) is Keras's. AMSGrad and sparse
gradients fall back to Keras's update. Tested against Keras's steps in
tests/test_optimizers.py.
"""

import keras
import tensorflow as tf


class _FusedAdamUpdate:
    """Mixin over a Keras Adam: the per-variable update as one ResourceApplyAdam."""

    _step_scalars = None  # {dtype: scalars} during one update, shared by its variables

    def _distributed_tf_update_step(self, distribution, grads_and_vars, learning_rate):
        # Keras's loop over the variables: once per update (in cross-replica context under the strategies
        # tfgen uses; once per replica where Keras skips the merge). Without this hook (another Keras
        # version) each variable computes its own scalars: the same update, more ops.
        self._set_step_scalars({})
        try:
            super()._distributed_tf_update_step(distribution, grads_and_vars, learning_rate)
        finally:
            self._set_step_scalars(None)

    def _set_step_scalars(self, value):
        # A plain attribute: a dict set the usual way on an optimizer becomes a checkpoint dependency.
        object.__setattr__(self, "_step_scalars", value)

    def _scalars(self, learning_rate, dtype):
        cache = {} if self._step_scalars is None else self._step_scalars
        if dtype not in cache:
            step = tf.cast(self.iterations + 1, dtype)
            beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
            cache[dtype] = dict(
                beta1_power=tf.pow(beta_1, step),
                beta2_power=tf.pow(beta_2, step),
                lr=tf.cast(learning_rate, dtype),
                beta1=beta_1,
                beta2=beta_2,
                epsilon=tf.cast(self.epsilon, dtype),
            )
        return cache[dtype]

    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad or isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        # Under a distribution strategy this runs once per device on that device's copy; the slots'
        # `handle` then resolves to the same device's copy.
        var = variable.value if isinstance(variable, keras.Variable) else variable
        index = self._get_variable_index(variable)
        m, v = self._momentums[index].value, self._velocities[index].value
        tf.raw_ops.ResourceApplyAdam(
            var=var.handle,
            m=m.handle,
            v=v.handle,
            grad=tf.cast(gradient, var.dtype),
            **self._scalars(learning_rate, var.dtype),
        )


@keras.saving.register_keras_serializable(package="tfgen")
class Adam(_FusedAdamUpdate, keras.optimizers.Adam):
    """`keras.optimizers.Adam` with the fused update (module docstring)."""


@keras.saving.register_keras_serializable(package="tfgen")
class AdamW(_FusedAdamUpdate, keras.optimizers.AdamW):
    """`keras.optimizers.AdamW` with the fused update; the weight decay is Keras's own step before it."""
