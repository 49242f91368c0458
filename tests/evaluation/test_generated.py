"""Scoring any family's generated images on the same numbers."""

import json

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import run_tool, tiny
from tfgen.data import DataSpec, colours, datasets
from tfgen.errors import InvalidArgumentError
from tfgen.evaluation import generated
from tfgen.quality import samples
from tfgen.training import trainer


def tiny_run(tmp_path_factory, model, steps):
    workdir = tmp_path_factory.mktemp(model)
    options = trainer.TrainOptions(
        model=model, config="tiny", workdir=str(workdir), steps=steps, export=False, num_previews=4, verbose=False
    )
    trainer.train(options)
    return workdir


@pytest.fixture(scope="module")
def dcgan_workdir(tmp_path_factory):
    return tiny_run(tmp_path_factory, "dcgan", 6)


@pytest.fixture(scope="module")
def pixelrnn_workdir(tmp_path_factory):
    return tiny_run(tmp_path_factory, "pixelrnn", 4)


def check_scores(result, num):
    assert result["num_samples"] == num and result["num_reference"] == num
    for key in ("fid", "kid", "kid_stderr", "precision", "recall", "parzen_log_likelihood", "parzen_sigma"):
        assert np.isfinite(result[key]), key
        assert np.isfinite(result["reference"][key]), key
    assert 0 <= result["precision"] <= 1 and 0 <= result["recall"] <= 1
    # Held-out training images are far closer to the data than a 6-step model's samples.
    assert result["reference"]["fid"] < result["fid"]
    assert result["reference"]["parzen_log_likelihood"] > result["parzen_log_likelihood"]


def test_scores_a_gan(dcgan_workdir):
    result = generated.evaluate_samples(dcgan_workdir, num_samples=120, log=None)
    check_scores(result, 120)
    assert result["dataset"] == "digits" and result["quantized"]


def test_scores_an_autoregressive_model_through_the_same_hook(pixelrnn_workdir):
    result = generated.evaluate_samples(pixelrnn_workdir, num_samples=60, log=None)
    check_scores(result, 60)


def test_samples_are_reproducible_by_seed(dcgan_workdir):
    a = generated.evaluate_samples(dcgan_workdir, num_samples=40, seed=3, parzen=False, log=None)
    b = generated.evaluate_samples(dcgan_workdir, num_samples=40, seed=3, parzen=False, log=None)
    c = generated.evaluate_samples(dcgan_workdir, num_samples=40, seed=4, parzen=False, log=None)
    assert a["fid"] == b["fid"] and a["fid"] != c["fid"]


def test_hook_outputs_are_checked():
    palette = datasets.spec("digits").palette
    ints = np.zeros((2, 8, 8, 1), np.int32)
    assert colours.as_colours(ints, palette).dtype == np.float32
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        colours.as_colours(np.full((2, 8, 8, 1), 1.5, np.float32), palette)
    with pytest.raises(ValueError, match="channels"):
        colours.as_colours(np.zeros((2, 8, 8, 3), np.float32), palette)

    # A model that generates no images (text) says so.
    with pytest.raises(ValueError, match="SentenceVAE does not generate images"):
        samples.generate_colours(tiny("sentence_vae"), 4, 0, palette)


def test_latent_models_generate_what_their_export_samples():
    """A VAE's `generate_images` equals its `sample` signature fed the noise tools/sample.py draws for an export."""
    from tfgen.export import noise

    model = tiny("vae")
    sig = next(s for s in model.signatures() if s.name == model.default_signature)
    request = noise.request_inputs(sig.inputs, 5, 2)
    expected = sig.fn(*[tf.constant(request[i.name]) for i in sig.inputs])["images"].numpy()
    got = model.generate_images(5, 2)
    assert got.shape == (5, *model.image_shape) and got.dtype == np.int32
    np.testing.assert_array_equal(got, expected)
    assert not np.array_equal(got, model.generate_images(5, 3))


@pytest.mark.parametrize("num_classes", [2, 4])
def test_latent_models_draw_pixels_from_their_decoded_distributions(num_classes):
    """pixels="drawn" draws each pixel from the decoder's distribution (Bernoulli or categorical)."""
    palette = np.array([[0, 0, 0], [255, 255, 255], [200, 30, 30], [20, 160, 40]][:num_classes], np.uint8)
    model = tiny("vae", DataSpec("test", (6, 5, 1), num_classes, palette))
    drawn = model.generate_images(6, 2, pixels="drawn")
    assert drawn.shape == (6, 6, 5, 1) and drawn.dtype == np.int32
    assert drawn.min() >= 0 and drawn.max() < num_classes
    np.testing.assert_array_equal(drawn, model.generate_images(6, 2, pixels="drawn"))
    assert not np.array_equal(drawn, model.generate_images(6, 2))  # not the most likely values
    # One code repeated: each pixel's drawn values follow its decoded probabilities.
    n = 4000
    code = model.noise(1, 0)
    probabilities = model.probabilities(model.decode_logits(model.prior_codes(code)))[0].numpy()  # [6, 5, 1, K]
    draws = model._drawn_sample(tf.tile(code, [n, 1]), tf.constant([5, 1])).numpy()
    frequencies = np.stack([(draws == k).mean(axis=0) for k in range(num_classes)], axis=-1)
    np.testing.assert_allclose(frequencies, probabilities, atol=0.04)  # 5 standard errors at n = 4000
    with pytest.raises(InvalidArgumentError, match="pixels must be one of"):
        model.generate_images(2, 0, pixels="mean")


def test_pixels_option_is_refused_for_models_that_draw_whole_images(dcgan_workdir):
    with pytest.raises(InvalidArgumentError, match="--pixels applies to models that decode pixel distributions"):
        generated.evaluate_samples(dcgan_workdir, num_samples=10, parzen=False, log=None, pixels="drawn")


def test_evaluate_cli_scores_a_gans_samples_by_default(dcgan_workdir):
    # A model without a likelihood has only its discriminator's score to report otherwise.
    proc = run_tool("evaluate", f"--workdir={dcgan_workdir}", "--num_samples=50", "--noparzen")
    assert "dcgan has no likelihood: scoring its samples" in proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["model"] == "dcgan" and result["num_examples"] == 179
    assert 0 <= result["d_error"] <= 1
    samples = result["samples"]
    assert samples["num_samples"] == 50 and np.isfinite(samples["fid"]) and "parzen_log_likelihood" not in samples
