"""Scores the images any trained workdir generates, on the same numbers for every family.

A model takes part by providing the image hook (docs/ARCHITECTURE.md),
drawn in chunks by `tfgen.quality.samples`:

    model.generate_images(num, seed) -> [num, H, W, C] numpy array

returning either float32 colours in [0, 1] in the space of
`tfgen.data.colours` (GANs, energy models, a VAE's decoder means) or
integer palette indices (autoregressive samplers), which are looked up in
the dataset's palette. Samples are then snapped to the nearest palette
colour (`quantize=True`, the default), so every model is scored on images of
the data's own kind (the data are palette images: binary for MNIST) and no
model gains or loses by emitting off-palette values.

Reference: the evaluation split (validation by default). The same scores are
also reported for held-out *training* images in place of samples
(`reference`): the floor a perfect sampler would reach at this N.

These scores use tfgen's own per-dataset feature network
(`tfgen.quality.features`): they compare models within tfgen only, not
with published numbers.
"""

import numpy as np

from tfgen.data import colours as colour_space
from tfgen.errors import InvalidArgumentError
from tfgen.evaluation.likelihood import check_compatible
from tfgen.quality import features as feature_nets
from tfgen.quality import sample_quality as sq
from tfgen.quality.samples import generate_colours, image_sampler
from tfgen.training import workdir as wd


def score(samples, real, extractor, real_features=None, parzen=True):
    """Every score of `samples` (colours) against `real` (colours)."""
    fr = extractor(real) if real_features is None else real_features
    ff = extractor(samples)
    k, k_err = sq.kid(fr, ff)
    precision, recall = sq.precision_recall(fr, ff)
    out = {"fid": sq.fid(fr, ff), "kid": k, "kid_stderr": k_err, "precision": precision, "recall": recall}
    if parzen:
        # Bandwidth chosen on the first half of the reference, reported on the second.
        half = len(real) // 2
        out.update(sq.parzen_evaluate(real[:half], real[half:], samples))
    return out


def evaluate_samples(
    workdir,
    num_samples=None,
    seed=0,
    dataset=None,
    data_dir=None,
    split="validation",
    quantize=True,
    parzen=True,
    feature_dir=None,
    log=print,
    pixels=None,
):
    """Sample-quality scores of a workdir's latest checkpoint.

    Returns a dict: fid, kid, kid_stderr, precision, recall, parzen_* (when
    `parzen`), num_samples, num_reference, the reference scores, and what
    was compared (dataset, split, step, feature network).
    """
    model, run, step = wd.load_model(workdir)
    if run.data_spec.kind != "image":
        raise InvalidArgumentError(
            f"sample-quality scores compare images; {run.model} models {run.data_spec.kind} "
            "(drop --samples: its likelihood is the score)"
        )
    image_sampler(model, pixels)  # refuses a --pixels the model cannot take before any work
    dataset = dataset or run.dataset
    if data_dir is None and dataset == run.dataset:
        data_dir = run.data_dir
    real, spec = feature_nets.load_colours(dataset, split, data_dir)
    check_compatible(run.data_spec, spec)
    num = int(num_samples or len(real))
    # Equal sizes: FID is biased by N, and the reference uses the same N.
    real = real[: min(num, len(real))]
    extractor = feature_nets.feature_extractor(dataset, data_dir, cache_dir=feature_dir, log=log)
    samples = generate_colours(model, num, seed, run.data_spec.palette, pixels=pixels)
    if quantize:
        samples = colour_space.quantise(samples, run.data_spec.palette)
    real_features = extractor(real)
    result = {
        "model": run.model,
        "config": run.config_name,
        "step": step,
        "dataset": spec.name,
        "split": split,
        "num_samples": int(len(samples)),
        "num_reference": int(len(real)),
        "quantized": bool(quantize),
        "seed": seed,
        **({} if pixels is None else {"pixels": pixels}),
        **score(samples, real, extractor, real_features, parzen),
    }
    if split != "train":
        train, _ = feature_nets.load_colours(dataset, "train", data_dir)
        rng = np.random.default_rng(seed)
        held = train[rng.choice(len(train), size=min(len(samples), len(train)), replace=False)]
        result["reference"] = score(held, real, extractor, real_features, parzen)
    result["feature_network"] = {k: extractor.info[k] for k in ("dataset", "transform_accuracy_validation", "chance")}
    return result
