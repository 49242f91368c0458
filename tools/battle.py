"""GAM battle between two trained adversarial models (Im et al. 2016).

    python tools/battle.py --a=runs/dcgan-default-binarized_mnist --b=runs/gran-default-binarized_mnist

Swaps the two models' discriminators and generators, prints the table of
error rates, r_test and r_sample, and the winner (declared only when r_test
is within --tolerance of 1). The last output line is the result as JSON.
--operating_point=0.1 matches the judges on the training images first: each
one's threshold is set so that it calls 10% of them fake.
"""

import json

from absl import flags

from tfgen import cli
from tfgen.data import datasets
from tfgen.evaluation import gam

FLAGS = flags.FLAGS
flags.DEFINE_string("a", None, "Workdir of model a.", required=True)
flags.DEFINE_string("b", None, "Workdir of model b.", required=True)
flags.DEFINE_string("split", "validation", "Split of the run's dataset used as test data: " + datasets.SPLIT_HELP + ".")
flags.DEFINE_string("data_dir", None, "Dataset source (default: model a's run's).")
flags.DEFINE_integer("num_samples", None, "Samples per generator (default: as many as the split has).", lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of the generators' noise.")
flags.DEFINE_enum(
    "judge",
    "averaged",
    list(gam.JUDGES),
    "Which discriminator of a weight-averaged model judges: its running average, or its weights as trained.",
)
flags.DEFINE_float("tolerance", 0.1, "Declare a winner only when |r_test - 1| <= tolerance.", lower_bound=0)
flags.DEFINE_float(
    "operating_point",
    None,
    "Matched operating points: set each judge's threshold so that it calls this fraction of the training images "
    "fake (in (0, 1), e.g. 0.1), instead of its loss's own threshold. Off by default.",
)


def main(argv):
    del argv
    result = gam.battle(
        FLAGS.a,
        FLAGS.b,
        FLAGS.num_samples,
        FLAGS.split,
        FLAGS.seed,
        FLAGS.tolerance,
        FLAGS.data_dir,
        FLAGS.judge,
        FLAGS.operating_point,
    )
    print(gam.table(result))
    print(json.dumps(result))


def run():
    """Entry point of the `tfgen-battle` console script."""
    cli.run(main)


if __name__ == "__main__":
    run()
