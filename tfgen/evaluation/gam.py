"""GAM: two trained GANs judge each other (Im et al. 2016, after Goodfellow's
"generative adversarial metric").

Each model's discriminator classifies images as real or fake. With err(D, X)
the fraction of X that D gets wrong (real test images called fake, or
generated images called real):

    r_test   = err(D_a on test data)  / err(D_b on test data)
    r_sample = err(D_a on G_b samples) / err(D_b on G_a samples)

r_sample < 1 means G_a fools D_b more often than G_b fools D_a: model a wins.
That verdict is only meaningful when both discriminators are equally good
judges of real data, so a winner is declared only when r_test is within
`tolerance` of 1 (a discriminator that calls everything fake would make every
generator look bad to it, and its r_sample says nothing).

Decision thresholds: a logistic discriminator calls an image real when its
logit is >= 0, least squares when its output is >= 0.5 (halfway between the
targets), hinge when >= 0. A Wasserstein critic has no such scale; its
threshold is calibrated as the midpoint of its mean output on training images
and on its own samples.

Which discriminator judges (`judge`): a model trained with weight averaging
(`ema_decay`) has two, the running average of its weights ("averaged", the
default, as the generator that samples) and the weights as trained ("live").
Only the live one was trained against the generator, and adaptive
augmentation (`ada_target`) acts on the live one, never on the average. The
gradient steps hold neither to a common standard: in issue 18's
binarized-MNIST runs the averaged judges called 81-100% of real digits real,
the live ones 45-87% (docs/RESULTS.md). Without averaging both are the same
network.

Calibrated judges (`--judge_error`; the GAN configs with a threshold use
0.2): after its last step the trainer shifts the judge's output bias so that
it calls that share of the training images fake
(`AdversarialImageModel.calibrate_judge`). The judge then carries its
operating point in its weights, the battle uses the losses' thresholds as
always, and r_test on held-out data compares how two judges calibrated alike
generalise: on binarized MNIST r_test was within 2.4% of 1 in all nine
battles of issue 18's protocol (docs/RESULTS.md). A run finished before is
calibrated by running its own training command again with `--judge_error`
added (and `--steps` at its last step, if `--max_minutes` ended it). Only
the judge a model battles with by default is calibrated (the averaged one
under weight averaging); `judge="live"` reads the uncalibrated live
discriminator.

Matched operating points (`operating_point`, off by default): each judge's
threshold is instead set on the *training* images, at the logit below which it
calls that fraction of them fake, so both judges reject the same share of real
training data and r_test on held-out data checks that they generalise alike.
This is a change of the decision thresholds, not of the verdict rule, and it
uses no test data. On binarized MNIST (50,000 training images) each of eight
judges measured erred on validation digits within 0.01 as often as on
training digits; at operating points 0.1-0.3 matched judges gave r_test within
10% of 1 in all 24 pairings, where the losses' own thresholds gave 0.42-0.99
(docs/RESULTS.md, issue 18).

[1] Im, Kim, Jiang, Memisevic 2016, "Generating Images with Recurrent
    Adversarial Networks", arXiv:1602.05110, section 4.
"""

import math

import numpy as np
import tensorflow as tf

from tfgen.errors import InvalidArgumentError
from tfgen.evaluation.likelihood import check_compatible
from tfgen.models.gan.adversarial_model import AdversarialImageModel
from tfgen.quality import features as feature_nets
from tfgen.quality.samples import generate_colours
from tfgen.training import workdir as wd

CHUNK = 500
JUDGES = ("averaged", "live")


def verdict(r_test, r_sample, tolerance=0.1):
    """'a', 'b', 'tie', or 'none' (no winner: r_test not close enough to 1, or undefined)."""
    if not (math.isfinite(r_test) and abs(r_test - 1.0) <= tolerance) or math.isnan(r_sample):
        return "none"
    if r_sample < 1.0:
        return "a"
    if r_sample > 1.0:
        return "b"
    return "tie"


def ratio(num, den):
    if den == 0:
        return math.nan if num == 0 else math.inf
    return num / den


def _batched(fn, x):
    return np.concatenate([fn(tf.constant(x[i : i + CHUNK])).numpy() for i in range(0, len(x), CHUNK)])


def is_adversarial(model):
    return isinstance(model, AdversarialImageModel)


def check_judge(judge):
    if judge not in JUDGES:
        raise InvalidArgumentError(f"unknown judge {judge!r}; choose from {', '.join(JUDGES)}")


def judge_of(model, judge="averaged"):
    """`model`'s judge: colours [B, H, W, C] in [0, 1] -> logits [B], as a tf.function."""
    check_judge(judge)
    averaged = judge == "averaged"
    return tf.function(
        lambda x: model.discriminate_colours(x, averaged=averaged), reduce_retracing=True, autograph=False
    )


def check_operating_point(operating_point):
    if operating_point is not None and not 0.0 < operating_point < 1.0:
        raise InvalidArgumentError(f"operating_point must be in (0, 1), got {operating_point}")


def threshold(model, train_colours, num, seed, judge="averaged", operating_point=None):
    """The logit at or above which `model`'s discriminator calls an image real.

    With `operating_point` p: the p-quantile of the judge's logits on the first
    `num` training colours, so that it calls a fraction p of them fake.
    """
    check_operating_point(operating_point)
    if operating_point is not None:
        return float(np.quantile(_batched(judge_of(model, judge), train_colours[:num]), operating_point))
    if model.loss_spec.threshold is not None:
        return float(model.loss_spec.threshold)
    fn = judge_of(model, judge)
    real = _batched(fn, train_colours[:num]).mean()
    fake = _batched(fn, model.generate_images(num, seed + 7919)).mean()
    return float((real + fake) / 2.0)


def battle_models(
    a, b, test_colours, num_samples, seed=0, tolerance=0.1, train_colours=None, judge="averaged", operating_point=None
):
    """The GAM table for two models (in memory) on test colours [N, H, W, C].

    train_colours: needed for a critic without a fixed threshold, and for
    `operating_point` (see `threshold`).

    Returns a dict with every error rate, r_test, r_sample, thresholds, the
    judge, the operating point and the winner ('a', 'b', 'tie' or 'none').
    """
    check_operating_point(operating_point)
    for name, m in (("a", a), ("b", b)):
        if not is_adversarial(m):
            raise ValueError(f"model {name} ({type(m).__name__}) is not an adversarial model: it has no discriminator")
    d_a, d_b = judge_of(a, judge), judge_of(b, judge)
    ta = threshold(a, train_colours, num_samples, seed, judge, operating_point)
    tb = threshold(b, train_colours, num_samples, seed, judge, operating_point)
    # Raw generator outputs (not snapped to the palette): each discriminator
    # was trained against such images, and judges the other's the same way.
    samples_a = generate_colours(a, num_samples, seed, a.palette)
    samples_b = generate_colours(b, num_samples, seed, b.palette)

    def fake_called_real(d, t, x):
        return float(np.mean(_batched(d, x) >= t))

    errors = {
        "err_a_test": float(np.mean(_batched(d_a, test_colours) < ta)),
        "err_b_test": float(np.mean(_batched(d_b, test_colours) < tb)),
        "err_a_on_samples_a": fake_called_real(d_a, ta, samples_a),
        "err_a_on_samples_b": fake_called_real(d_a, ta, samples_b),
        "err_b_on_samples_a": fake_called_real(d_b, tb, samples_a),
        "err_b_on_samples_b": fake_called_real(d_b, tb, samples_b),
    }
    r_test = ratio(errors["err_a_test"], errors["err_b_test"])
    r_sample = ratio(errors["err_a_on_samples_b"], errors["err_b_on_samples_a"])
    return {
        **errors,
        "r_test": r_test,
        "r_sample": r_sample,
        "threshold_a": float(ta),
        "threshold_b": float(tb),
        "tolerance": tolerance,
        "judge": judge,
        "operating_point": operating_point,
        "num_test": int(len(test_colours)),
        "num_samples": int(num_samples),
        "winner": verdict(r_test, r_sample, tolerance),
    }


def battle(
    workdir_a,
    workdir_b,
    num_samples=None,
    split="validation",
    seed=0,
    tolerance=0.1,
    data_dir=None,
    judge="averaged",
    operating_point=None,
):
    """GAM battle between two trained workdirs on the same dataset (`battle_models`)."""
    check_judge(judge)  # before anything loads
    check_operating_point(operating_point)
    a, run_a, step_a = wd.load_model(workdir_a)
    b, run_b, step_b = wd.load_model(workdir_b)
    for name, m, run in (("a", a, run_a), ("b", b, run_b)):
        if not is_adversarial(m):
            raise InvalidArgumentError(
                f"--{name}: {run.model} is not an adversarial model (family {m.family}); "
                "GAM needs each model's discriminator and generator"
            )
    check_compatible(run_a.data_spec, run_b.data_spec)
    data_dir = data_dir or run_a.data_dir
    test, _ = feature_nets.load_colours(run_a.dataset, split, data_dir)
    train = None
    if operating_point is not None or a.loss_spec.threshold is None or b.loss_spec.threshold is None:
        train, _ = feature_nets.load_colours(run_a.dataset, "train", data_dir, limit=num_samples or len(test))
    result = battle_models(a, b, test, int(num_samples or len(test)), seed, tolerance, train, judge, operating_point)
    result.update(
        # What each run's judge was calibrated to (run.json holds the last training command's setting).
        judge_errors=[run.config.get("judge_error") for run in (run_a, run_b)],
        a=f"{run_a.model}/{run_a.config_name} step {step_a} ({workdir_a})",
        b=f"{run_b.model}/{run_b.config_name} step {step_b} ({workdir_b})",
        dataset=run_a.dataset,
        split=split,
    )
    return result


def table(result):
    """The battle as text: error rates of each discriminator, the ratios, the verdict."""
    rows = [
        ("test data (called fake)", "err_a_test", "err_b_test"),
        ("G_a samples (called real)", "err_a_on_samples_a", "err_b_on_samples_a"),
        ("G_b samples (called real)", "err_a_on_samples_b", "err_b_on_samples_b"),
    ]
    lines = [
        f"a: {result.get('a', 'model a')}",
        f"b: {result.get('b', 'model b')}",
        f"judges: each model's {result.get('judge', 'averaged')} discriminator",
        *(
            [f"thresholds: each judge calls {result['operating_point']:.1%} of the training images fake"]
            if result.get("operating_point") is not None
            else []
        ),
        f"{'error rate of':30s}{'D_a':>9s}{'D_b':>9s}",
        *(f"  {label:28s}{result[ka]:9.4f}{result[kb]:9.4f}" for label, ka, kb in rows),
        f"r_test   = err(D_a, test) / err(D_b, test) = {result['r_test']:.4f}",
        f"r_sample = err(D_a, G_b) / err(D_b, G_a)   = {result['r_sample']:.4f}",
    ]
    winner, tolerance = result["winner"], f"{result['tolerance']:.0%}"
    if winner in ("a", "b"):
        sign = "<" if winner == "a" else ">"
        lines.append(f"winner: {winner} (r_test within {tolerance} of 1, r_sample {sign} 1)")
    elif winner == "tie":
        lines.append("no winner: a tie (r_sample = 1)")
    else:
        lines.append(f"no winner: r_test is not within {tolerance} of 1; the discriminators are not comparable judges")
        shares = result.get("judge_errors") or [None, None]
        if not (shares[0] and shares[0] == shares[1]):
            lines.append(
                "  (their judges were not calibrated alike: run each run's own training command again with the "
                "same --judge_error, e.g. the GAN configs' 0.2; it trains no step)"
            )
    return "\n".join(lines)
