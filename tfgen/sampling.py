"""Pictures from trained runs: samples and completions (a workdir or an export), latent models' pictures."""

from pathlib import Path

import numpy as np
import tensorflow as tf

from tfgen import data as tfdata
from tfgen import visualize
from tfgen.errors import InvalidArgumentError
from tfgen.models import latent_pictures
from tfgen.models.autoregressive import AutoregressiveModel
from tfgen.models.latent import LatentImageModel
from tfgen.models.sentence_vae import sentence_decoding
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


def sample_workdir(
    workdir, out, num=16, seed=0, temperature=1.0, cover=None, split="validation", data_dir=None, checkpoint="best"
):
    """Writes `num` samples (or completions) of a workdir's model to `out`.

    Args:
        cover: None to sample from scratch; a fraction in (0, 1) to cover the
            last part of `num` images from `split` and complete them (rows of
            original, covered, completed).
    Returns: the int images drawn, [num, H, W, C].
    """
    check_request(num, temperature, cover)
    model, run, _ = wd.load_model(workdir, checkpoint)
    palette = run.data_spec.palette
    if not isinstance(model, AutoregressiveModel):
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
    spec = run.data_spec
    if cover is None:
        drawn = model.sampler()(noise, temps).numpy()
        if spec.kind == "audio":
            visualize.write_clips(out, drawn, spec.num_classes, spec.sample_rate)
        else:
            visualize.save_png(out, visualize.grid(visualize.render(drawn, palette)))
        return drawn
    source, _ = tfdata.load(run.dataset, split, data_dir or run.data_dir)
    originals = np.stack(list(source.take(num).as_numpy_iterator()))
    n = len(originals)
    known = int(round(model.num_positions * (1 - cover)))
    completed = model.completer()(tf.constant(originals, tf.int32), tf.fill([n], known), noise[:n], temps[:n]).numpy()
    if spec.kind == "audio":
        # Each original above its completion; the line marks where the known part ends.
        pairs = np.stack([x for pair in zip(originals, completed) for x in pair])
        visualize.write_clips(out, pairs, spec.num_classes, spec.sample_rate, mark=known)
    else:
        visualize.save_png(out, visualize.completion_sheet(originals, [(known, completed)], palette))
    return completed


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
        outputs = session.run(signature, inputs)
    finally:
        session.close()
    return visualize.write_generated(out, outputs, meta)


def _write_latent_pictures(model, run, out_dir, split="validation", data_dir=None, num_pairs=8, seed=0, limit=None):
    """Every picture for a trained model into out_dir; returns {name: path}."""
    out_dir = Path(out_dir)
    palette = run.data_spec.palette
    images, _ = tfdata.load(run.dataset, split, data_dir or run.data_dir)
    examples = np.stack(list(images.take(2 * num_pairs).as_numpy_iterator()))
    pictures = latent_pictures.model_previews(model, examples, palette, num_samples=64, seed=seed)
    codes = latent_pictures.encode_split(model, images, limit=limit)
    pictures["code_map"] = latent_pictures.code_map(
        codes, f"{run.model}/{run.config_name}: {run.dataset} {split} codes ({len(codes)})"
    )
    return {name: visualize.save_png(out_dir / f"{name}.png", rgb) for name, rgb in pictures.items()}


def write_latent_pictures(workdirs, out_dir, split="validation", num_pairs=8, seed=0, limit=None):
    """Every latent picture (code grid and map, interpolations, samples) of each workdir, and a comparison.

    Returns the paths written; comparison.png (side by side) when there are several workdirs.
    """
    out_dir = Path(out_dir)
    loaded, written = [], []
    for workdir in workdirs:
        model, run, _ = wd.load_model(workdir)
        if run.data_spec.kind != "image" or not isinstance(model, LatentImageModel):
            raise InvalidArgumentError(f"{workdir}: {run.model} is not an image autoencoder or VAE")
        pictures = _write_latent_pictures(model, run, out_dir / Path(workdir).name, split, None, num_pairs, seed, limit)
        written.extend(pictures.values())
        loaded.append((model, run))
    if len(loaded) > 1:
        first = loaded[0][1]
        other = next((r for _, r in loaded if r.dataset != first.dataset), None)
        if other is not None:
            raise InvalidArgumentError(f"cannot compare models of {first.dataset} and {other.dataset}")
        images, _ = tfdata.load(first.dataset, split, first.data_dir)
        examples = np.stack(list(images.take(2 * num_pairs).as_numpy_iterator()))
        rgb = latent_pictures.comparison([m for m, _ in loaded], examples, first.data_spec.palette, 2 * num_pairs, seed)
        written.append(visualize.save_png(out_dir / "comparison.png", rgb))
    return written


def interpolate_sentences(workdir, first, second, steps=7, beam_width=5):
    """Rows (fraction, greedy sentence, beam sentence) between two sentences, by a trained sentence VAE."""
    sentence_decoding.check_options(steps, beam_width)  # before the model is loaded
    model, run, _ = wd.load_model(workdir)
    if run.data_spec.kind != "text":
        raise InvalidArgumentError(f"{workdir}: {run.model} does not model sentences")
    return sentence_decoding.interpolate(model, first, second, steps, beam_width)
