"""Differentiable augmentation of what a discriminator sees (DiffAugment [1]).

On a small dataset a discriminator memorises the training images: measured on
the embedded digits (1,618 training images, three seeds each), DCGAN's and
GRAN's discriminators call 24-29% of the training digits fake but 41-43% and
50-54% of the held-out ones. GAM's r_test compares exactly that held-out
error, so unequal memorisation weighs on it (docs/RESULTS.md). Translating every image the
discriminator sees by a few pixels, real and fake alike and inside the
generator's step too (so the generator is not pushed to draw shifted images),
is the standard remedy [1, 2].

Pure functions on images in the model's [-1, 1] colour space; randomness from
stateless ops, so a resumed run draws the same shifts.

[1] Zhao, Liu, Lin, Zhu, Han 2020, "Differentiable Augmentation for
    Data-Efficient GAN Training", arXiv:2006.10738.
[2] Karras et al. 2020, "Training Generative Adversarial Networks with
    Limited Data", arXiv:2006.06676.
"""

import tensorflow as tf


def translate(images, offsets):
    """Shifts each image by its own (dy, dx) offset; edge pixels repeat outward.

    Args:
        images: [B, H, W, C] float.
        offsets: int32 [B, 2]: how far each image's content moves down and right.

    Returns:
        [B, H, W, C] with out[b, i, j] = images[b, clip(i - dy, 0, H - 1),
        clip(j - dx, 0, W - 1)]: the rows and columns shifted in repeat the
        image's edge, so a digit's empty border stays background (zero padding
        would draw a grey frame in [-1, 1] space, which a discriminator could
        learn to look for). Differentiable with respect to `images` (gathers only).
    """
    height, width = images.shape[1], images.shape[2]
    rows = tf.clip_by_value(tf.range(height)[None, :] - offsets[:, :1], 0, height - 1)  # [B, H]
    cols = tf.clip_by_value(tf.range(width)[None, :] - offsets[:, 1:], 0, width - 1)  # [B, W]
    out = tf.gather(images, rows, axis=1, batch_dims=1)  # [B, H, W, C]
    return tf.gather(out, cols, axis=2, batch_dims=1)


def random_offsets(batch_size, max_shift, seed):
    """Offsets [B, 2] drawn uniformly from {-max_shift, ..., max_shift}^2."""
    return tf.random.stateless_uniform(
        [batch_size, 2], seed=seed, minval=-int(max_shift), maxval=int(max_shift) + 1, dtype=tf.int32
    )


def random_translate(images, max_shift, seed):
    """Each image shifted by its own random offset of at most `max_shift` pixels per axis."""
    if not max_shift:
        return images
    return translate(images, random_offsets(tf.shape(images)[0], max_shift, seed))
