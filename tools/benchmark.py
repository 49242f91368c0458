"""Speed of a model against baselines measured in the same run.

    python tools/benchmark.py --model=pixelrnn

Prints a table and, as the last line, one JSON object with the same figures:
training examples/s (and a plain keras.layers.LSTM twin's), achieved GFLOP/s
against this machine's float32 matmul rate, sampling images/s of the
state-carrying sampler and of the naive one that re-runs the whole prefix.

    python tools/benchmark.py --notraining --architectures=row_lstm,diagonal_bilstm,pixelcnn

compares the PixelRNN paper's architectures on the binarized-MNIST shape in
one table: training examples/s and GFLOP/s against the matmul rate, plain
and cached sampling images/s (`--nosampling`: training only, a minute
instead of several). The fraction of the matmul rate is the median over
`--pairs` timings, each divided by a matmul probe run just before it: on a
shared machine the probe alone swings by 2x within minutes.

    python tools/benchmark.py --notraining --latent=draw,draw:no_attention

puts latent-variable models (DRAW, the autoencoder) beside the VAE on the
same shape: training examples/s and sampling images/s, and their ratios to
the VAE's.

    python tools/benchmark.py --model=wavenet

WaveNet on 1-second 8 kHz windows: training samples/s, and generation
samples/s at batch 1 of the queue sampler (XLA-compiled and not), the naive
sampler (the baseline),
the SavedModel and each TFLite variant, with their real-time factors.

    python tools/benchmark.py --notraining --adversarial=dcgan,gran,gran:steps=5

times the GANs' train step (`default` configs, binarized-MNIST shape) with
the generator's pass shared between the discriminator's and the generator's
updates (`reuse_fakes`) against fresh fakes for each (the baseline).

    python tools/benchmark.py --notraining --browser=runs/diagonal_bilstm-pokemon-pokemon/export

samples from a TFLite export in the browser page (headless Chromium, as
tools/web.py serves it) and with ai-edge-litert, the baseline: images/s at
batch 1 and 16 (needs `npm ci --prefix web` and Debian's chromium).
"""

import json

from absl import app, flags

from tfgen import cli, registry
from tfgen.benchmark import (
    adversarial,
    architectures,
    audio,
    autoregressive,
    export_latency,
    latent,
    strategies,
    timing,
)

FLAGS = flags.FLAGS
flags.DEFINE_enum("model", "pixelrnn", registry.names(), "Registered model.")
flags.DEFINE_string("config", "default", "Model config.")
flags.DEFINE_integer("train_batch", 64, "Training batch size.", lower_bound=1)
flags.DEFINE_integer("sample_batch", 16, "Sampling batch size.", lower_bound=1)
flags.DEFINE_integer("repeats", 5, "Timed repetitions (median).", lower_bound=1)
flags.DEFINE_integer(
    "pairs",
    3,
    "Training against the matmul rate: timings of --repeats steps, each after its own matmul probe "
    "(--adversarial: alternated rounds of both steps).",
    lower_bound=1,
)
flags.DEFINE_bool("sampling", True, "For --architectures: time the samplers too (the plain ones take minutes).")
flags.DEFINE_bool("training", True, "Benchmark training and sampling against the baselines.")
flags.DEFINE_bool("export", False, "Benchmark SavedModel/TFLite sampling latency and sizes.")
flags.DEFINE_string("workdir", None, "For --export: a trained workdir (real weights, its dataset's images).")
flags.DEFINE_bool("strategies", False, "Benchmark training throughput per strategy, precision and XLA.")
flags.DEFINE_list("configs", ["default"], "For --strategies: model configs to run.")
flags.DEFINE_string(
    "dataset", None, "Dataset for --strategies (default: each config's own) and --export without --workdir."
)
flags.DEFINE_string("data_dir", None, "The dataset's --data_dir (--strategies, --export).")
flags.DEFINE_integer("steps", 20, "For --strategies: steps per run.", lower_bound=1)
flags.DEFINE_string(
    "browser",
    None,
    "A TFLite export (as tools/web.py's --export_dir): sampling in headless Chromium vs ai-edge-litert.",
)
flags.DEFINE_list("architectures", [], "Models to compare on the binarized-MNIST shape (28x28, 2 values), one table.")
flags.DEFINE_list(
    "adversarial",
    [],
    "GANs to time with and without reuse_fakes on the binarized-MNIST shape, each as model or model:name=value "
    "(one constructor override; --config picks the config, --pairs the alternated rounds).",
)
flags.DEFINE_list(
    "latent", [], "Latent-variable models (model or model:config) to compare with the VAE on the binarized-MNIST shape."
)


def main(argv):
    del argv
    figures = {}
    if FLAGS.training:
        figures.update(
            audio_benchmark() if registry.get(FLAGS.model).default_dataset == "speech" else training_and_sampling()
        )
    if FLAGS.export:
        figures.update(export_benchmark())
    if FLAGS.strategies:
        figures.update(strategies_benchmark())
    if FLAGS.architectures:
        figures.update(architectures_benchmark())
    if FLAGS.latent:
        figures.update(latent_benchmark())
    if FLAGS.adversarial:
        figures.update(adversarial_benchmark())
    if FLAGS.browser:
        figures.update(browser_benchmark())
    print(json.dumps(figures))


def browser_benchmark():
    from tfgen.benchmark import browser

    rows, what = browser.browser_rows(FLAGS.browser, repeats=FLAGS.repeats)
    print(f"sampling {what} in the browser page (LiteRT.js, WebAssembly) against ai-edge-litert (baseline):")
    print(timing.table(rows, browser.COLUMNS))
    return {"browser": rows}


def architectures_benchmark():
    unknown = set(FLAGS.architectures) - set(registry.names())
    if unknown:
        raise app.UsageError(f"unknown models {sorted(unknown)}; registered: {', '.join(registry.names())}")
    rows = architectures.architecture_rows(
        FLAGS.architectures,
        FLAGS.config,
        train_batch=FLAGS.train_batch,
        sample_batch=FLAGS.sample_batch,
        repeats=FLAGS.repeats,
        pairs=FLAGS.pairs,
        sampling=FLAGS.sampling,
    )
    sampling = f", sampling (batch {FLAGS.sample_batch})" if FLAGS.sampling else ""
    print(
        f"architectures ({FLAGS.config} configs) on 28x28 binary images: training (batch {FLAGS.train_batch}, "
        f"fraction of the matmul rate: median over {FLAGS.pairs} paired timings){sampling}:"
    )
    print(timing.table(rows, architectures.COLUMNS))
    return {"architectures": rows}


def latent_benchmark():
    entries = [tuple(e.split(":", 1)) if ":" in e else (e, "default") for e in FLAGS.latent]
    unknown = {name for name, _ in entries} - set(registry.names())
    if unknown:
        raise app.UsageError(f"unknown models {sorted(unknown)}; registered: {', '.join(registry.names())}")
    rows = latent.latent_rows(
        entries, train_batch=FLAGS.train_batch, sample_batch=FLAGS.sample_batch, repeats=FLAGS.repeats
    )
    print(
        f"latent models on 28x28 binary images against the VAE (default config): training "
        f"(batch {FLAGS.train_batch}), sampling (batch {FLAGS.sample_batch}):"
    )
    print(timing.table(rows, latent.COLUMNS))
    return {"latent": rows}


def adversarial_benchmark():
    rows = adversarial.adversarial_rows(
        FLAGS.adversarial, config=FLAGS.config, batch_size=FLAGS.train_batch, repeats=FLAGS.repeats, rounds=FLAGS.pairs
    )
    print(
        f"adversarial models ({FLAGS.config} configs) on 28x28 binary images: train step at batch {FLAGS.train_batch}, "
        f"fresh fakes for each update (baseline) against the generator's pass reused, median of {FLAGS.pairs} "
        "alternated rounds:"
    )
    print(timing.table(rows, adversarial.COLUMNS))
    return {"adversarial": rows}


def strategies_benchmark():
    dataset_args = strategies.dataset_args(FLAGS.dataset, FLAGS.data_dir)
    rows = strategies.table_rows(FLAGS.model, FLAGS.configs, dataset_args, FLAGS.steps)
    print(
        f"training throughput, {FLAGS.model}, {FLAGS.steps} steps per run "
        "(baseline per config: default strategy, float32, no XLA):"
    )
    columns = ["config", "dataset", "strategy", "precision/XLA", "examples_per_s", "vs_default_float32", "error"]
    print(timing.table(rows, columns))
    return {"strategies": rows}


def export_benchmark():
    from tfgen.data import datasets, load
    from tfgen.training import workdir as wd

    if FLAGS.workdir:
        model, run, _ = wd.load_model(FLAGS.workdir)
        images = next(load(run.dataset, "validation", run.data_dir)[0].batch(16).as_numpy_iterator())
    else:  # random weights: latency and sizes only; the exercise's shape for autoregressive models
        entry = registry.get(FLAGS.model)
        if entry.family == "autoregressive":
            spec = autoregressive.POKEMON_SHAPE
        else:
            spec = datasets.spec(FLAGS.dataset or entry.default_dataset, FLAGS.data_dir)
        model = entry.build(spec, FLAGS.config)
        run = wd.Run(FLAGS.model, FLAGS.config, {}, spec.name, None, spec, 0)
        images = None
    latency, sizes = export_latency.export_rows(model, run, repeats=FLAGS.repeats, eval_images=images)
    print(f"sampling latency of the exports ({run.model}/{run.config_name}, {run.data_spec.image_shape}):")
    print(timing.table(latency, ["runtime", "batch", "ms", "images_per_s"]))
    print("artifact sizes and log_prob drift of the quantised TFLite variants (mean over 16 images):")
    print(timing.table(sizes, ["artifact", "bytes", "mean_log_prob", "drift_vs_float32"]))
    return {"export_latency": latency, "export_sizes": sizes}


def audio_benchmark():
    matmul = timing.matmul_gflops()
    train = audio.training_rate(FLAGS.config, batch_size=8, repeats=FLAGS.repeats)
    rows, facts = audio.generation_rows(FLAGS.config, repeats=FLAGS.repeats)
    print(f"{FLAGS.model}/{FLAGS.config}: float32 matmul {matmul:.0f} GFLOP/s on this machine")
    print(f"training: {train['train_samples_per_s']:.0f} samples/s (batch 8 of 1-second windows)")
    print(
        f"generation at batch 1, 8 kHz (receptive field {facts['receptive_field']} samples; "
        f"queue and naive samplers give the same samples: {facts['same_samples']}):"
    )
    print(timing.table(rows, audio.COLUMNS))
    return {"matmul_gflops": matmul, **train, "generation": rows, **facts}


def training_and_sampling():
    spec = autoregressive.POKEMON_SHAPE
    train = autoregressive.training_rate(
        FLAGS.model, FLAGS.config, spec, FLAGS.train_batch, FLAGS.repeats, pairs=FLAGS.pairs
    )
    sample = autoregressive.sampling_rate(FLAGS.model, FLAGS.config, spec, FLAGS.sample_batch)
    row = {
        "model": FLAGS.model,
        "config": FLAGS.config,
        "shape": "20x20x1, 167 classes",
        **train,
        "train_vs_plain_keras": train.get("examples_per_s", 0) / train["plain_keras_examples_per_s"]
        if "plain_keras_examples_per_s" in train
        else None,
        **sample,
        "sample_vs_naive": sample["sample_images_per_s"] / sample["naive_images_per_s"],
        "xla_vs_naive": sample["xla_sample_images_per_s"] / sample["naive_images_per_s"],
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
                "fraction_range",
            ],
        )
    )
    print(
        timing.table(
            [row],
            [
                "model",
                "sample_images_per_s",
                "xla_sample_images_per_s",
                "naive_images_per_s",
                "sample_vs_naive",
                "xla_vs_naive",
                "same_samples",
            ],
        )
    )
    return {"training_and_sampling": row}


def run():
    """Entry point of the `tfgen-benchmark` console script."""
    cli.run(main)


if __name__ == "__main__":
    run()
