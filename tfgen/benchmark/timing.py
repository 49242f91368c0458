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


def against_matmul(fn, flops_per_call, *, pairs=3, repeats=3, warmup=2, probe=None):
    """fn's GFLOP/s as a fraction of the float32 matmul rate, each timing paired with a probe just before it.

    On a shared machine the matmul rate swings between runs by more than the
    code changes being measured (160-305 GFLOP/s within a day on the 2-core
    Xeon, docs/RESULTS.md), so one probe at the start of a run does not tell
    the step's changes from the machine's. Here each of `pairs` timings of fn
    (median of `repeats` calls) is divided by the rate `probe()` measured right
    before it (`probe` defaults to `matmul_gflops`); the median of those
    fractions is the result, with its range.

    Returns:
        {"seconds": median seconds per call, "gflops": at that median,
         "matmul_gflops": median probe, "fraction_of_matmul": median paired
         fraction, "fraction_min", "fraction_max"}.
    """
    if pairs < 1:
        raise ValueError(f"pairs must be at least 1, got {pairs}")
    probe = probe or matmul_gflops
    for _ in range(warmup):
        _materialise(fn())
    seconds, rates, fractions = [], [], []
    for _ in range(pairs):
        rate = probe()
        took = time_call(fn, warmup=0, repeats=repeats)
        seconds.append(took)
        rates.append(rate)
        fractions.append(flops_per_call / took / 1e9 / rate)
    median = float(np.median(seconds))
    return {
        "seconds": median,
        "gflops": flops_per_call / median / 1e9,
        "matmul_gflops": float(np.median(rates)),
        "fraction_of_matmul": float(np.median(fractions)),
        "fraction_min": min(fractions),
        "fraction_max": max(fractions),
    }


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
