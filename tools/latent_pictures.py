"""Pictures of trained autoencoder / VAE workdirs (code grid, code map, interpolations).

    python tools/latent_pictures.py --workdir=runs/vae-conv_2d-binarized_mnist --out_dir=pictures/vae_2d
    python tools/latent_pictures.py --workdir=runs/autoencoder-default-binarized_mnist \
        --workdir=runs/vae-default-binarized_mnist --out_dir=pictures/compare

For each workdir: samples.png (decoded random codes), reconstructions.png,
interpolations.png (image, 10 points between the two codes, image),
midpoints.png, code_map.png (validation codes in 2-D) and, for a 2-D code,
code_grid.png (decoder over -1.5..1.5 on both axes), in <out_dir>/<workdir name>/.
With several workdirs, comparison.png shows per model (in the order given)
a row of random-code decodings and a row of (image, midpoint, image) triples.
"""

from pathlib import Path

from absl import flags

from tfgen import cli, sampling
from tfgen.data import datasets

FLAGS = flags.FLAGS
flags.DEFINE_multi_string("workdir", None, "Workdir of a trained autoencoder or VAE (repeatable).", required=True)
flags.DEFINE_string("out_dir", "pictures", "Where the PNGs go.")
flags.DEFINE_string("split", "validation", "Split the images come from: " + datasets.SPLIT_HELP + ".")
flags.DEFINE_integer("num_pairs", 8, "Image pairs for interpolations and midpoints.", lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of the random codes.")
flags.DEFINE_integer("limit", None, "Encode at most this many images for the code map.")


def main(argv):
    del argv
    written = sampling.write_latent_pictures(
        FLAGS.workdir, Path(FLAGS.out_dir), FLAGS.split, FLAGS.num_pairs, FLAGS.seed, FLAGS.limit
    )
    for path in written:
        print(f"wrote {path}")


def run():
    """Entry point of the `tfgen-latent-pictures` console script."""
    cli.run(main)


if __name__ == "__main__":
    run()
