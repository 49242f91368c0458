"""Evaluation of a trained latent-variable workdir: NLL bounds, KL, active units.

`evaluate_latent_workdir` reports, on a split:

* negative_elbo, reconstruction, kl: the model's per-example metrics;
* iwae_nll: the importance-weighted NLL estimate with k samples (Burda et
  al. 2016), in nats per example (a VAE's honest likelihood number);
* active_units: code dimensions whose posterior mean varies over the data
  (variance > 0.01, Burda et al.);
* for text: perplexity = exp(total NLL / total predicted tokens), from the
  -ELBO and from the IWAE estimate; for images bits_per_dim.
"""

import math
import time

import numpy as np
import tensorflow as tf

from tfgen import data as tfdata
from tfgen.data import pipeline
from tfgen.errors import InvalidArgumentError
from tfgen.evaluation import importance
from tfgen.evaluation.likelihood import check_compatible
from tfgen.losses import latent as latent_losses
from tfgen.models.base import PosteriorModel
from tfgen.models.latent import LatentImageModel
from tfgen.training import workdir as wd


def evaluate_latent(model, examples, num_samples=5000, batch_size=8, chunk_size=None, seed=0, progress=None):
    """Means over a dataset (of images or sentences) of the model's metrics and the IWAE NLL.

    Args:
        examples: a tf.data.Dataset of single examples.
        num_samples: k of the importance-weighted estimate (0: skip it).
        batch_size: examples per compiled call; batch_size * chunk_size codes
            are decoded at once.
        progress: called with (examples done) after every batch.
    """
    signature = pipeline.batch_signature(examples)
    metrics_fn = tf.function(model.per_example_metrics, input_signature=signature, autograph=False)
    posterior_fn = tf.function(model.posterior_means, input_signature=signature, autograph=False)
    estimator = importance.make_estimator(model, num_samples, chunk_size, seed) if num_samples else None
    totals, means, count = {}, [], 0
    start = time.time()
    for batch in pipeline.eval_batches(examples, batch_size):
        values = dict(metrics_fn(batch))
        if estimator is not None:
            values["iwae_nll"] = -estimator(batch)
        for k, v in values.items():
            totals[k] = totals.get(k, 0.0) + float(tf.reduce_sum(tf.cast(v, tf.float64)))
        means.append(posterior_fn(batch).numpy())
        count += int(batch.shape[0])
        if progress:
            progress(count)
    if count == 0:
        raise ValueError("no examples to evaluate")
    result = {k: v / count for k, v in totals.items()}
    active, variance = latent_losses.active_units(np.concatenate(means))
    result.update(
        num_examples=count,
        importance_samples=num_samples,
        active_units=active,
        latent_dim=int(variance.shape[0]),
        seconds=round(time.time() - start, 1),
    )
    if "tokens" in totals:
        for key in ("negative_elbo", "iwae_nll"):
            if key in totals:
                result[f"perplexity_{key}"] = math.exp(totals[key] / totals["tokens"])
    elif isinstance(model, LatentImageModel):
        for key in ("negative_elbo", "iwae_nll"):
            if key in result:
                result[f"bits_per_dim_{key}"] = result[key] / (model.num_pixels * math.log(2.0))
    return result


def evaluate_latent_workdir(
    workdir, split="validation", num_samples=5000, batch_size=8, chunk_size=None, max_examples=None, seed=0, log=None
):
    """`evaluate_latent` on a workdir's latest checkpoint; returns a JSON-able dict."""
    model, run, step = wd.load_model(workdir)
    if not isinstance(model, PosteriorModel):
        raise InvalidArgumentError(f"{run.model} has no code posterior to importance-sample (not a VAE)")
    examples, spec = tfdata.load(run.dataset, split, run.data_dir)
    check_compatible(run.data_spec, spec)
    if max_examples:
        examples = examples.take(max_examples)
    total = min(spec.num_examples.get(split, 0) or 0, max_examples or math.inf)
    progress = None
    if log:
        start = time.time()

        def progress(done):
            if done % (batch_size * 25) < batch_size:
                rate = done / max(time.time() - start, 1e-9)
                eta = (total - done) / rate if total and total != math.inf else float("nan")
                log(f"  {done}/{total} examples, {rate:.1f}/s, about {eta / 60:.1f} min left")

    result = evaluate_latent(model, examples, num_samples, batch_size, chunk_size, seed, progress)
    return {
        "model": run.model,
        "config": run.config_name,
        "step": step,
        "dataset": run.dataset,
        "split": split,
        **result,
    }
