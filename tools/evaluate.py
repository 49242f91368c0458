"""Log-likelihood of a trained workdir on a dataset split.

    python tools/evaluate.py --workdir=runs/pixelrnn-default-digits --split=validation

The last output line is one JSON object with nll_nats_per_image,
bits_per_dim, num_examples, dataset and split.
"""

import os
import sys

# Python puts tools/ first on sys.path; tools/export.py would then shadow the
# top-level `export` package for every tool. The checkout root goes there instead.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import json

from absl import app, flags

from tfgen.data import datasets
from tfgen.evaluation import likelihood

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "Training workdir to evaluate.", required=True)
flags.DEFINE_enum("dataset", None, datasets.names(), "Dataset (default: the one the run trained on).")
flags.DEFINE_string("data_dir", None, "Dataset source (default: the run's, for its own dataset).")
flags.DEFINE_enum("split", "validation", datasets.SPLITS, "Split; 'all' reads every example.")
flags.DEFINE_integer("batch_size", 64, "Evaluation batch size.", lower_bound=1)


def main(argv):
    del argv
    result = likelihood.evaluate_workdir(FLAGS.workdir, FLAGS.dataset, FLAGS.data_dir, FLAGS.split, FLAGS.batch_size)
    print(json.dumps(result))


if __name__ == "__main__":
    app.run(main)
