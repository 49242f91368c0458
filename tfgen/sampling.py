"""Sampling and completion from a trained workdir to a PNG."""

import numpy as np
import tensorflow as tf

from tfgen import data as tfdata
from tfgen import visualize
from tfgen.errors import InvalidArgumentError
from tfgen.training import workdir as wd

MAX_NUM = 1024  # a PNG of more images than this is not something a person looks at


def check_num(num):
    if not 1 <= num <= MAX_NUM:
        raise InvalidArgumentError(f"number of images must be in 1..{MAX_NUM}, got {num}")


def check_request(num, temperature, cover=None):
    """Refuses a bad count, temperature or cover fraction before anything is loaded."""
    check_num(num)
    if not temperature > 0:
        raise InvalidArgumentError(f"temperature must be > 0, got {temperature}")
    if cover is not None and not 0 < cover < 1:
        raise InvalidArgumentError(f"cover must be a fraction in (0, 1), got {cover}")


def sample_workdir(workdir, out, num=16, seed=0, temperature=1.0, cover=None, split="validation", data_dir=None):
    """Writes `num` samples (or completions) of a workdir's model to `out`.

    Args:
        cover: None to sample from scratch; a fraction in (0, 1) to cover the
            last part of `num` images from `split` and complete them (rows of
            original, covered, completed).
    Returns: the int images drawn, [num, H, W, C].
    """
    check_request(num, temperature, cover)
    model, run, _ = wd.load_model(workdir)
    palette = run.data_spec.palette
    if not hasattr(model, "complete"):
        # No categorical sampler (GANs, energy models): draw through the image hook.
        if cover is not None or temperature != 1.0:
            raise InvalidArgumentError(
                f"{run.model} has no temperature and cannot complete images; drop --temperature/--cover"
            )
        from tfgen.data import colours

        images = model.generate_images(num, seed)
        visualize.save_png(out, visualize.grid(colours.to_rgb(colours.as_colours(images, palette))))
        return images
    noise = model.noise(num, seed)
    temps = tf.fill([num], float(temperature))
    if cover is None:
        images = tf.function(model.sample)(noise, temps).numpy()
        visualize.save_png(out, visualize.grid(visualize.render(images, palette)))
        return images
    source, _ = tfdata.load(run.dataset, split, data_dir or run.data_dir)
    originals = np.stack(list(source.take(num).as_numpy_iterator()))
    n = len(originals)
    known = int(round(model.num_pixels * (1 - cover)))
    images = tf.function(model.complete)(
        tf.constant(originals, tf.int32), tf.fill([n], known), noise[:n], temps[:n]
    ).numpy()
    visualize.save_png(out, visualize.completion_sheet(originals, [(known, images)], palette))
    return images


def sample_export(version_dir, out, num=16, seed=0, temperature=1.0, signature=None):
    """Samples from a SavedModel export (loaded as TF Serving loads it) to a PNG.

    Noise comes from `export.noise` like `tools/tflite_sample.py`'s, so the
    same seed gives the same images from the SavedModel and the TFLite file.
    """
    from tfgen.export import metadata as md
    from tfgen.export.serving import ServingSession

    check_request(num, temperature)
    meta = md.read(version_dir)
    signature = signature or meta["default_signature"]
    inputs = md.generating_request(meta, signature, num, seed, temperature)
    session = ServingSession(version_dir)
    try:
        images = session.run(signature, inputs)["images"]
    finally:
        session.close()
    visualize.save_png(out, visualize.grid(visualize.render_export(images, meta)))
    return images
