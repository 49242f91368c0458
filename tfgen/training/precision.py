"""Mixed precision: bfloat16 on CPU, float16 with loss scaling on GPU."""

import contextlib

import keras
import tensorflow as tf


def policy_name(enabled):
    if not enabled:
        return "float32"
    # float16 needs loss scaling and pays off on GPUs; CPUs with AVX-512 BF16
    # run bfloat16 matmuls natively and bfloat16 has float32's exponent range.
    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


@contextlib.contextmanager
def policy(enabled):
    """Sets the Keras global dtype policy for building a model, then restores it."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy_name(enabled))
    try:
        yield keras.mixed_precision.global_policy()
    finally:
        keras.mixed_precision.set_global_policy(previous)


def wrap_optimizer(optimizer):
    """Loss scaling for float16 (not needed for bfloat16)."""
    if keras.mixed_precision.global_policy().compute_dtype == "float16":
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
