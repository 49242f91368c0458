"""Importance-weighted NLL, -ELBO, KL and active units of a trained VAE workdir.

    python tools/evaluate_latent.py --workdir=runs/vae-default-binarized_mnist --importance_samples=5000
    python tools/evaluate_latent.py --workdir=runs/sentence_vae-default-ptb --importance_samples=1000

k = 5000 decodes every validation example 5000 times; progress and an
estimate of the time left are printed. The last output line is one JSON
object (iwae_nll in nats per example; for text also the perplexities).
"""

import json

from absl import flags

from tfgen import cli
from tfgen.data import datasets
from tfgen.evaluation import latent

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "Training workdir of a VAE.", required=True)
flags.DEFINE_string("split", "validation", "Split to evaluate: " + datasets.SPLIT_HELP + ".")
flags.DEFINE_integer("importance_samples", 5000, "k of the importance-weighted estimate (0: skip it).", lower_bound=0)
flags.DEFINE_integer("batch_size", 16, "Examples per compiled call.", lower_bound=1)
flags.DEFINE_integer("chunk_size", 500, "Codes per example per decoder pass.", lower_bound=1)
flags.DEFINE_integer("max_examples", None, "Evaluate only the first N examples of the split.")
flags.DEFINE_integer("seed", 0, "Seed of the importance samples.")


def main(argv):
    del argv
    result = latent.evaluate_latent_workdir(
        FLAGS.workdir,
        FLAGS.split,
        FLAGS.importance_samples,
        FLAGS.batch_size,
        FLAGS.chunk_size,
        FLAGS.max_examples,
        FLAGS.seed,
        log=lambda m: print(m, flush=True),
    )
    print(json.dumps(result))


def run():
    """Entry point of the `tfgen-evaluate-latent` console script."""
    cli.run(main)


if __name__ == "__main__":
    run()
