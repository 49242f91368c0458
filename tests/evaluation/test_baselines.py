"""The counting baselines, worked by hand."""

import numpy as np
import pytest

from tfgen.evaluation import baselines


def test_unigram_and_bigram_by_hand():
    # Three classes; training windows [0 0 1] and [0 1 2].
    train = np.array([[0, 0, 1], [0, 1, 2]])
    # Class counts 3, 2, 1 (+1 each): 4/9, 3/9, 2/9.
    np.testing.assert_allclose(np.exp(baselines.unigram_log_probs(train, 3)), [4 / 9, 3 / 9, 2 / 9])
    # Pairs inside windows: 0->0, 0->1, 0->1, 1->2. Rows +1: from 0: (2, 3, 1)/6; from 1: (1, 1, 2)/4; from 2: 1/3 each.
    expected = np.array([[2 / 6, 3 / 6, 1 / 6], [1 / 4, 1 / 4, 2 / 4], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(np.exp(baselines.bigram_log_probs(train, 3)), expected)
    # Score [1 2]: unigram -log2(3/9) - log2(2/9); bigram: first by unigram (3/9), then 1->2 (2/4).
    got = baselines.bits_per_sample(train, np.array([[1, 2]]), 3)
    assert got["unigram"] == pytest.approx((-np.log2(3 / 9) - np.log2(2 / 9)) / 2)
    assert got["bigram"] == pytest.approx((-np.log2(3 / 9) - np.log2(2 / 4)) / 2)


def test_pairs_do_not_cross_window_starts():
    # Across the boundary of [0 0] and [2 2] the pair 0->2 would be counted; it must not be.
    counts = np.exp(baselines.bigram_log_probs(np.array([[0, 0], [2, 2]]), 3))
    np.testing.assert_allclose(counts[0], [2 / 4, 1 / 4, 1 / 4])


def test_a_predictable_sequence_costs_fewer_bits_under_the_bigram():
    train = np.tile(np.arange(8), (50, 4))  # 0 1 2 ... 7 0 1 ...: uniform classes, deterministic pairs
    got = baselines.bits_per_sample(train, train[:5], 8)
    assert got["unigram"] == pytest.approx(3.0, abs=0.01) and got["bigram"] < 0.2
