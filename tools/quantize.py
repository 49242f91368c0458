"""Cluster a folder of sprites' colours with k-means into the exercise's format.

    python tools/quantize.py --images=../shared/data/pokemon/figure --out=/tmp/q \
        --colours=167 --size=20 --compare_to=../shared/data/pokemon

Writes <out>/pixel_color.txt and <out>/colormap.txt; with --compare_to, also
reports the mean per-pixel RGB error against another quantised set of the
same sprites. The last output line is JSON.
"""

import json

from absl import flags

from tfgen import cli
from tfgen.data import quantize

FLAGS = flags.FLAGS
flags.DEFINE_string("images", None, "Folder of sprite images.", required=True)
flags.DEFINE_string("out", None, "Output folder for pixel_color.txt and colormap.txt.", required=True)
flags.DEFINE_integer("colours", 167, "Palette size (k of k-means).", lower_bound=2, upper_bound=256)
flags.DEFINE_integer("size", 20, "Target side length.", lower_bound=1)
flags.DEFINE_enum("mode", "crop", ["crop", "resize"], "Centre-crop to --size, or resize the whole sprite.")
flags.DEFINE_integer("seed", 0, "k-means seed.")
flags.DEFINE_string("compare_to", None, "Folder with a reference pixel_color.txt/colormap.txt.")


def main(argv):
    del argv
    result = quantize.quantize_folder(FLAGS.images, FLAGS.out, FLAGS.colours, FLAGS.size, FLAGS.mode, FLAGS.seed)
    report = {"quantize": quantize.dataclasses.asdict(result)}
    print(
        f"wrote {result.num_images} sprites, {result.num_colours} colours, to {FLAGS.out}; "
        f"mean RGB distance to the source crops {result.error_vs_source:.2f}"
    )
    if FLAGS.compare_to:
        report["compare"] = quantize.compare(FLAGS.out, FLAGS.compare_to)
        print(f"vs {FLAGS.compare_to}: {report['compare']}")
    print(json.dumps(report))


def run():
    """Entry point of the `tfgen-quantize` console script."""
    cli.run(main)


if __name__ == "__main__":
    run()
