"""Sample-quality scores of image generators (numpy, pure functions).

* FID: Fréchet distance between Gaussians fitted to the features of real and
  generated images [1]. Biased for small N: compare at equal N only.
* KID: unbiased squared MMD with the cubic polynomial kernel
  k(x, y) = (x.y / d + 1)^3 [2], averaged over disjoint blocks, with the
  standard error of that mean.
* Precision and recall: the fraction of generated images inside the k-NN
  balls of the real ones, and vice versa [3].
* Parzen-window log-likelihood: a Gaussian kernel density on generated
  images, in pixel space, with the bandwidth chosen on held-out data [4, 5].
  Historical (the GAN paper's Table 1) and known to be a poor likelihood
  estimate in high dimension [6]; reported because the issue asks for it.

[1] Heusel et al. 2017, arXiv:1706.08500.  [2] Bińkowski et al. 2018,
arXiv:1801.01401.  [3] Kynkäänniemi et al. 2019, arXiv:1904.06991.
[4] Breuleux, Bengio, Vincent 2011.  [5] Goodfellow et al. 2014,
arXiv:1406.2661.  [6] Theis, van den Oord, Bethge 2016, arXiv:1511.01844.
"""

import numpy as np
from scipy.special import logsumexp


def _sqrt_psd(cov):
    w, v = np.linalg.eigh(cov)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1, cov1, mu2, cov2):
    """||mu1 - mu2||^2 + Tr(C1 + C2 - 2 (C1^1/2 C2 C1^1/2)^1/2).

    Tr((C1 C2)^1/2) is computed as the sum of square roots of the
    eigenvalues of the symmetric C1^1/2 C2 C1^1/2 (same eigenvalues as C1 C2),
    which stays real and stable when the covariances are singular.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    cov1, cov2 = np.atleast_2d(cov1).astype(np.float64), np.atleast_2d(cov2).astype(np.float64)
    s1 = _sqrt_psd(cov1)
    eig = np.linalg.eigvalsh(s1 @ cov2 @ s1)
    tr_sqrt = np.sqrt(np.clip(eig, 0, None)).sum()
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2.0 * tr_sqrt)


def fid(real_features, fake_features):
    a, b = np.asarray(real_features, np.float64), np.asarray(fake_features, np.float64)
    return frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))


def polynomial_kernel(x, y, degree=3):
    return (x @ y.T / x.shape[1] + 1.0) ** degree


def mmd2_unbiased(x, y, degree=3):
    """Unbiased squared MMD: mean of k over distinct pairs within each set, minus twice across."""
    m, n = len(x), len(y)
    kxx, kyy, kxy = polynomial_kernel(x, x, degree), polynomial_kernel(y, y, degree), polynomial_kernel(x, y, degree)
    return float(
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2.0 * kxy.mean()
    )


def kid(real_features, fake_features, num_blocks=10, degree=3):
    """(KID, its standard error): unbiased MMD^2 on `num_blocks` disjoint blocks.

    Disjoint blocks make the block estimates independent, so std / sqrt(B)
    is an honest standard error of their mean (overlapping random subsets,
    as often used, make it look smaller than it is).
    """
    a, b = np.asarray(real_features, np.float64), np.asarray(fake_features, np.float64)
    blocks = min(num_blocks, len(a) // 2, len(b) // 2)
    if blocks < 1:
        raise ValueError("KID needs at least two examples in each set")
    ra, rb = len(a) // blocks, len(b) // blocks
    values = np.array(
        [mmd2_unbiased(a[i * ra : (i + 1) * ra], b[i * rb : (i + 1) * rb], degree) for i in range(blocks)]
    )
    stderr = float(values.std(ddof=1) / np.sqrt(blocks)) if blocks > 1 else float("nan")
    return float(values.mean()), stderr


def _sq_distances(x, y):
    return np.maximum((x * x).sum(1)[:, None] - 2.0 * x @ y.T + (y * y).sum(1)[None, :], 0.0)


def knn_radii(x, k, chunk=2048):
    """Squared distance from each point to its k-th nearest other point of x."""
    out = np.empty(len(x))
    for i in range(0, len(x), chunk):
        d = _sq_distances(x[i : i + chunk], x)
        # Column k of the sorted row: column 0 is the point itself (distance 0).
        out[i : i + chunk] = np.partition(d, k, axis=1)[:, k]
    return out


def _coverage(points, centres, radii, chunk=2048):
    """Fraction of points inside at least one ball (centre, squared radius)."""
    inside = 0
    for i in range(0, len(points), chunk):
        d = _sq_distances(points[i : i + chunk], centres)
        inside += int(np.sum(np.any(d <= radii[None, :], axis=1)))
    return inside / len(points)


def precision_recall(real_features, fake_features, k=3):
    """(precision, recall) of generated features against real ones [3]."""
    a, b = np.asarray(real_features, np.float64), np.asarray(fake_features, np.float64)
    precision = _coverage(b, a, knn_radii(a, k))
    recall = _coverage(a, b, knn_radii(b, k))
    return precision, recall


def parzen_log_likelihood(points, samples, sigmas, chunk=512):
    """log p(x) in nats of each point under isotropic Gaussian KDEs on `samples`.

    log p(x) = logsumexp_j(-||x - s_j||^2 / (2 sigma^2)) - log n - d/2 log(2 pi sigma^2).

    Args:
        points: [N, ...]; samples: [M, ...] (flattened to vectors).
        sigmas: one bandwidth or a sequence (distances are computed once for all).
    Returns:
        [N] for one sigma, else [len(sigmas), N].
    """
    single = np.ndim(sigmas) == 0
    sigmas = np.atleast_1d(np.asarray(sigmas, np.float64))
    x = np.asarray(points, np.float64).reshape(len(points), -1)
    s = np.asarray(samples, np.float64).reshape(len(samples), -1)
    d = x.shape[1]
    const = -np.log(len(s)) - 0.5 * d * np.log(2.0 * np.pi * sigmas**2)
    out = np.empty((len(sigmas), len(x)))
    for i in range(0, len(x), chunk):
        sq = _sq_distances(x[i : i + chunk], s)
        for j, sigma in enumerate(sigmas):
            out[j, i : i + chunk] = logsumexp(-sq / (2.0 * sigma**2), axis=1) + const[j]
    return out[0] if single else out


DEFAULT_SIGMAS = tuple(float(s) for s in np.round(np.logspace(-1.3, 0, 14), 4))  # 0.05 .. 1 in colour units


def parzen_evaluate(selection, test, samples, sigmas=DEFAULT_SIGMAS):
    """Chooses sigma by the mean log-likelihood of `selection`, reports it on `test`.

    Returns {"parzen_sigma", "parzen_log_likelihood" (mean nats per image on
    test), "parzen_stderr", "parzen_selection": {sigma: mean on selection}}.
    """
    means = parzen_log_likelihood(selection, samples, list(sigmas)).mean(axis=1)
    table = {float(s): float(m) for s, m in zip(sigmas, means)}
    best = max(table, key=table.get)
    ll = parzen_log_likelihood(test, samples, best)
    return {
        "parzen_sigma": best,
        "parzen_log_likelihood": float(ll.mean()),
        "parzen_stderr": float(ll.std(ddof=1) / np.sqrt(len(ll))),
        "parzen_selection": table,
    }
