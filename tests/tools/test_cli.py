"""The CLIs end to end in subprocesses, with tiny configs and real files."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from tests.helpers import run_tool, write_sprites

TRAIN_FILES = ("run.json", "summary.json", "samples.png", "completions.png", "checkpoints/checkpoint")


def test_train_writes_every_artifact(tiny_workdir):
    for name in TRAIN_FILES:
        assert (tiny_workdir / name).is_file(), name
    # Training exports by default: a served SavedModel and the TFLite files, version 1.
    assert (tiny_workdir / "export" / "pixelrnn" / "1" / "saved_model.pb").is_file()
    assert (tiny_workdir / "export" / "tflite" / "pixelrnn" / "1" / "float32.tflite").is_file()
    assert list((tiny_workdir / "logs" / "train").glob("events.out.tfevents.*"))
    # A grid of samples from fixed noise was logged at the epoch end (4 steps < one epoch: the run's end).
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tiny_workdir / "logs" / "samples"), size_guidance={"tensors": 0})
    events.Reload()
    assert "samples" in events.Tags()["tensors"]
    run = json.loads((tiny_workdir / "run.json").read_text())
    assert run["model"] == "pixelrnn" and run["dataset"] == "digits"
    # Pictures are enlarged RGB a person can see: 8x8 digits at 10x.
    samples = np.asarray(Image.open(tiny_workdir / "samples.png"))
    assert samples.ndim == 3 and samples.shape[2] == 3 and samples.shape[0] >= 4 * 80
    sheet = np.asarray(Image.open(tiny_workdir / "completions.png"))
    assert sheet.shape[1] > sheet.shape[0] / 8 * 4  # five columns per row


def test_rerun_resumes_and_extends(tiny_workdir, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(tiny_workdir, workdir)  # the shared workdir stays at step 4
    args = ["--model=pixelrnn", "--config=tiny", f"--workdir={workdir}", "--steps=6", "--tflite_variants=float32"]
    proc = run_tool("train", *args)
    assert "resumed from" in proc.stdout and "at step 4" in proc.stdout
    assert json.loads((workdir / "summary.json").read_text())["steps"] == 6
    assert "exported version 2" in proc.stdout
    # The export of this run has the one TFLite variant the flag asked for; version 1 keeps its three.
    assert [p.name for p in (workdir / "export" / "tflite" / "pixelrnn" / "2").glob("*.tflite")] == ["float32.tflite"]
    assert len(list((workdir / "export" / "tflite" / "pixelrnn" / "1").glob("*.tflite"))) == 3


def test_evaluate_prints_json_last(tiny_workdir):
    proc = run_tool("evaluate", f"--workdir={tiny_workdir}", "--split=validation")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["dataset"] == "digits" and result["split"] == "validation"
    assert result["num_examples"] == 179
    assert "samples" not in result  # a likelihood model scores samples only when asked (--samples)
    # What training reported for the same checkpoint (tests/evaluation/test_likelihood.py checks the
    # evaluator against log_prob itself), below the uniform model's 64 ln 17 = 181.3 nats.
    summary = json.loads((tiny_workdir / "summary.json").read_text())
    np.testing.assert_allclose(result["nll_nats_per_image"], summary["validation"]["nll"], rtol=1e-6)
    assert result["nll_nats_per_image"] < 64 * np.log(17)
    np.testing.assert_allclose(result["bits_per_dim"], result["nll_nats_per_image"] / (64 * np.log(2)), rtol=1e-6)


def test_evaluate_other_pokemon_file_with_split_all(tiny_workdir, tmp_path, pokemon_dir):
    # A model trained on digits cannot score 20x20 sprites: a clear refusal (the CLI's one-line form of
    # such errors is tests/tools/test_error_contract.py's).
    from tfgen.errors import InvalidArgumentError
    from tfgen.evaluation import likelihood

    with pytest.raises(InvalidArgumentError, match="was trained on digits"):
        likelihood.evaluate_workdir(tiny_workdir, "pokemon", str(pokemon_dir), "all")


def test_sample_and_complete(tiny_workdir, tmp_path):
    from tfgen import sampling

    run_tool("sample", f"--workdir={tiny_workdir}", "--num=5", "--seed=3", f"--out={tmp_path / 'a.png'}")
    sampling.sample_workdir(tiny_workdir, tmp_path / "b.png", num=5, seed=3)
    a, b = (np.asarray(Image.open(tmp_path / f)) for f in ("a.png", "b.png"))
    np.testing.assert_array_equal(a, b)  # same seed, same picture
    sampling.sample_workdir(tiny_workdir, tmp_path / "c.png", num=3, cover=0.75)
    assert (tmp_path / "c.png").is_file()


def test_pokemon_tiny_training_run(tmp_path, pokemon_dir):
    workdir = tmp_path / "poke"
    run_tool(
        "train",
        "--model=pixelrnn",
        "--config=tiny",
        "--dataset=pokemon",
        f"--data_dir={pokemon_dir}",
        f"--workdir={workdir}",
        "--steps=2",
        "--noexport",
        "--flip",  # sprites face either way: mirrored ones are valid training examples
    )
    from tfgen.evaluation import likelihood

    result = likelihood.evaluate_workdir(workdir, split="all")
    assert result["num_examples"] == 742 and result["split"] == "all"


def test_quantize_cli(tmp_path):
    from tfgen.data import quantize

    write_sprites(tmp_path / "sprites", n=6, size=8)
    quantize.quantize_folder(tmp_path / "sprites", tmp_path / "fewer", num_colours=3, size=6)
    proc = run_tool(
        "quantize",
        f"--images={tmp_path / 'sprites'}",
        f"--out={tmp_path / 'q'}",
        "--colours=5",
        "--size=6",
        f"--compare_to={tmp_path / 'fewer'}",
    )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["quantize"]["num_images"] == 6
    # The CLI reports the library's comparison of its output with another quantisation (3 colours: not 0).
    assert report["compare"] == quantize.compare(tmp_path / "q", tmp_path / "fewer")
    assert report["compare"]["mean_rgb_distance"] > 0


def test_checkpoint_restores_every_weight(tiny_workdir):
    """A fresh model restored from the last checkpoint scores the validation split as the trained one did."""
    from tfgen import data as tfdata
    from tfgen.training import trainer
    from tfgen.training import workdir as wd

    model, _, step = wd.load_model(tiny_workdir)
    summary = json.loads((tiny_workdir / "summary.json").read_text())
    assert step == summary["steps"] == 4
    val, _ = trainer.evaluate_batches(model, tfdata.load("digits", "validation")[0], 64)
    np.testing.assert_allclose(val["nll"], summary["validation"]["nll"], rtol=1e-6)
    # Untrained weights score differently: the comparison can fail.
    fresh = wd.build_model(wd.read_run(tiny_workdir))
    assert abs(trainer.evaluate_batches(fresh, tfdata.load("digits", "validation")[0], 64)[0]["nll"] - val["nll"]) > 0.1
