"""Counting baselines for sequences of classes, so a model's bits per sample mean something.

Both are fitted on training windows and score other windows one window at a
time, as the models do (nothing is carried across a window's start):

* unigram: p(x) from the class histogram of the training windows;
* bigram: p(x_t | x_{t-1}) from the training windows' pairs; the first sample
  of a window, which has no previous one, is scored by the unigram.

Counts are add-one smoothed, so a class or pair never seen in training costs
a finite number of bits.
"""

import numpy as np


def unigram_log_probs(train, num_classes):
    """log p(class) [K], add-one smoothed, from int windows [N, T]."""
    counts = np.bincount(np.asarray(train).ravel(), minlength=num_classes).astype(np.float64) + 1.0
    return np.log(counts / counts.sum())


def bigram_log_probs(train, num_classes):
    """log p(next | previous) [K, K] (rows: previous), add-one smoothed, from pairs inside each window."""
    train = np.asarray(train, np.int64)
    pairs = (train[:, :-1] * num_classes + train[:, 1:]).ravel()
    counts = np.bincount(pairs, minlength=num_classes * num_classes).reshape(num_classes, num_classes) + 1.0
    return np.log(counts / counts.sum(axis=1, keepdims=True))


def bits_per_sample(train, evaluate, num_classes):
    """{"unigram": bits, "bigram": bits}: mean bits per sample of `evaluate` windows [M, T]."""
    evaluate = np.asarray(evaluate, np.int64)
    unigram = unigram_log_probs(train, num_classes)
    bigram = bigram_log_probs(train, num_classes)
    nats_unigram = -unigram[evaluate].sum()
    nats_bigram = -unigram[evaluate[:, 0]].sum() - bigram[evaluate[:, :-1], evaluate[:, 1:]].sum()
    per_bit = np.log(2.0) * evaluate.size
    return {"unigram": float(nats_unigram / per_bit), "bigram": float(nats_bigram / per_bit)}
