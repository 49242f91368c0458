"""Evaluate a trained workdir on a dataset split.

    python tools/evaluate.py --workdir=runs/pixelrnn-default-digits --split=validation
    python tools/evaluate.py --workdir=runs/dcgan-default-binarized_mnist

The last output line is one JSON object: the means of the model's
per-example metrics (for likelihood models nll_nats_per_image and
bits_per_dim), num_examples, dataset and split; with --samples (the default
for models without a likelihood: the GANs, the energy model, the autoencoder) also the
sample-quality scores of the model's generated images (FID, KID with its
standard error, precision/recall, Parzen-window log-likelihood) on tfgen's
own per-dataset feature network, comparable across families within tfgen
only (docs/ARCHITECTURE.md, "Comparing image models").
"""

import json
import sys

from absl import flags

from tfgen import cli, registry
from tfgen.data import datasets
from tfgen.evaluation import likelihood
from tfgen.training import workdir as wd

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "Training workdir to evaluate.", required=True)
flags.DEFINE_enum("dataset", None, datasets.names(), "Dataset (default: the one the run trained on).")
flags.DEFINE_string("data_dir", None, "Dataset source (default: the run's, for its own dataset).")
flags.DEFINE_string("split", "validation", "Split to evaluate: " + datasets.SPLIT_HELP + ".")
flags.DEFINE_integer("batch_size", 64, "Evaluation batch size.", lower_bound=1)
flags.DEFINE_enum(
    "checkpoint",
    "best",
    wd.CHECKPOINT_CHOICES,
    "Which checkpoint: the best validation score (when training kept one, else the newest) or the newest.",
)
flags.DEFINE_bool(
    "samples",
    None,
    "Also score generated samples (FID, KID, precision/recall, Parzen). "
    "Default: on for models without a likelihood (GANs, energy, autoencoder), off for the others.",
)
flags.DEFINE_integer("num_samples", None, "Samples to generate (default: as many as the split has).", lower_bound=2)
flags.DEFINE_integer("sample_seed", 0, "Seed of the generated samples.")
flags.DEFINE_enum(
    "pixels",
    None,
    ["most_likely", "drawn"],
    "For models that decode pixel distributions (VAE, autoencoder, DRAW): score each pixel's most likely value "
    "(what their `sample` serves) or a draw from its distribution. Default: the model's own images.",
)
flags.DEFINE_bool("quantize", True, "Snap samples to the nearest palette colour before scoring.")
flags.DEFINE_bool("parzen", True, "Include the Parzen-window log-likelihood (pixel space).")
flags.DEFINE_string("feature_dir", None, "Where feature networks are cached (default: $TFGEN_CACHE/features).")


def main(argv):
    del argv
    result = likelihood.evaluate_workdir(
        FLAGS.workdir, FLAGS.dataset, FLAGS.data_dir, FLAGS.split, FLAGS.batch_size, FLAGS.checkpoint
    )
    samples = FLAGS.samples
    if samples is None:
        samples = not registry.get(result["model"]).cls.has_likelihood
        if samples:
            print(f"{result['model']} has no likelihood: scoring its samples (--nosamples skips)", file=sys.stderr)
    if samples:
        from tfgen.evaluation import generated

        scores = generated.evaluate_samples(
            FLAGS.workdir,
            num_samples=FLAGS.num_samples,
            seed=FLAGS.sample_seed,
            dataset=FLAGS.dataset,
            data_dir=FLAGS.data_dir,
            split=FLAGS.split,
            quantize=FLAGS.quantize,
            parzen=FLAGS.parzen,
            feature_dir=FLAGS.feature_dir,
            pixels=FLAGS.pixels,
            log=lambda *a, **k: print(*a, **k, file=sys.stderr),
        )
        result["samples"] = {k: v for k, v in scores.items() if k not in result or k in ("step",)}
    print(json.dumps(result))


def run():
    """Entry point of the `tfgen-evaluate` console script."""
    cli.run(main)


if __name__ == "__main__":
    run()
