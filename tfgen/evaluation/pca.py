"""PCA baseline for autoencoders: the best linear code of the same size.

Pixels are scaled to [0, 1] (value / (K - 1)), PCA is fitted on the training
split and the validation images are reconstructed from their first n
principal components. The error is the squared error summed over pixels,
averaged over images: the number `Autoencoder.per_example_metrics` reports as
`squared_error` (Hinton & Salakhutdinov 2006 compare their autoencoder with
PCA on this error).
"""

import numpy as np
from sklearn.decomposition import PCA

from tfgen import data as tfdata
from tfgen.errors import InvalidArgumentError


def _matrix(images, num_classes, limit=None):
    ds = images if limit is None else images.take(limit)
    x = np.stack(list(ds.as_numpy_iterator())).astype(np.float32)
    return x.reshape(len(x), -1) / (num_classes - 1)


def pca_baseline(dataset, data_dir=None, components=30, split="validation", max_train=None, seed=0):
    """Squared reconstruction error per image of PCA with `components` components.

    Returns {"squared_error", "components", "explained_variance", "num_train", "num_examples", ...}.
    """
    train, spec = tfdata.load(dataset, "train", data_dir)
    if spec.kind != "image":
        raise InvalidArgumentError(f"PCA baseline needs images; {dataset} holds {spec.kind}")
    held_out, _ = tfdata.load(dataset, split, data_dir)
    x_train = _matrix(train, spec.num_classes, max_train)
    x_test = _matrix(held_out, spec.num_classes)
    if not 1 <= components <= min(x_train.shape):
        raise InvalidArgumentError(f"components must be in 1..{min(x_train.shape)}, got {components}")
    pca = PCA(n_components=components, random_state=seed).fit(x_train)
    reconstructed = pca.inverse_transform(pca.transform(x_test))
    error = np.sum(np.square(reconstructed - x_test), axis=1)
    return {
        "model": "pca",
        "dataset": dataset,
        "split": split,
        "components": components,
        "squared_error": float(error.mean()),
        "explained_variance": float(pca.explained_variance_ratio_.sum()),
        "num_train": len(x_train),
        "num_examples": len(x_test),
    }
