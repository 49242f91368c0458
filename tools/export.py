"""Export a trained workdir: SavedModel for TF Serving and TFLite for devices.

    python tools/export.py --workdir=runs/pixelrnn-default-digits --export_dir=/tmp/models

Writes <export_dir>/<model>/<version>/ (SavedModel with warmup requests),
<export_dir>/tflite/<model>/<version>/{float32,float16,int8}.tflite and
<export_dir>/models.config. Versions are never overwritten.
"""

from absl import flags

from tfgen import cli
from tfgen.export import exporter, tflite
from tfgen.training import workdir as wd

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "Training workdir.", required=True)
flags.DEFINE_string("export_dir", None, "Export root (default: <workdir>/export).")
flags.DEFINE_list("formats", list(exporter.FORMATS), "Formats: saved_model, tflite.")
flags.DEFINE_integer("version", None, "Version number (default: one more than the highest present).", lower_bound=1)
flags.DEFINE_integer("max_batch", exporter.DEFAULT_MAX_BATCH, "Largest batch a request may ask for.")
flags.DEFINE_list("tflite_variants", list(tflite.VARIANTS), "TFLite variants: float32, float16, int8.")
flags.DEFINE_enum(
    "checkpoint",
    "best",
    wd.CHECKPOINT_CHOICES,
    "Which checkpoint: the best validation score (when training kept one, else the newest) or the newest.",
)
flags.DEFINE_string(
    "serving_base_path", None, "Where the server sees --export_dir (e.g. /models in the container), for models.config."
)


def main(argv):
    del argv
    result = wd.export(
        FLAGS.workdir,
        FLAGS.export_dir,
        checkpoint=FLAGS.checkpoint,
        formats=FLAGS.formats,
        version=FLAGS.version,
        max_batch=FLAGS.max_batch,
        variants=FLAGS.tflite_variants,
        serving_base_path=FLAGS.serving_base_path,
    )
    print(f"exported version {result.version}")
    if result.saved_model:
        print(f"  SavedModel: {result.saved_model}")
    for variant, path in result.tflite.items():
        print(f"  TFLite {variant}: {path} ({path.stat().st_size} bytes)")


def run():
    """Entry point of the `tfgen-export` console script."""
    cli.run(main)


if __name__ == "__main__":
    run()
