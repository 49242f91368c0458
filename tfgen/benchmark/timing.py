"""Timing helpers shared by the benchmarks."""

import time

import numpy as np
import tensorflow as tf


def time_call(fn, *, warmup=1, repeats=5, min_seconds=0.0):
    """Median seconds per call of fn() after warm-up (values are materialised)."""
    for _ in range(warmup):
        _materialise(fn())
    times = []
    start = time.perf_counter()
    while len(times) < repeats or time.perf_counter() - start < min_seconds:
        t = time.perf_counter()
        _materialise(fn())
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def _materialise(x):
    for t in tf.nest.flatten(x):
        if hasattr(t, "numpy"):
            t.numpy()


def matmul_gflops(n=2048, repeats=10):
    """Float32 matmul rate of this machine: GFLOP/s of an n x n x n product."""
    a = tf.random.normal([n, n])
    b = tf.random.normal([n, n])
    fn = tf.function(lambda: tf.matmul(a, b), autograph=False)
    seconds = time_call(fn, warmup=2, repeats=repeats)
    return 2 * n**3 / seconds / 1e9


def table(rows, columns):
    """Formats a list of dicts as a fixed-width text table."""
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines.append("  ".join("-" * widths[c] for c in columns))
    for r in rows:
        lines.append("  ".join(_fmt(r.get(c)).ljust(widths[c]) for c in columns))
    return "\n".join(lines)


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 100 else f"{v:.1f}"
    return str(v)
