"""Dropout and weight decay of the autoregressive image models (the Pokemon configs use them).

Dropout must act in training only: likelihoods, samplers and exports see the
whole network, or every number they report would be noisy and every export
would disagree with the model. Its noise comes from the checkpointed seed and
the step, so a training with dropout stays reproducible (and resumable).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgen import registry
from tfgen.data import DataSpec

MODELS = ("pixelrnn", "row_lstm", "diagonal_bilstm", "pixelcnn")
SPEC = DataSpec("sprites", (5, 4, 1), 7, np.zeros((7, 3), np.uint8))


def build(name, **overrides):
    keras.utils.set_random_seed(0)
    model = registry.get(name).build(SPEC, "tiny", **overrides)
    model.compile(**model.make_optimizers(1e-2))
    return model


def batch():
    return tf.constant(np.random.default_rng(1).integers(0, 7, (6, *SPEC.image_shape)), tf.int32)


@pytest.mark.parametrize("name", MODELS)
def test_dropout_acts_in_training_only(name):
    x = batch()
    plain, dropped = build(name, dropout=0.0), build(name, dropout=0.5)
    # Same initial weights apart from the dropout model's noise seed.
    plain_weights = {w.path: w for w in plain.weights}
    for w in dropped.weights:
        if w.path in plain_weights:
            w.assign(plain_weights[w.path])
    np.testing.assert_allclose(dropped.log_prob(x), plain.log_prob(x), rtol=1e-6)
    noise = plain.noise(2, 3)
    ones = tf.ones([2])
    np.testing.assert_array_equal(dropped.sample(noise, ones), plain.sample(noise, ones))
    trained = dropped.log_prob(x, training=True)
    assert float(tf.reduce_max(tf.abs(trained - plain.log_prob(x)))) > 1e-3  # dropout changed the pass
    np.testing.assert_allclose(dropped.log_prob(x, training=True), trained, rtol=1e-6)  # same step, same mask
    # Without dropout the training pass is the evaluation pass.
    np.testing.assert_allclose(plain.log_prob(x, training=True), plain.log_prob(x), rtol=1e-6)


@pytest.mark.parametrize("name", ["pixelrnn", "pixelcnn"])
def test_the_mask_follows_the_step_and_the_seed_and_reaches_the_train_step(name):
    x = batch()
    model = build(name, dropout=0.5)
    model.optimizer.build(model.trainable_variables)
    first = model.log_prob(x, training=True).numpy()
    # With the weights fixed, the next step draws another mask, and so does another noise seed.
    model.optimizer.iterations.assign(1)
    assert not np.allclose(model.log_prob(x, training=True), first)
    model.optimizer.iterations.assign(0)
    np.testing.assert_array_equal(model.log_prob(x, training=True), first)
    model.noise_seed.assign(model.noise_seed + 1)
    assert not np.allclose(model.log_prob(x, training=True), first)
    model.noise_seed.assign(model.noise_seed - 1)
    # The train step optimises (and reports) the pass with dropout, not the evaluation pass.
    reported = float(model.train_step(x)["nll"])
    assert reported == pytest.approx(float(np.mean(-first)), rel=1e-5)
    assert abs(reported - float(np.mean(-build(name, dropout=0.0).log_prob(x)))) > 1e-3


def test_training_with_dropout_is_reproducible():
    x = batch()
    runs = []
    for _ in range(2):
        model = build("pixelcnn", dropout=0.5)
        for _ in range(2):
            model.train_step(x)
        runs.append([w.numpy() for w in model.weights])
    for u, v in zip(*runs):
        np.testing.assert_array_equal(u, v)


def test_a_model_without_dropout_refuses_it():
    with pytest.raises(ValueError, match="no dropout"):
        wavenet = registry.get("wavenet")
        wavenet.build(wavenet.cls.conformance_spec(), "tiny", dropout=0.1)


def test_weight_decay_pulls_weights_to_zero_beside_adam():
    # With the loss's gradient the same for both, AdamW's step differs from Adam's by lr * wd * w.
    x = batch()
    adam, adamw = build("pixelcnn", dropout=0.0), build("pixelcnn", dropout=0.0, weight_decay=0.5)
    assert type(adam.optimizer).__name__ == "Adam" and type(adamw.optimizer).__name__ == "AdamW"
    before = [w.numpy() for w in adamw.trainable_weights]
    adam.train_step(x)
    adamw.train_step(x)
    learning_rate = 1e-2
    for w0, u, v in zip(before, adam.trainable_weights, adamw.trainable_weights):
        np.testing.assert_allclose(v.numpy(), u.numpy() - learning_rate * 0.5 * w0, atol=1e-6)


def test_bad_dropout_is_refused():
    with pytest.raises(ValueError, match="dropout"):
        build("pixelcnn", dropout=1.0)
