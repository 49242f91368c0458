"""Training throughput under each strategy and speed flag, against the default.

Every configuration is a real `tools/train.py` run (separate processes, as a
user would start them) on the same data for the same number of steps; the
throughput is the chief's examples/s over all steps but the first (which
traces and compiles). The baseline is the default strategy in float32
without XLA, measured in the same session.
"""

import json
import sys
import tempfile
from pathlib import Path

from tfgen.training import local_cluster

REPO = Path(__file__).resolve().parents[2]
SETUPS = [
    ("default", []),
    ("mirrored (2 CPU devices)", ["--strategy=mirrored", "--num_cpu_devices=2"]),
    ("multi_worker (2 processes)", ["--strategy=multi_worker"]),
]
FLAGS = [
    ("float32", []),
    ("bf16", ["--mixed_precision"]),
    ("XLA", ["--jit_compile"]),
    ("bf16+XLA", ["--mixed_precision", "--jit_compile"]),
]


def dataset_args(dataset=None, data_dir=None):
    """train.py's data flags: --dataset only when given, so that each config otherwise trains on its own
    dataset (a config may name one: `pokemon`) or else the model's default, as `tools/train.py` resolves it."""
    return ([f"--dataset={dataset}"] if dataset else []) + ([f"--data_dir={data_dir}"] if data_dir else [])


def run_one(model, config, dataset_args, steps, setup_args, flag_args, batch_size=None):
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable,
            str(REPO / "tools" / "train.py"),
            f"--model={model}",
            f"--config={config}",
            *dataset_args,
            f"--steps={steps}",
            "--checkpoint_every=100000",
            "--noexport",
            "--num_previews=0",
            "--quality_samples=0",  # a GAN's per-epoch sample scores would count as training time
            f"--workdir={tmp}/run",
            *setup_args,
            *flag_args,
        ]
        if batch_size:
            command.append(f"--batch_size={batch_size}")
        workers = 2 if "--strategy=multi_worker" in setup_args else 1
        if workers > 1:
            results = local_cluster.run(command, workers, cwd=REPO)
        else:
            import subprocess

            p = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
            results = [(p.returncode, p.stdout, p.stderr)]
        for code, _, err in results:
            if code:
                return {"error": err.strip().splitlines()[-1][:200]}
        return json.loads((Path(tmp) / "run" / "summary.json").read_text())


def table_rows(model, configs, dataset_args, steps):
    rows = []
    for config in configs:
        baseline = None
        for setup, setup_args in SETUPS:
            for flag_name, flag_args in FLAGS:
                summary = run_one(model, config, dataset_args, steps, setup_args, flag_args)
                rate = summary.get("examples_per_s")
                if setup == "default" and flag_name == "float32":
                    baseline = rate
                rows.append(
                    {
                        "config": config,
                        "dataset": summary.get("dataset"),
                        "strategy": setup,
                        "precision/XLA": flag_name,
                        "examples_per_s": rate,
                        "vs_default_float32": rate / baseline if rate and baseline else None,
                        "error": summary.get("error"),
                    }
                )
                print(rows[-1], flush=True)
    return rows
