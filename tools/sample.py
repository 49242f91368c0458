"""Draw samples or completions from a trained workdir into a PNG (and WAVs for audio models).

python tools/sample.py --workdir=runs/pixelrnn-default-digits --num=16 --out=samples.png
python tools/sample.py --workdir=... --cover=0.75 --out=completions.png
python tools/sample.py --workdir=runs/wavenet --num=4 --out=speech.png   # speech-0.wav ... and spectrograms
"""

from absl import app, flags

from tfgen import cli, sampling
from tfgen.data import datasets
from tfgen.training import workdir as wd

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "Training workdir.")
flags.DEFINE_string("export_dir", None, "A SavedModel version directory (instead of --workdir).")
flags.DEFINE_string("out", "samples.png", "PNG to write.")
flags.DEFINE_integer("num", 16, f"Images to draw (1..{sampling.MAX_NUM}).")
flags.DEFINE_integer("seed", 0, "Seed of the sampling noise.")
flags.DEFINE_float("temperature", 1.0, "Softmax temperature (> 0); below 1 is more conservative.")
flags.DEFINE_float("cover", None, "Cover this fraction (e.g. 0.5, 0.75) of dataset images and complete them.")
flags.DEFINE_string("split", "validation", "Split the images to complete come from: " + datasets.SPLIT_HELP + ".")
flags.DEFINE_string("data_dir", None, "Dataset source for --cover (default: the run's).")
flags.DEFINE_enum(
    "checkpoint",
    "best",
    wd.CHECKPOINT_CHOICES,
    "Which checkpoint: the best validation score (when training kept one, else the newest) or the newest.",
)


def main(argv):
    del argv
    if bool(FLAGS.workdir) == bool(FLAGS.export_dir):
        raise app.UsageError("give exactly one of --workdir and --export_dir")
    if FLAGS.export_dir:
        drawn = sampling.sample_export(FLAGS.export_dir, FLAGS.out, FLAGS.num, FLAGS.seed, FLAGS.temperature)
        print(_wrote(drawn))
        return
    images = sampling.sample_workdir(
        FLAGS.workdir,
        FLAGS.out,
        FLAGS.num,
        FLAGS.seed,
        FLAGS.temperature,
        FLAGS.cover,
        FLAGS.split,
        FLAGS.data_dir,
        FLAGS.checkpoint,
    )
    print(_wrote(images))


def _wrote(drawn):
    if drawn.ndim == 2:  # audio: [N, samples]
        return f"wrote {len(drawn)} clips ({FLAGS.out} spectrograms, WAV files beside it)"
    return f"wrote {len(drawn)} images to {FLAGS.out}"


def run():
    """Entry point of the `tfgen-sample` console script."""
    cli.run(main)


if __name__ == "__main__":
    run()
