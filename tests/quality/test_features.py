"""The per-dataset feature network: learned, meaningful, cached."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from tfgen.data import colours, datasets
from tfgen.quality import features
from tfgen.quality import sample_quality as sq


@pytest.fixture(scope="module")
def extractor():
    return features.feature_extractor("digits", log=None)


@pytest.fixture(scope="module")
def labelled_digits():
    # scikit-learn's copy carries the labels the dataset catalogue drops.
    d = load_digits()
    return colours.to_colours(d.images[..., None].astype(int), datasets.spec("digits").palette), d.target


def test_self_supervised_task_is_learned(extractor):
    assert extractor.info["transform_accuracy_validation"] > 0.6  # chance 1/8; measured 0.87


def test_features_describe_digit_identity(extractor, labelled_digits):
    # Never trained on labels, the features still separate the ten digits
    # (measured 5-NN accuracy 0.94; raw pixels 0.96).
    images, labels = labelled_digits
    accuracy = cross_val_score(KNeighborsClassifier(5), extractor(images), labels, cv=5).mean()
    assert accuracy > 0.88


def test_fid_orders_corruptions_and_a_collapsed_sampler(extractor, labelled_digits):
    images, labels = labelled_digits
    real, other = images[::2], images[1::2]
    fr = extractor(real)
    rng = np.random.default_rng(0)
    scores = [sq.fid(fr, extractor(np.clip(other + s * rng.standard_normal(other.shape), 0, 1))) for s in (0, 0.1, 0.4)]
    assert scores == sorted(scores) and scores[2] > 5 * scores[0], scores
    # Only zeros, against real images at the same N: a missing mode is seen.
    zeros = images[labels == 0]
    n = len(zeros)
    assert sq.fid(fr[:n], extractor(zeros)) > 3 * sq.fid(fr[:n], extractor(other[:n]))


def test_network_is_cached_and_keyed_by_recipe(extractor, labelled_digits, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("the feature network was trained again instead of loaded from the cache")

    monkeypatch.setattr(features, "train_feature_network", no_training)
    again = features.feature_extractor("digits", log=None)
    images = labelled_digits[0][:50]
    np.testing.assert_array_equal(again(images), extractor(images))
    spec = datasets.spec("digits")
    assert features.cache_key(spec) != features.cache_key(spec, features.Recipe(steps=10))


def test_transforms_are_the_eight_symmetries_of_the_square():
    x = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
    t = features.transforms(x, square=True).numpy()[:, 0, :, :, 0]
    want = [np.rot90(x[0, :, :, 0], k) for k in range(4)] + [np.rot90(x[0, :, :, 0].T, k) for k in range(4)]
    assert sorted(map(bytes, t)) == sorted(map(bytes, want))
    assert features.transforms(np.zeros((2, 3, 4, 1), np.float32), square=False).shape == (4, 2, 3, 4, 1)


def test_processes_asking_at_once_train_the_network_once(labelled_digits, tmp_path, monkeypatch):
    # Two evaluations starting together (or two test workers) must not both train, nor write the
    # cache over each other: the second waits for the first's network and loads it.
    import threading

    trained = []
    train = features.train_feature_network

    def counted(*args, **kwargs):
        trained.append(threading.current_thread().name)
        return train(*args, **kwargs)

    monkeypatch.setattr(features, "train_feature_network", counted)
    recipe = features.Recipe(channels=(4,), head_units=8, steps=5, batch_size=16)
    results = {}

    def ask(name):
        results[name] = features.feature_extractor("digits", cache_dir=tmp_path, recipe=recipe, log=None)

    threads = [threading.Thread(target=ask, args=(n,), name=n) for n in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(trained) == 1, trained
    images = labelled_digits[0][:20]
    np.testing.assert_array_equal(results["first"](images), results["second"](images))
