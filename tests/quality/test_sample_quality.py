"""Sample-quality scores against values worked out by hand."""

import math

import numpy as np
import pytest
from scipy import linalg

from tfgen.quality import sample_quality as sq


def test_frechet_distance_of_1d_gaussians_by_hand():
    # (0 - 1)^2 + 1 + 4 - 2 sqrt(1 * 4) = 2.
    assert sq.frechet_distance([0.0], [[1.0]], [1.0], [[4.0]]) == pytest.approx(2.0)


def test_frechet_distance_of_diagonal_gaussians_by_hand():
    # Commuting covariances: sum (sqrt a - sqrt b)^2 = (1 - 2)^2 + (2 - 3)^2 = 2, plus |mu1 - mu2|^2 = 9 + 16.
    got = sq.frechet_distance([0.0, 0.0], np.diag([1.0, 4.0]), [3.0, 4.0], np.diag([4.0, 9.0]))
    assert got == pytest.approx(27.0)


def test_frechet_distance_matches_the_matrix_square_root_formula():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 5)), rng.standard_normal((5, 5))
    c1, c2 = a @ a.T, b @ b.T  # do not commute
    mu1, mu2 = rng.standard_normal(5), rng.standard_normal(5)
    want = np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - 2 * linalg.sqrtm(c1 @ c2).real)
    assert sq.frechet_distance(mu1, c1, mu2, c2) == pytest.approx(want, rel=1e-6)


def test_fid_is_zero_for_the_same_set_and_grows_with_a_shift():
    x = np.random.default_rng(1).standard_normal((500, 4))
    assert abs(sq.fid(x, x)) < 1e-9
    assert sq.fid(x, x + [1.0, 0, 0, 0]) == pytest.approx(1.0, rel=1e-6)  # only the mean moves


def test_mmd2_unbiased_by_hand():
    x, y = np.array([[0.0], [1.0]]), np.array([[2.0], [0.0]])
    # degree 1, d = 1: k(a, b) = ab + 1. Off-diagonal k(0, 1) = 1 -> 1; k(2, 0) = 1 -> 1;
    # across: k(0,2)=1, k(0,0)=1, k(1,2)=3, k(1,0)=1 -> mean 1.5. MMD^2 = 1 + 1 - 2 * 1.5 = -1.
    assert sq.mmd2_unbiased(x, y, degree=1) == pytest.approx(-1.0)
    # degree 3: within sets 1 and 1; across 1, 1, 27, 1 -> mean 7.5. 2 - 15 = -13.
    assert sq.mmd2_unbiased(x, y, degree=3) == pytest.approx(-13.0)


def test_kid_is_unbiased_and_its_standard_error_is_honest():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2000, 8)), rng.standard_normal((2000, 8))
    same, err = sq.kid(a, b)
    assert err > 0 and abs(same) < 3 * err  # same distribution: zero within three standard errors
    shifted, err2 = sq.kid(a, b + 0.5)
    assert shifted > 10 * err2


def test_precision_recall_by_hand():
    real = np.array([[0.0], [1.0], [2.0], [3.0]])
    fake = np.array([[0.5], [10.0]])
    # k=1 radii of the reals are 1: 0.5 is inside a ball, 10 is not -> precision 1/2.
    # The two fakes' k=1 radius is 9.5: every real lies within 9.5 of 0.5 -> recall 1.
    assert sq.precision_recall(real, fake, k=1) == (0.5, 1.0)
    # A collapsed generator: precise, but covers almost nothing.
    collapsed = np.zeros((4, 1))
    precision, recall = sq.precision_recall(real, collapsed, k=1)
    assert precision == 1.0 and recall == 0.25


def test_parzen_log_likelihood_by_hand():
    # One sample at 0, sigma 1, x = 1: log N(1; 0, 1) = -1/2 - log(2 pi)/2.
    got = sq.parzen_log_likelihood(np.array([[1.0]]), np.array([[0.0]]), 1.0)
    assert got[0] == pytest.approx(-0.5 - 0.5 * math.log(2 * math.pi))
    # Two samples at 0 and 2, x = 1, sigma 2: both kernels equal, log N(1; 0, 4).
    got = sq.parzen_log_likelihood(np.array([[1.0]]), np.array([[0.0], [2.0]]), 2.0)
    assert got[0] == pytest.approx(-1 / 8 - 0.5 * math.log(2 * math.pi * 4))
    # Several sigmas at once give each sigma's value.
    many = sq.parzen_log_likelihood(np.array([[1.0]]), np.array([[0.0]]), [1.0, 2.0])
    assert many.shape == (2, 1) and many[0, 0] == pytest.approx(-0.5 - 0.5 * math.log(2 * math.pi))


def test_parzen_bandwidth_is_chosen_on_the_selection_set():
    rng = np.random.default_rng(3)
    samples = 0.2 * rng.standard_normal((400, 3))
    selection, test = 0.2 * rng.standard_normal((200, 3)), 0.2 * rng.standard_normal((200, 3))
    out = sq.parzen_evaluate(selection, test, samples, sigmas=(0.02, 0.1, 0.2, 2.0))
    assert out["parzen_sigma"] == max(out["parzen_selection"], key=out["parzen_selection"].get)
    assert out["parzen_sigma"] in (0.1, 0.2)  # neither the far too narrow nor the far too wide kernel
    want = sq.parzen_log_likelihood(test, samples, out["parzen_sigma"]).mean()
    assert out["parzen_log_likelihood"] == pytest.approx(want)
