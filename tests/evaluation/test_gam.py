"""GAM battles: the verdict rule by hand, and battles whose outcome is known."""

import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import run_tool
from tfgen import data as tfdata
from tfgen import registry
from tfgen.data import colours, pipeline
from tfgen.errors import InvalidArgumentError
from tfgen.evaluation import gam
from tfgen.quality import features
from tfgen.training import trainer
from tfgen.training.trainer import default_optimizers


def test_verdict_by_hand():
    assert gam.verdict(1.05, 0.8) == "a"  # D_a errs less on G_b than D_b on G_a
    assert gam.verdict(0.95, 1.2) == "b"
    assert gam.verdict(1.0, 1.0) == "tie"
    assert gam.verdict(1.2, 0.5) == "none"  # the judges are not comparable
    assert gam.verdict(0.85, 0.5, tolerance=0.1) == "none" and gam.verdict(0.85, 0.5, tolerance=0.2) == "a"
    assert gam.verdict(math.nan, 0.5) == "none" and gam.verdict(1.0, math.nan) == "none"
    assert gam.verdict(1.0, math.inf) == "b"  # G_a never fools D_b, G_b sometimes fools D_a


def test_ratio_of_zero_error_rates():
    assert gam.ratio(0.2, 0.1) == 2.0
    assert gam.ratio(0.1, 0.0) == math.inf and math.isnan(gam.ratio(0.0, 0.0))


def trained_dcgan(steps, seed=0, **overrides):
    images, spec = tfdata.load("digits", "train")
    keras.utils.set_random_seed(seed)
    model = registry.get("dcgan").build(spec, "tiny", **overrides)
    model.compile(**default_optimizers(model, registry.get("dcgan").config("tiny").learning_rate))
    step = tf.function(model.train_step, autograph=False)
    done, epoch = 0, 0
    while done < steps:
        for batch in pipeline.train_batches(images.cache(), 8, seed=0, epoch=epoch):
            step(batch)
            done += 1
            if done == steps:
                break
        epoch += 1
    return model, spec


@pytest.fixture(scope="module")
def judged():
    """A tiny DCGAN trained 400 steps on digits, and the validation split as colours."""
    model, spec = trained_dcgan(400)
    images, _ = tfdata.load("digits", "validation")
    test = colours.to_colours(np.concatenate(list(images.batch(500).as_numpy_iterator())), spec.palette)
    return model, spec, test


def test_a_model_against_itself_is_a_tie(judged):
    model, _, test = judged
    result = gam.battle_models(model, model, test, num_samples=200)
    assert 0 < result["err_a_test"] < 1 and 0 < result["err_a_on_samples_a"] < 1
    assert result["r_test"] == 1.0 and result["r_sample"] == 1.0 and result["winner"] == "tie"
    # The test error is the validation metric the trainer reports (`d_error`), computed another way.
    images, _ = tfdata.load("digits", "validation")
    d_error, count = trainer.evaluate_batches(model, images, 64)
    assert count == len(test)
    np.testing.assert_allclose(result["err_a_test"], d_error["d_error"], atol=1e-9)


def test_a_trained_generator_beats_an_untrained_one_before_the_same_judge(judged):
    trained, spec, test = judged
    keras.utils.set_random_seed(1)
    fresh = registry.get("dcgan").build(spec, "tiny")
    # The same discriminator (and its weight averages, which judge) on both
    # sides, so r_test = 1 exactly and only the generators differ.
    for mine, theirs in zip(fresh.discriminator.weights, trained.discriminator.weights):
        mine.assign(theirs)
        fresh.average_of(mine).assign(trained.average_of(theirs))
    result = gam.battle_models(trained, fresh, test, num_samples=200)
    assert result["r_test"] == 1.0
    # The judge has learned to call a fresh generator's blobs fake.
    assert result["err_a_on_samples_b"] < result["err_b_on_samples_a"]
    assert result["r_sample"] < 1 and result["winner"] == "a"
    swapped = gam.battle_models(fresh, trained, test, num_samples=200)
    assert swapped["r_sample"] == gam.ratio(result["err_b_on_samples_a"], result["err_a_on_samples_b"])
    assert swapped["winner"] == "b"
    assert "winner: a" in gam.table(result)


def test_the_judge_is_the_averaged_or_the_live_discriminator(judged):
    """A weight-averaged model has two discriminators; `judge` picks which one's errors the table holds."""
    model, _, test = judged
    assert model.ema_decay > 0 and model.loss_spec.threshold == 0.0
    n = 100
    live_logits = model.discriminate(tf.constant(test) * 2.0 - 1.0, averaged=False).numpy()
    live = gam.battle_models(model, model, test, n, judge="live")
    assert live["judge"] == "live" and live["err_a_test"] == np.mean(live_logits < 0.0)
    # Shift the averaged judge's last bias far up: it calls every image real, the live one is unchanged.
    bias = model.discriminator.weights[-1]
    average = model.average_of(bias)
    average.assign_add([50.0])
    try:
        averaged = gam.battle_models(model, model, test, n)
        again = gam.battle_models(model, model, test, n, judge="live")
    finally:
        average.assign_add([-50.0])
    assert averaged["judge"] == "averaged"
    assert averaged["err_a_test"] == 0.0 and averaged["err_a_on_samples_a"] == 1.0
    assert {k: again[k] for k in live if k.startswith("err")} == {k: live[k] for k in live if k.startswith("err")}
    assert live["err_a_on_samples_a"] < 1.0
    with pytest.raises(InvalidArgumentError, match="unknown judge 'best'; choose from averaged, live"):
        gam.battle_models(model, model, test, n, judge="best")


def test_wasserstein_critic_threshold_is_calibrated(judged):
    _, spec, test = judged
    critic, _ = trained_dcgan(20, loss="wasserstein")
    assert critic.loss_spec.threshold is None
    t = gam.threshold(critic, test, 100, seed=0)
    real = critic.discriminate_colours(test[:100]).numpy()
    fake = critic.discriminate_colours(critic.generate_images(100, 3)).numpy()
    assert fake.mean() < t < real.mean()  # between what the critic gives fakes and real images
    # A critic's output has no fixed zero: an offset on it moves the threshold by the same amount,
    # so the verdicts do not depend on it.
    bias = critic.discriminator.weights[-1]
    assert bias.shape == (1,)
    for variable in (bias, critic.average_of(bias)):
        if variable is not None:
            variable.assign_add([5.0])
    assert gam.threshold(critic, test, 100, seed=0) == pytest.approx(t + 5.0, abs=1e-3)


def test_matched_operating_points_make_a_miscalibrated_judge_comparable(judged):
    """`operating_point` sets each judge's threshold on training images, so a constant offset on one judge's
    logits (which the loss's own threshold would read as calling every image real) changes nothing."""
    model, spec, test = judged
    train, _ = features.load_colours("digits", "train")
    # The threshold is the quantile: the judge calls that share of the training images fake.
    t = gam.threshold(model, train, len(train), seed=0, operating_point=0.25)
    logits = model.discriminate_colours(train).numpy()
    assert abs(np.mean(logits < t) - 0.25) <= 1.0 / len(train)
    assert gam.threshold(model, train, len(train), 0, "live", 0.25) != t  # the live judge has its own logits

    keras.utils.set_random_seed(1)
    twin = registry.get("dcgan").build(spec, "tiny")
    for net in ("generator", "discriminator"):
        for mine, theirs in zip(getattr(twin, net).weights, getattr(model, net).weights):
            mine.assign(theirs)
            if model.average_of(theirs) is not None:
                twin.average_of(mine).assign(model.average_of(theirs))
    twin.average_of(twin.discriminator.weights[-1]).assign_add([50.0])  # b's judge now calls every image real

    plain = gam.battle_models(model, twin, test, 200, train_colours=train)
    assert plain["err_b_test"] == 0.0 and plain["r_test"] == math.inf and plain["winner"] == "none"
    matched = gam.battle_models(model, twin, test, 200, train_colours=train, operating_point=0.25)
    assert matched["threshold_b"] == pytest.approx(matched["threshold_a"] + 50.0, abs=1e-3)
    assert 0 < matched["err_a_test"] < 1
    assert matched["err_b_test"] == pytest.approx(matched["err_a_test"], abs=0.01)
    assert matched["r_sample"] == pytest.approx(1.0, abs=0.05) and matched["winner"] in ("a", "b", "tie")
    assert matched["operating_point"] == 0.25 and plain["operating_point"] is None
    assert "thresholds: each judge calls 25.0% of the training images fake" in gam.table(matched)
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(InvalidArgumentError, match=f"operating_point must be in \\(0, 1\\), got {bad}"):
            gam.battle_models(model, twin, test, 200, train_colours=train, operating_point=bad)


def tiny_workdir_of(tmp_path_factory, model, steps=10):
    workdir = tmp_path_factory.mktemp(model)
    trainer.train(
        trainer.TrainOptions(
            model=model, config="tiny", workdir=str(workdir), steps=steps, export=False, num_previews=0, verbose=False
        )
    )
    return workdir


def test_battle_cli_between_dcgan_and_gran_and_refusals(tmp_path_factory):
    a, b = tiny_workdir_of(tmp_path_factory, "dcgan"), tiny_workdir_of(tmp_path_factory, "gran")
    proc = run_tool("battle", f"--a={a}", f"--b={b}", "--num_samples=100", "--judge=live", "--operating_point=0.2")
    lines = proc.stdout.strip().splitlines()
    result = json.loads(lines[-1])
    assert result["num_test"] == 179 and result["num_samples"] == 100
    assert result["judge"] == "live" and "judges: each model's live discriminator" in lines
    assert result["operating_point"] == 0.2
    assert "thresholds: each judge calls 20.0% of the training images fake" in lines
    for key in ("err_a_test", "err_b_test", "err_a_on_samples_b", "err_b_on_samples_a"):
        assert 0 <= result[key] <= 1, key
    np.testing.assert_equal(result["r_test"], gam.ratio(result["err_a_test"], result["err_b_test"]))  # nan == nan
    assert result["winner"] == gam.verdict(result["r_test"], result["r_sample"], result["tolerance"])
    assert any(line.startswith("r_test") for line in lines) and any(line.startswith("r_sample") for line in lines)
    assert result["a"].startswith("dcgan/tiny") and result["b"].startswith("gran/tiny")

    default = gam.battle(a, b, num_samples=20)
    assert default["judge"] == "averaged" and default["operating_point"] is None  # the defaults
    assert default["threshold_a"] == default["threshold_b"] == 0.0
    assert default["judge_errors"] == [0.2, 0.2]  # the tiny configs calibrate their judges, as the others do
    # Without a verdict the table suggests calibrating only where the two judges were not calibrated alike.
    undecided = {**default, "winner": "none"}
    assert "not calibrated alike" not in gam.table(undecided)
    assert "not calibrated alike" in gam.table({**undecided, "judge_errors": [0.2, None]})
    pixelrnn = tiny_workdir_of(tmp_path_factory, "pixelrnn", steps=2)
    with pytest.raises(ValueError, match="--b: pixelrnn is not an adversarial model"):
        gam.battle(a, pixelrnn)
