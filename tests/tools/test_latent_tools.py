"""The latent-model tools end to end, with tiny configs and real data.

Each tool runs once as a subprocess, the way a user runs it; the other cases call the same library
functions in-process (the training CLI has its own tests, and tests/tools/test_error_contract.py runs
every tool's error paths).
"""

import json

import numpy as np
import pytest
from PIL import Image

from tests.helpers import run_tool
from tfgen import registry
from tfgen.evaluation import latent
from tfgen.training import trainer


def last_json(proc):
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def image_workdirs(tmp_path_factory):
    """A tiny VAE and a tiny autoencoder with 2-D codes trained a few steps on the embedded digits."""
    root = tmp_path_factory.mktemp("latent")
    out = {}
    for name in ("autoencoder", "vae"):
        workdir = root / name
        options = trainer.TrainOptions(
            model=name,
            config="tiny",
            dataset="digits",
            workdir=str(workdir),
            steps=3,
            export=name == "vae",  # exporting is tested at length elsewhere
            tflite_variants=("float32",),
            verbose=False,
        )
        trainer.train(options)
        out[name] = workdir
    return out


def test_training_writes_latent_pictures(image_workdirs):
    for name, workdir in image_workdirs.items():
        for picture in ("samples", "reconstructions", "interpolations", "midpoints", "code_map"):
            image = np.asarray(Image.open(workdir / f"{picture}.png"))
            assert image.ndim == 3 and image.shape[2] == 3, (name, picture)
    assert (image_workdirs["vae"] / "export" / "vae" / "1" / "saved_model.pb").is_file()
    assert (image_workdirs["vae"] / "export" / "tflite" / "vae" / "1" / "float32.tflite").is_file()


def test_pictures_tool_and_comparison(image_workdirs, tmp_path):
    proc = run_tool(
        "latent_pictures",
        f"--workdir={image_workdirs['autoencoder']}",
        f"--workdir={image_workdirs['vae']}",
        f"--out_dir={tmp_path}",
        "--num_pairs=3",
        "--limit=100",
    )
    assert "comparison.png" in proc.stdout
    for name in ("autoencoder", "vae"):
        assert (tmp_path / name / "interpolations.png").is_file() and (tmp_path / name / "code_map.png").is_file()
    comparison = np.asarray(Image.open(tmp_path / "comparison.png"))
    samples = np.asarray(Image.open(tmp_path / "vae" / "samples.png"))
    assert comparison.shape[1] > comparison.shape[0] and samples.shape[2] == 3  # 4 rows of 9 tiles


def test_evaluate_latent_reports_iwae_and_active_units(image_workdirs):
    proc = run_tool(
        "evaluate_latent",
        f"--workdir={image_workdirs['vae']}",
        "--importance_samples=20",
        "--chunk_size=7",
        "--max_examples=40",
    )
    result = last_json(proc)
    assert result["num_examples"] == 40 and result["importance_samples"] == 20
    assert 0 <= result["active_units"] <= result["latent_dim"] == 3
    # The importance-weighted NLL is an estimate of -log p(x) <= -ELBO (up to noise of the bound).
    assert 0 < result["iwae_nll"] < result["negative_elbo"] + 1.0
    with pytest.raises(ValueError, match="not a VAE"):
        latent.evaluate_latent_workdir(image_workdirs["autoencoder"], num_samples=2)


def test_evaluate_tool_reports_autoencoder_squared_error(image_workdirs):
    from tfgen.evaluation import likelihood

    result = likelihood.evaluate_workdir(image_workdirs["autoencoder"])
    assert result["num_examples"] == 179 and result["squared_error"] > 0 and result["reconstruction"] > 0


def test_pca_baseline_tool():
    from tfgen.evaluation import pca

    full = last_json(run_tool("pca_baseline", "--dataset=digits", "--components=64"))
    some = pca.pca_baseline("digits", components=10)
    assert full["num_examples"] == 179 and full["num_train"] == 1618
    assert full["squared_error"] < 1e-8  # 64 components span the 8x8 images exactly
    assert some["squared_error"] > 0.5 and 0.5 < some["explained_variance"] < 1


@pytest.mark.long
def test_sentence_vae_train_interpolate_and_evaluate(tmp_path, ptb_dir):
    workdir = tmp_path / "svae"
    options = trainer.TrainOptions(
        model="sentence_vae",
        config="tiny",
        dataset="ptb",
        data_dir=str(ptb_dir),
        workdir=str(workdir),
        steps=3,
        export=False,  # the export of text signatures is tested in tests/export and tests/models
        verbose=False,
    )
    trainer.train(options)
    text = (workdir / "sentences.txt").read_text()
    assert "# interpolation" in text and "> " in text
    proc = run_tool(
        "interpolate_sentences",
        f"--workdir={workdir}",
        "--first=the company said it expects to report a loss",
        "--second=shares fell in new york",
        "--steps=4",
        "--beam_width=3",
    )
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 8 and lines[0].startswith("0.00 greedy:") and lines[-1].startswith("     beam 3:")
    from tfgen import sampling

    with pytest.raises(ValueError, match="a sentence is empty"):
        sampling.interpolate_sentences(workdir, "  ", "a")
    result = latent.evaluate_latent_workdir(workdir, num_samples=5, max_examples=16)
    assert result["num_examples"] == 16 and result["perplexity_iwae_nll"] > 1
    assert result["perplexity_negative_elbo"] >= result["perplexity_iwae_nll"] * 0.9


def test_vae_on_pokemon_palette(tmp_path, pokemon_dir):
    """Categorical pixels over the 167-colour palette, on the exercise's sprites."""
    workdir = tmp_path / "poke"
    options = trainer.TrainOptions(
        model="vae",
        config="tiny",
        dataset="pokemon",
        data_dir=str(pokemon_dir),
        workdir=str(workdir),
        steps=2,
        export=False,
        verbose=False,
    )
    trainer.train(options)
    result = latent.evaluate_latent_workdir(workdir, num_samples=4)
    assert result["num_examples"] == 74
    # Two steps from initialisation a categorical model is near uniform: 400 ln 167 = 2045.5 nats per
    # sprite, within 10% (a nats/bits mix-up would be 44% off), and bits/dim is that over 400 ln 2.
    uniform = 400 * np.log(167)
    assert abs(result["iwae_nll"] - uniform) < 0.1 * uniform, result["iwae_nll"]
    np.testing.assert_allclose(result["bits_per_dim_iwae_nll"], result["iwae_nll"] / (400 * np.log(2)), rtol=1e-6)
    assert np.asarray(Image.open(workdir / "samples.png")).shape[2] == 3


def test_draw_on_binarized_mnist_trains_pictures_and_evaluates(tmp_path, tfds_dir):
    """DRAW end to end on the real binarized MNIST: training (pictures of every step), then the
    evaluation behind `tools/evaluate_latent.py`, whose importance-weighted bound draws whole step
    sequences and must equal the estimator run here on the same examples."""
    workdir = tmp_path / "draw"
    options = trainer.TrainOptions(
        model="draw",
        config="tiny",
        data_dir=str(tfds_dir),
        workdir=str(workdir),
        steps=3,
        num_previews=4,
        export=False,
        verbose=False,
    )
    trainer.train(options)
    for picture in ("samples", "reconstructions", "drawing_samples", "drawing_reconstructions"):
        assert np.asarray(Image.open(workdir / f"{picture}.png")).shape[2] == 3, picture
    result = latent.evaluate_latent_workdir(workdir, num_samples=30, batch_size=16, max_examples=12)
    assert result["num_examples"] == 12 and result["importance_samples"] == 30
    tiny = registry.get("draw").config("tiny").model
    assert result["latent_dim"] == tiny["steps"] * tiny["code_size"]
    # The bound sits below the one-sample -ELBO; bits/dim is nats over 784 ln 2.
    assert result["iwae_nll"] < result["negative_elbo"], result
    np.testing.assert_allclose(result["bits_per_dim_iwae_nll"], result["iwae_nll"] / (784 * np.log(2)), rtol=1e-6)

    from tfgen import data as tfdata
    from tfgen.evaluation import importance
    from tfgen.training import workdir as wd

    model, _, _ = wd.load_model(workdir)
    images, _ = tfdata.load("binarized_mnist", "validation", str(tfds_dir))
    batches = list(images.take(12).batch(16))  # the tool's default batch size: the noise depends on it
    estimates = [importance.make_estimator(model, 30)(b) for b in batches]
    np.testing.assert_allclose(result["iwae_nll"], -np.concatenate(estimates).mean(), rtol=1e-5)
    elbo = np.concatenate([model.per_example_metrics(b)["negative_elbo"] for b in batches])
    np.testing.assert_allclose(result["negative_elbo"], elbo.mean(), rtol=1e-5)
