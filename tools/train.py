"""Train a registered model: `python tools/train.py --model=pixelrnn`.

With no flags it trains the exercise's PixelRNN (1 LSTM layer, 512 cells) on
the embedded 8x8 digits, which needs no network and no data files. Re-running
the same command resumes from the workdir's last checkpoint. The flags are
generated from `tfgen.training.options.TrainOptions`.
"""

from tfgen import cli
from tfgen.training import options, trainer

options.define_flags()


def main(argv):
    del argv
    summary = trainer.train(options.from_flags())
    print(f"done: {summary['steps']} steps in {summary['workdir']}; validation {summary['validation']}")
    print(f"weights sha256 {summary['weights_sha256']}; {summary['examples_per_s'] or 0:.1f} examples/s")


def run():
    """Entry point of the `tfgen-train` console script."""
    cli.run(main)


if __name__ == "__main__":
    run()
