"""Sentences decoded between the codes of two sentences ("writing poetry").

    python tools/interpolate_sentences.py --workdir=runs/sentence_vae-default-ptb \
        --first="the company said it expects to report a loss" \
        --second="the stock market fell sharply in new york" --steps=7 --beam_width=5

Prints, for evenly spaced fractions from 0 (first) to 1 (second), the greedy
and the beam-search decoding of the point between the two posterior means.
Unknown words become <unk>; an empty sentence is an error.
"""

from absl import flags

from tfgen import cli, sampling
from tfgen.models.sentence_vae import sentence_decoding

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "Workdir of a trained sentence_vae.", required=True)
flags.DEFINE_string("first", None, "The sentence at fraction 0.", required=True)
flags.DEFINE_string("second", None, "The sentence at fraction 1.", required=True)
flags.DEFINE_integer("steps", 7, "Points from 0 to 1, both included.")
flags.DEFINE_integer("beam_width", 5, "Hypotheses kept by beam search.")


def main(argv):
    del argv
    rows = sampling.interpolate_sentences(FLAGS.workdir, FLAGS.first, FLAGS.second, FLAGS.steps, FLAGS.beam_width)
    print(sentence_decoding.format_rows(rows, FLAGS.beam_width))


def run():
    """Entry point of the `tfgen-interpolate-sentences` console script."""
    cli.run(main)


if __name__ == "__main__":
    run()
