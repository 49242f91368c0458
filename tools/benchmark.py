"""Speed of a model against baselines measured in the same run.

    python tools/benchmark.py --model=pixelrnn

Prints a table and, as the last line, one JSON object with the same figures:
training examples/s (and a plain keras.layers.LSTM twin's), achieved GFLOP/s
against this machine's float32 matmul rate, sampling images/s of the
state-carrying sampler and of the naive one that re-runs the whole prefix.
"""

import json

from absl import app, flags

from tfgen import registry
from tfgen.benchmark import autoregressive, timing

FLAGS = flags.FLAGS
flags.DEFINE_enum("model", "pixelrnn", registry.names(), "Registered model.")
flags.DEFINE_string("config", "default", "Model config.")
flags.DEFINE_integer("train_batch", 64, "Training batch size.")
flags.DEFINE_integer("sample_batch", 16, "Sampling batch size.")
flags.DEFINE_integer("repeats", 5, "Timed repetitions (median).")


def main(argv):
    del argv
    spec = autoregressive.POKEMON_SHAPE
    matmul = timing.matmul_gflops()
    train = autoregressive.training_rate(FLAGS.model, FLAGS.config, spec, FLAGS.train_batch, FLAGS.repeats)
    sample = autoregressive.sampling_rate(FLAGS.model, FLAGS.config, spec, FLAGS.sample_batch)
    row = {
        "model": FLAGS.model,
        "config": FLAGS.config,
        "shape": "20x20x1, 167 classes",
        "matmul_gflops": matmul,
        **train,
        "train_vs_plain_keras": train.get("examples_per_s", 0) / train["plain_keras_examples_per_s"]
        if "plain_keras_examples_per_s" in train
        else None,
        "fraction_of_matmul": train["gflops"] / matmul,
        **sample,
        "sample_vs_naive": sample["sample_images_per_s"] / sample["naive_images_per_s"],
    }
    print(f"training (batch {FLAGS.train_batch}) and sampling (batch {FLAGS.sample_batch}):")
    print(
        timing.table(
            [row],
            [
                "model",
                "config",
                "examples_per_s",
                "plain_keras_examples_per_s",
                "train_vs_plain_keras",
                "gflops",
                "matmul_gflops",
                "fraction_of_matmul",
            ],
        )
    )
    print(
        timing.table(
            [row],
            [
                "model",
                "sample_images_per_s",
                "naive_images_per_s",
                "sample_vs_naive",
                "same_samples",
            ],
        )
    )
    print(json.dumps(row))


if __name__ == "__main__":
    app.run(main)
