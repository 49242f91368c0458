"""Train a registered model: `python tools/train.py --model=pixelrnn`.

With no flags it trains the exercise's PixelRNN (1 LSTM layer, 512 cells) on
the embedded 8x8 digits, which needs no network and no data files. Re-running
the same command resumes from the workdir's last checkpoint.
"""

from absl import flags

from tfgen import cli, registry
from tfgen.data import datasets
from tfgen.training import strategies, trainer

FLAGS = flags.FLAGS
flags.DEFINE_enum("model", "pixelrnn", registry.names(), "Registered model.")
flags.DEFINE_string("config", "default", "Named config of the model (always 'default' and 'tiny').")
flags.DEFINE_enum("dataset", None, datasets.names(), "Dataset; defaults to the model's own.")
flags.DEFINE_string(
    "data_dir", None, "Dataset source: the pokemon text files' folder, or a prepared TFDS dir for binarized_mnist."
)
flags.DEFINE_string(
    "workdir", None, "Where checkpoints, logs and pictures go (default: runs/<model>-<config>-<dataset>)."
)
flags.DEFINE_integer("epochs", None, "Epochs to train (default: the config's).")
flags.DEFINE_integer("steps", None, "Total optimizer steps; overrides --epochs.")
flags.DEFINE_integer("batch_size", None, "Global batch size (default: the config's).")
flags.DEFINE_float("learning_rate", None, "Learning rate (default: the config's).")
flags.DEFINE_integer("seed", 0, "Seed for data order and initialisation.")
flags.DEFINE_integer(
    "checkpoint_every",
    None,
    "Save a checkpoint every N steps, and at every epoch end (default: the config's).",
    lower_bound=1,
)
flags.DEFINE_enum("strategy", "default", strategies.STRATEGIES, "tf.distribute strategy; multi_worker reads TF_CONFIG.")
flags.DEFINE_integer("num_cpu_devices", 1, "Logical CPU devices (for --strategy=mirrored without GPUs).", lower_bound=1)
flags.DEFINE_integer(
    "collective_timeout",
    300,
    "multi_worker: seconds a training step may wait for its peers (from the second step on).",
    lower_bound=1,
)
flags.DEFINE_integer(
    "startup_timeout",
    600,
    "multi_worker: seconds the first step and the epoch-end sync may wait for slower peers.",
    lower_bound=1,
)
flags.DEFINE_bool("jit_compile", None, "XLA-compile the train step (default: the config's).")
flags.DEFINE_bool("mixed_precision", False, "bfloat16 compute on CPU, float16 with loss scaling on GPU.")
flags.DEFINE_integer("num_previews", 16, "Samples in samples.png (0: write no pictures).", lower_bound=0)
flags.DEFINE_bool("export", True, "Export SavedModel and TFLite to <workdir>/export at the end.")


def main(argv):
    del argv
    spec = registry.get(FLAGS.model)
    dataset = FLAGS.dataset or spec.default_dataset
    workdir = FLAGS.workdir or f"runs/{FLAGS.model}-{FLAGS.config}-{dataset}"
    options = trainer.TrainOptions(
        model=FLAGS.model,
        config=FLAGS.config,
        dataset=dataset,
        data_dir=FLAGS.data_dir,
        workdir=workdir,
        epochs=FLAGS.epochs,
        steps=FLAGS.steps,
        batch_size=FLAGS.batch_size,
        learning_rate=FLAGS.learning_rate,
        seed=FLAGS.seed,
        checkpoint_every=FLAGS.checkpoint_every,
        strategy=FLAGS.strategy,
        num_cpu_devices=FLAGS.num_cpu_devices,
        collective_timeout=FLAGS.collective_timeout,
        startup_timeout=FLAGS.startup_timeout,
        jit_compile=FLAGS.jit_compile,
        mixed_precision=FLAGS.mixed_precision,
        num_previews=FLAGS.num_previews,
        export=FLAGS.export,
    )
    summary = trainer.train(options)
    print(f"done: {summary['steps']} steps in {workdir}; validation {summary['validation']}")
    print(f"weights sha256 {summary['weights_sha256']}; {summary['examples_per_s'] or 0:.1f} examples/s")


def run():
    """Entry point of the `tfgen-train` console script."""
    cli.run(main)


if __name__ == "__main__":
    run()
