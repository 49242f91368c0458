"""Statistics computed inside train steps (TF graph ops): diversity, distances, gradient norms.

Models report them as `train_step` outputs; callbacks such as
`tfgen.training.callbacks.ModeCollapseAlarm` read them from the logs.
"""

import keras
import tensorflow as tf


def rms_distances(a, b):
    """RMS per-value distance between every a_i and b_j: [A, B] (flattened images)."""
    a = tf.reshape(tf.cast(a, tf.float32), [tf.shape(a)[0], -1])
    b = tf.reshape(tf.cast(b, tf.float32), [tf.shape(b)[0], -1])
    sq = (
        tf.reduce_sum(tf.square(a), 1)[:, None]
        - 2.0 * tf.matmul(a, b, transpose_b=True)
        + tf.reduce_sum(tf.square(b), 1)[None, :]
    )
    return tf.sqrt(tf.maximum(sq, 0.0) / tf.cast(tf.shape(a)[1], tf.float32))


def mean_pairwise_distance(x):
    """Mean RMS distance over pairs i != j of a batch: its diversity."""
    d = rms_distances(x, x)
    n = tf.cast(tf.shape(d)[0], tf.float32)
    return tf.reduce_sum(d) / tf.maximum(n * (n - 1.0), 1.0)


def nearest_distance(fake, real):
    """Mean over fakes of the RMS distance to the nearest real example."""
    return tf.reduce_mean(tf.reduce_min(rms_distances(fake, real), axis=1))


def gradient_norm(optimizer, grads):
    """Global norm of the gradient of the global-batch mean loss (unscaled)."""
    norm = tf.linalg.global_norm([g for g in grads if g is not None])
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        norm = norm / tf.cast(optimizer.dynamic_scale, norm.dtype)
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    # Each replica's gradient was divided by the replica count (replica_mean);
    # report the norm of the gradient of its local mean, comparable across strategies.
    return norm * replicas
