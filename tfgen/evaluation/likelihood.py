"""Exact likelihood evaluation of a trained workdir on any dataset split."""

import numpy as np

from tfgen import data as tfdata
from tfgen.errors import InvalidArgumentError
from tfgen.training import trainer
from tfgen.training import workdir as wd


def check_compatible(trained, other):
    """Raises if `other` data cannot be scored by a model trained on `trained`."""
    if trained.kind != other.kind or tuple(trained.vocabulary) != tuple(other.vocabulary):
        raise InvalidArgumentError(
            f"model was trained on {trained.name} ({trained.kind}); {other.name} is not compatible"
        )
    if tuple(trained.example_shape) != tuple(other.example_shape) or trained.num_classes != other.num_classes:
        raise InvalidArgumentError(
            f"model was trained on {trained.name} {trained.example_shape} with {trained.num_classes} values "
            f"per position; {other.name} has {other.example_shape} with {other.num_classes}"
        )
    if trained.sample_rate != other.sample_rate:
        raise InvalidArgumentError(
            f"model was trained on {trained.sample_rate} Hz audio; {other.name} is {other.sample_rate} Hz"
        )
    if not np.array_equal(trained.palette, other.palette):
        # Same indices with other colours would be scored, but meaninglessly.
        raise InvalidArgumentError(f"{other.name}'s palette differs from the one the model was trained with")


def evaluate_workdir(workdir, dataset=None, data_dir=None, split="validation", batch_size=64, checkpoint="best"):
    """Log-likelihood of a split under a workdir's best (or latest) checkpoint.

    Returns a dict with the means of the model's per-example metrics (for
    likelihood models of images nll_nats_per_image and bits_per_dim; of
    audio bits_per_sample, nats_per_second and the unigram and bigram
    baselines' bits per sample on the same windows), num_examples, dataset,
    split and step.
    """
    model, run, step = wd.load_model(workdir, checkpoint)
    dataset = dataset or run.dataset
    if data_dir is None and dataset == run.dataset:
        data_dir = run.data_dir
    images, spec = tfdata.load(dataset, split, data_dir)
    check_compatible(run.data_spec, spec)
    means, count = trainer.evaluate_batches(model, images, batch_size)
    result = {
        "model": run.model,
        "config": run.config_name,
        "step": step,
        "dataset": spec.name,
        "split": split,
        "num_examples": count,
        **means,
    }
    if "nll" in means and spec.kind == "image":  # exact (autoregressive) or bound (VAE) negative log-likelihood
        result["nll_nats_per_image"] = means["nll"]
    if spec.kind == "audio":
        result["baselines_bits_per_sample"] = audio_baselines(dataset, data_dir, images, spec)
    return result


def audio_baselines(dataset, data_dir, windows, spec):
    """Unigram and bigram bits per sample of `windows`, fitted on the training split's windows."""
    from tfgen.evaluation import baselines

    train, _ = tfdata.load(dataset, "train", data_dir)
    train, windows = (np.stack(list(ds.as_numpy_iterator())) for ds in (train, windows))
    return baselines.bits_per_sample(train, windows, spec.num_classes)
