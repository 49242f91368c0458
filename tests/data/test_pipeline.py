"""Training order: determined by (seed, epoch), resumable, identical across replica counts."""

import numpy as np
import pytest
import tensorflow as tf

from tfgen.data import pipeline


def examples(n=40):
    return tf.data.Dataset.range(n)


def epoch(**kw):
    return [b.numpy() for b in pipeline.train_batches(examples(), 8, num_examples=40, **kw)]


def test_same_seed_and_epoch_same_order_and_all_examples_seen():
    a, b = epoch(seed=1, epoch=3), epoch(seed=1, epoch=3)
    assert len(a) == 5
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert sorted(np.concatenate(a)) == list(range(40))


def test_epochs_and_seeds_differ():
    assert not np.array_equal(np.concatenate(epoch(seed=1, epoch=0)), np.concatenate(epoch(seed=1, epoch=1)))
    assert not np.array_equal(np.concatenate(epoch(seed=1, epoch=0)), np.concatenate(epoch(seed=2, epoch=0)))


def test_skip_resumes_at_the_same_batch():
    full, resumed = epoch(seed=0, epoch=2), epoch(seed=0, epoch=2, skip=3)
    assert len(resumed) == 2
    np.testing.assert_array_equal(np.stack(full[3:]), np.stack(resumed))


@pytest.mark.parametrize("workers, local", [(2, 1), (1, 2), (2, 2)])
def test_replica_slices_cover_the_global_batch(workers, local):
    full = epoch(seed=0, epoch=0)
    per_replica = []
    for wid in range(workers):
        ctx = tf.distribute.InputContext(
            num_input_pipelines=workers, input_pipeline_id=wid, num_replicas_in_sync=workers * local
        )
        batches = [
            b.numpy()
            for b in pipeline.train_batches(examples(), 8, seed=0, epoch=0, num_examples=40, input_context=ctx)
        ]
        per_replica.append(batches)
    for step, global_batch in enumerate(full):
        parts = [per_replica[w][step * local + r] for w in range(workers) for r in range(local)]
        assert all(len(p) == 8 // (workers * local) for p in parts)
        np.testing.assert_array_equal(np.concatenate(parts), global_batch)


def test_batch_larger_than_dataset():
    with pytest.raises(ValueError, match="larger than the training split"):
        pipeline.steps_per_epoch(10, 64)


def labelled_images(n=200):
    """Image i is 1x3 with pixels (i, 0, 1000): its mirror (1000, 0, i) is told apart by the marker 1000."""
    i = np.arange(n)
    images = np.stack([i, np.zeros(n, np.int64), np.full(n, 1000)], axis=1).reshape(n, 1, 3, 1)
    return tf.data.Dataset.from_tensor_slices(images)


def flipped_epoch(seed, epoch_, skip=0):
    batches = pipeline.train_batches(
        labelled_images(), 20, seed=seed, epoch=epoch_, skip=skip, num_examples=200, flip=True
    )
    return np.concatenate([b.numpy() for b in batches])


def test_flip_mirrors_about_half_the_images_reproducibly():
    out = flipped_epoch(seed=1, epoch_=0)
    flipped = out[:, 0, 0, 0] == 1000  # the mirror has the marker first
    ids = np.where(flipped, out[:, 0, 2, 0], out[:, 0, 0, 0])
    assert sorted(ids) == list(range(200))  # every image once, mirrored or not, nothing else changed
    unflipped = np.where(flipped[:, None], out[:, 0, ::-1, 0], out[:, 0, :, 0])
    np.testing.assert_array_equal(unflipped[:, 1:], np.tile([0, 1000], (200, 1)))
    assert 70 < flipped.sum() < 130
    np.testing.assert_array_equal(out, flipped_epoch(seed=1, epoch_=0))
    assert not np.array_equal(out, flipped_epoch(seed=1, epoch_=1))
    # A resumed epoch (batches skipped) flips the rest exactly as the whole epoch did.
    np.testing.assert_array_equal(flipped_epoch(seed=1, epoch_=0, skip=4), out[80:])
