"""The feature network sample-quality scores are computed on.

FID and KID are usually computed on Inception-v3 features of ImageNet-sized
colour photos; that network is neither available here (nothing is
downloaded) nor meaningful for 8x8 digits or 20x20 palette sprites. Instead
each dataset gets its own small convolutional network, trained offline by a
recipe kept in this file, on the dataset's training split, in the colour
space every model's `generate_images` returns (`tfgen.data.colours`).

None of the datasets has labels tfgen can rely on (binarized MNIST and the
sprites have none), so the network is trained by self-supervision: predict
which of 8 transformations (4 rotations x mirror; 4 without the quarter turns
for non-square images) was applied to an image [1]. Telling the orientation
of a digit or a sprite requires recognising its shape, so the pooled
features before the classifier describe shape. The features are the global
average pool of the last convolution.

The trained weights are cached under `<cache>/features/<dataset>-<key>/`
(`$TFGEN_CACHE`, default ~/.cache/tfgen), keyed by the recipe and the
dataset's spec, so every evaluation of that dataset uses the same network.
Scores computed with it compare models within tfgen only: they are not
comparable with published FID/KID numbers.

[1] Gidaris, Singh, Komodakis 2018, "Unsupervised Representation Learning by
    Predicting Image Rotations", arXiv:1803.07728.
"""

import dataclasses
import hashlib
import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfgen import locks
from tfgen.data import colours as colour_space


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a feature network is trained. Changing any field changes the cache key."""

    version: int = 3
    channels: tuple = (32, 64, 128)
    head_units: int = 256
    steps: int = 1500
    batch_size: int = 128
    learning_rate: float = 1e-3
    seed: int = 0

    def to_json(self):
        return dataclasses.asdict(self) | {"channels": list(self.channels)}


RECIPE = Recipe()


def transforms(images, square):
    """The self-supervision targets: [T, B, H, W, C] transformed copies."""
    out = [images, images[:, ::-1], images[:, :, ::-1], images[:, ::-1, ::-1]]  # id, flip v, flip h, rot 180
    if square:
        t = tf.transpose(images, [0, 2, 1, 3])
        out += [t, t[:, ::-1], t[:, :, ::-1], t[:, ::-1, ::-1]]  # transpose and its rotations: the quarter turns
    return tf.stack(out)


class FeatureNet(keras.Model):
    """Small convolutional net: features = global average pool of the last convolution.

    Args:
        channels: filters of the 3x3 convolutions; every one after the first
            has stride 2.
        num_transforms: classes of the self-supervised head (8 or 4).
        head_units: hidden units of the head.
    """

    def __init__(self, channels=(32, 64, 128), num_transforms=8, head_units=256, **kwargs):
        super().__init__(**kwargs)
        self.convs = [
            keras.layers.Conv2D(c, 3, strides=1 if i == 0 else 2, padding="same", activation="relu", name=f"conv_{i}")
            for i, c in enumerate(channels)
        ]
        self.pool = keras.layers.GlobalAveragePooling2D()
        self.hidden = keras.layers.Dense(head_units, activation="relu", name="head_hidden")
        self.head = keras.layers.Dense(num_transforms, name="head")

    def features(self, x):
        for conv in self.convs:
            x = conv(x)
        return self.pool(x)

    def call(self, x):
        return self.head(self.hidden(self.features(x)))


def cache_key(spec, recipe=RECIPE):
    identity = {
        "recipe": recipe.to_json(),
        "dataset": spec.name,
        "image_shape": list(spec.image_shape),
        "palette": np.asarray(spec.palette).tolist(),
        "num_examples": dict(sorted(spec.num_examples.items())),
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]


def default_cache_dir():
    from tfgen.data.datasets import cache_dir

    return cache_dir() / "features"


class FeatureExtractor:
    """A trained feature network for one dataset.

    Call it on colours [N, H, W, C] in [0, 1] to get float64 features [N, D],
    scaled so that the training images' features have a mean square of 1
    (`info["feature_scale"]`): FID and KID then do not depend on whatever
    scale the network happened to learn, and KID's cubic kernel
    (x.y / d + 1)^3 sees x.y / d of order 1, as with the Inception features
    it was designed for.
    """

    def __init__(self, net, spec, info):
        self.net, self.spec, self.info = net, spec, info
        self.scale = float(info.get("feature_scale", 1.0))
        self._fn = tf.function(net.features, reduce_retracing=True, autograph=False)

    def __call__(self, colours, batch_size=500):
        colours = np.asarray(colours, np.float32)
        out = [self._fn(tf.constant(colours[i : i + batch_size])).numpy() for i in range(0, len(colours), batch_size)]
        return np.concatenate(out).astype(np.float64) * self.scale


def _build(spec, recipe):
    h, w, _ = spec.image_shape
    net = FeatureNet(recipe.channels, 8 if h == w else 4, recipe.head_units)
    net(tf.zeros([1, h, w, colour_space.colour_channels(spec.palette)]))
    return net


def train_feature_network(spec, train_colours, val_colours, recipe=RECIPE, log=print):
    """Trains the self-supervised feature network; returns (net, info)."""
    keras.utils.set_random_seed(recipe.seed)
    net = _build(spec, recipe)
    square = spec.image_shape[0] == spec.image_shape[1]
    optimizer = keras.optimizers.Adam(recipe.learning_rate)
    num_t = 8 if square else 4

    def batch_of(colours, labels):
        picked = transforms(colours, square)  # [T, B, ...]
        return tf.gather(tf.transpose(picked, [1, 0, 2, 3, 4]), labels, batch_dims=1)

    @tf.function(autograph=False)
    def step(colours, labels):
        x = batch_of(colours, labels)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=net(x, training=True))
            )
        grads = tape.gradient(loss, net.trainable_variables)
        optimizer.apply_gradients(zip(grads, net.trainable_variables))
        return loss

    rng = np.random.default_rng(recipe.seed)
    n = len(train_colours)
    start = time.time()
    for i in range(recipe.steps):
        idx = rng.integers(0, n, recipe.batch_size)
        loss = step(tf.constant(train_colours[idx]), tf.constant(rng.integers(0, num_t, recipe.batch_size), tf.int32))
        if log and (i + 1) % 500 == 0:
            log(f"  feature network step {i + 1}/{recipe.steps}: loss {float(loss):.3f}", flush=True)

    # Held-out accuracy of the self-supervised task: a record that the
    # network learned something (chance is 1/8, or 1/4).
    correct = 0
    labels = rng.integers(0, num_t, len(val_colours))
    for i in range(0, len(val_colours), 500):
        x = batch_of(tf.constant(val_colours[i : i + 500]), tf.constant(labels[i : i + 500], tf.int32))
        correct += int(np.sum(np.argmax(net(x).numpy(), -1) == labels[i : i + 500]))
    raw = np.concatenate([net.features(tf.constant(train_colours[i : i + 500])).numpy() for i in range(0, n, 500)])
    info = {
        "feature_scale": float(1.0 / np.sqrt(max(np.mean(raw**2), 1e-12))),
        "recipe": recipe.to_json(),
        "dataset": spec.name,
        "train_examples": int(n),
        "transform_accuracy_validation": correct / max(len(val_colours), 1),
        "chance": 1.0 / num_t,
        "train_seconds": round(time.time() - start, 1),
        "feature_dim": int(recipe.channels[-1]),
    }
    return net, info


def load_colours(dataset, split, data_dir=None, limit=None):
    """A split as colours [N, H, W, C] in [0, 1], and its DataSpec."""
    from tfgen import data as tfdata

    images, spec = tfdata.load(dataset, split, data_dir)
    if limit:
        images = images.take(limit)
    batches = [b for b in images.batch(4096).as_numpy_iterator()]
    return colour_space.to_colours(np.concatenate(batches), spec.palette), spec


def feature_extractor(dataset, data_dir=None, cache_dir=None, recipe=RECIPE, log=print):
    """The dataset's feature network, trained by `recipe` on first use and cached.

    Args:
        dataset: catalogue name (the model's training dataset).
        data_dir: its source, as for `tfgen.data.load`.
        cache_dir: where networks are kept (default `<TFGEN_CACHE>/features`).
    """
    from tfgen import data as tfdata

    spec = tfdata.spec(dataset, data_dir)
    folder = Path(cache_dir or default_cache_dir()) / f"{spec.name}-{cache_key(spec, recipe)}"
    weights, info_file = folder / "feature_net.weights.h5", folder / "info.json"
    folder.mkdir(parents=True, exist_ok=True)
    # Processes evaluating the same dataset at once (parallel evaluations, test
    # workers) train the network once: the others wait here and load it.
    with locks.exclusive(folder / ".train.lock"):
        if weights.is_file() and info_file.is_file():
            net = _build(spec, recipe)
            net.load_weights(str(weights))
            return FeatureExtractor(net, spec, json.loads(info_file.read_text()))
        if log:
            log(f"training the feature network for {spec.name} (once; cached in {folder})", flush=True)
        train, _ = load_colours(dataset, "train", data_dir)
        val, _ = load_colours(dataset, "validation", data_dir)
        net, info = train_feature_network(spec, train, val, recipe, log)
        tmp = folder / "feature_net.tmp.weights.h5"
        net.save_weights(str(tmp))
        tmp.replace(weights)
        info_file.write_text(json.dumps(info, indent=2))
        return FeatureExtractor(net, spec, info)
