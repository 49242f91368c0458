"""Squared reconstruction error of PCA with n components: the autoencoder's baseline.

    python tools/pca_baseline.py --dataset=binarized_mnist --data_dir=../shared/data/tfds --components=30

The last output line is one JSON object (squared_error per validation image).
Compare with `tools/evaluate.py --workdir=<autoencoder run>` (its squared_error).
"""

import json

from absl import flags

from tfgen import cli
from tfgen.data import datasets
from tfgen.evaluation import pca

FLAGS = flags.FLAGS
flags.DEFINE_enum("dataset", "binarized_mnist", datasets.names(), "Image dataset.")
flags.DEFINE_string("data_dir", None, "Dataset source (see tools/train.py).")
flags.DEFINE_integer("components", 30, "Principal components (the code size).", lower_bound=1)
flags.DEFINE_string("split", "validation", "Split to reconstruct: " + datasets.SPLIT_HELP + ".")
flags.DEFINE_integer("max_train", None, "Fit on at most this many training images.")


def main(argv):
    del argv
    result = pca.pca_baseline(FLAGS.dataset, FLAGS.data_dir, FLAGS.components, FLAGS.split, FLAGS.max_train)
    print(json.dumps(result))


def run():
    """Entry point of the `tfgen-pca-baseline` console script."""
    cli.run(main)


if __name__ == "__main__":
    run()
