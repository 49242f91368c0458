"""tf.data pipelines for training and evaluation.

Training order is a pure function of (seed, epoch): each epoch is shuffled
with seed + epoch and batched to the *global* batch. A resumed run therefore
skips exactly the batches it already trained on, and a run on N replicas
sees the same global batches as a run on one (each replica takes its slice).
"""

import tensorflow as tf

from tfgen.errors import InvalidArgumentError

SHUFFLE_BUFFER_CAP = 100_000


def train_batches(images, global_batch_size, *, seed, epoch, skip=0, num_examples=None, input_context=None, flip=False):
    """Batches of one training epoch.

    Args:
        images: dataset of examples (already cached by the caller if wanted).
        global_batch_size: examples per optimizer step across all replicas.
        seed, epoch: the epoch's shuffle order is determined by seed and epoch.
        skip: batches of this epoch already consumed (when resuming).
        num_examples: size of the dataset, for an exact (full-buffer) shuffle.
        input_context: a `tf.distribute.InputContext` (from
            `distribute_datasets_from_function`): this input pipeline then
            yields, for every global batch, one slice per local replica, so
            all replicas together see exactly the single-process batch.
        flip: mirror each image left-right with probability 1/2, drawn from
            (seed, epoch, position in the epoch), so a resumed run flips the
            same examples.
    """
    buffer = min(num_examples or SHUFFLE_BUFFER_CAP, SHUFFLE_BUFFER_CAP)
    ds = images.shuffle(buffer, seed=seed * 100_003 + epoch, reshuffle_each_iteration=False)
    if flip:
        ds = ds.enumerate().map(lambda i, x: random_flip(x, seed, epoch, i))
    ds = ds.batch(global_batch_size, drop_remainder=True)
    if skip:
        ds = ds.skip(skip)
    if input_context is not None and input_context.num_replicas_in_sync > 1:
        replicas = input_context.num_replicas_in_sync
        if global_batch_size % replicas:
            raise ValueError(f"global batch {global_batch_size} does not split over {replicas} replicas")
        per_replica = global_batch_size // replicas
        pipelines = input_context.num_input_pipelines
        local = replicas // pipelines
        start = input_context.input_pipeline_id * local * per_replica
        ds = ds.map(lambda b: b[start : start + local * per_replica])
        if local > 1:
            ds = ds.rebatch(per_replica)
    return ds.prefetch(tf.data.AUTOTUNE)


def random_flip(image, seed, epoch, index):
    """image [H, W, C] mirrored left-right or not, a fair coin seeded by (seed, epoch, index)."""
    coin = tf.random.stateless_uniform([], seed=tf.stack([tf.cast(seed * 100_003 + epoch, tf.int64), index]))
    return tf.where(coin < 0.5, tf.reverse(image, axis=[1]), image)


def eval_batches(images, batch_size):
    return images.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def batch_signature(images):
    """The input signature of a function of `eval_batches(images, n)` for any n: one trace for every
    batch size, since a split rarely divides into whole batches (the last one would be traced again)."""
    return [eval_batches(images, 1).element_spec]  # batch dimension None


def steps_per_epoch(num_examples, global_batch_size):
    steps = num_examples // global_batch_size
    if steps < 1:
        raise InvalidArgumentError(
            f"batch size {global_batch_size} is larger than the training split ({num_examples} examples)"
        )
    return steps
