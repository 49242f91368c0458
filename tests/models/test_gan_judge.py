"""The judge's calibration (`calibrate_judge`, `--judge_error`): after the last step, the judge's output
bias is shifted so that it calls a chosen share of the training images fake, and the run keeps it."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgen import data as tfdata
from tfgen import registry
from tfgen.errors import InvalidArgumentError
from tfgen.training import trainer
from tfgen.training import workdir as wd


def digits(split):
    images, spec = tfdata.load("digits", split)
    return np.concatenate(list(images.batch(1000).as_numpy_iterator())), spec


def trained(name="dcgan", steps=6, **overrides):
    """A tiny model a few steps into training on the embedded digits, so its judge's logits spread out."""
    keras.utils.set_random_seed(0)
    images, spec = digits("train")
    model = registry.get(name).build(spec, "tiny", **overrides)
    model.compile(**model.make_optimizers(2e-3))
    for step in range(steps):
        model.train_step(images[8 * step : 8 * step + 8])
    return model


def called_fake(model, images):
    logits = model.discriminate_colours(model.colour_table.lookup(images)).numpy()
    return float(np.mean(logits < model.loss_spec.threshold))


def weights_by_path(model):
    return {v.path: v.numpy().copy() for v in model.weights}


@pytest.mark.parametrize(
    ("name", "overrides"),
    [
        ("dcgan", {}),  # weight averaging: the averaged discriminator judges
        ("dcgan", {"ema_decay": 0.5, "loss": "least_squares"}),  # a threshold of 0.5
        ("gran", {"loss": "hinge"}),
    ],
)
def test_calibrated_judge_calls_the_asked_share_fake_and_nothing_else_moves(name, overrides):
    model = trained(name, **overrides)
    images = digits("validation")[0]  # 179 digits
    before = weights_by_path(model)
    result = model.calibrate_judge(tf.data.Dataset.from_tensor_slices(images), 0.25)
    assert result["num_images"] == len(images) and result["judge_error"] == 0.25
    assert called_fake(model, images) == pytest.approx(0.25, abs=1.5 / len(images))
    assert result["train_error"] == pytest.approx(called_fake(model, images))
    judge_bias = model.average_of(model.discriminator.out.bias)
    after = weights_by_path(model)
    moved = [path for path in before if not np.array_equal(before[path], after[path])]
    assert moved == [judge_bias.path]  # the generators and every trained weight are untouched
    np.testing.assert_allclose(after[judge_bias.path], before[judge_bias.path] + result["bias_change"], rtol=1e-6)
    assert result["bias_change"] != 0.0
    again = model.calibrate_judge(tf.data.Dataset.from_tensor_slices(images), 0.25)
    assert abs(again["bias_change"]) < 1e-5  # a calibrated judge stays put


def test_calibration_needs_a_share_in_0_1_a_threshold_and_weight_averages():
    model = trained(steps=0)
    images = tf.data.Dataset.from_tensor_slices(digits("train")[0][:20])
    for bad in (0.0, 1.0, -0.2, 1.5):
        with pytest.raises(InvalidArgumentError, match=f"judge_error={bad} .*: must be in \\(0, 1\\)"):
            model.calibrate_judge(images, bad)
    critic = trained("dcgan", steps=0, loss="wasserstein")
    with pytest.raises(InvalidArgumentError, match="a wasserstein critic has no real/fake threshold"):
        critic.check_judge_error(0.2)
    # Without averages the judge is the live discriminator, which training reads: calibrating it would
    # change how a run trained on from its checkpoint continues.
    live = trained("dcgan", steps=0, ema_decay=0.0)
    with pytest.raises(InvalidArgumentError, match="ema_decay=0 keeps none; give --judge_error=0"):
        live.calibrate_judge(images, 0.2)


def tiny_run(workdir, **options):
    return trainer.train(
        trainer.TrainOptions(
            model="dcgan", config="tiny", workdir=str(workdir), export=False, num_previews=0, verbose=False, **options
        )
    )


@pytest.mark.parametrize("mixed_precision", [False, True])
def test_training_with_judge_error_keeps_the_calibrated_judge_in_its_checkpoint(tmp_path, mixed_precision):
    """The tools load the judge in float32, so a bfloat16 run's judge is calibrated in float32 too. (Under
    MirroredStrategy: the tiny configs calibrate, tests/training/test_every_train_step.py.)"""
    summary = tiny_run(tmp_path / "run", steps=6, judge_error=0.3, mixed_precision=mixed_precision)
    model, _, step = wd.load_model(tmp_path / "run", checkpoint="latest")
    assert step == 6
    images = digits("train")[0]
    share = called_fake(model, images)
    assert share == round(0.3 * len(images)) / len(images)  # exactly: the threshold lies between two logits
    assert summary["judge"]["train_error"] == pytest.approx(share)
    assert summary["judge"]["num_images"] == len(images)
    # The final validation judged with the calibrated judge.
    assert summary["validation"]["d_error"] == pytest.approx(called_fake(model, digits("validation")[0]), abs=1e-6)
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["judge"] == summary["judge"]


def test_a_finished_run_is_calibrated_by_running_it_again_with_judge_error(tmp_path):
    """The same command with --judge_error on a finished run trains no step, calibrates and saves."""
    plain = tiny_run(tmp_path / "run", steps=8, judge_error=0)  # 0: the config's calibration off
    assert "judge" not in plain
    model, _, _ = wd.load_model(tmp_path / "run", checkpoint="latest")
    images = digits("train")[0]
    assert called_fake(model, images) != pytest.approx(0.2, abs=0.02)  # not calibrated by chance
    again = tiny_run(tmp_path / "run", steps=8, judge_error=0.2)
    assert again["steps_this_run"] == 0
    model, _, step = wd.load_model(tmp_path / "run", checkpoint="latest")
    assert step == 8 and called_fake(model, images) == pytest.approx(0.2, abs=1.5 / len(images))
    assert again["weights_sha256"] != plain["weights_sha256"]


def test_judge_error_is_refused_before_training_for_a_model_without_a_judge(tmp_path):
    with pytest.raises(InvalidArgumentError, match="--judge_error: pixelrnn has no discriminator"):
        trainer.train(
            trainer.TrainOptions(model="pixelrnn", config="tiny", workdir=str(tmp_path / "p"), judge_error=0.2)
        )
    assert not (tmp_path / "p" / "run.json").exists()


def test_the_gan_configs_calibrate_their_judges_unless_told_0(tmp_path):
    for name, config in registry.get("dcgan").configs.items():
        assert config.judge_error == (None if config.model.get("loss") == "wasserstein" else 0.2), name
    for name, config in registry.get("gran").configs.items():
        assert config.judge_error == 0.2, name
    summary = tiny_run(tmp_path / "run", steps=4)
    assert summary["judge"]["judge_error"] == 0.2
    assert json.loads((tmp_path / "run" / "run.json").read_text())["config"]["judge_error"] == 0.2


def test_a_calibrated_run_trained_on_ends_as_one_trained_straight_through(tmp_path):
    """Calibration moves only the averaged bias, which training never reads, and the last step's calibration
    does not depend on the bias it starts from."""
    straight = tiny_run(tmp_path / "straight", steps=8)
    tiny_run(tmp_path / "extended", steps=4)  # calibrated at step 4 ...
    extended = tiny_run(tmp_path / "extended", steps=8)  # ... then trained on
    assert extended["steps_this_run"] == 4
    a, _, _ = wd.load_model(tmp_path / "straight", checkpoint="latest")
    b, _, _ = wd.load_model(tmp_path / "extended", checkpoint="latest")
    for x, y in zip(a.weights, b.weights, strict=True):
        np.testing.assert_allclose(x.numpy(), y.numpy(), atol=1e-5, err_msg=x.path)
    assert straight["judge"]["train_error"] == extended["judge"]["train_error"]
