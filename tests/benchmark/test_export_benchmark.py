"""The export benchmark covers any model's default signature, not only the autoregressive `sample`."""

import json

import pytest

from tests.helpers import run_tool

RUNTIMES = {"keras (tf.function)", "keras (tf.function, XLA)", "SavedModel (Session)", "TFLite float32"}


@pytest.mark.parametrize(
    "model, has_log_prob",
    [("dcgan", False), ("pixelrnn", True)],
)
def test_export_benchmark_times_every_runtime(model, has_log_prob):
    proc = run_tool("benchmark", "--notraining", "--export", f"--model={model}", "--config=tiny", "--repeats=1")
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    for batch in (1, 16):
        rows = {r["runtime"]: r for r in figures["export_latency"] if r["batch"] == batch}
        assert RUNTIMES <= set(rows), rows
        for runtime in RUNTIMES:
            assert rows[runtime]["ms"] > 0, rows[runtime]
    sizes = {r["artifact"]: r for r in figures["export_sizes"]}
    assert {"SavedModel", "TFLite float32", "TFLite float16", "TFLite int8"} <= set(sizes)
    assert all(r["bytes"] > 0 for r in sizes.values())
    # float16 weights take about half the float32 file (a few KB of graph aside).
    assert sizes["TFLite float16"]["bytes"] < sizes["TFLite float32"]["bytes"]
    if has_log_prob:
        # Each variant's own mean log-likelihood of the same images: negative, and float16's within 5% of float32's.
        reference = sizes["TFLite float32"]["mean_log_prob"]
        assert reference < 0
        assert abs(sizes["TFLite float16"]["mean_log_prob"] - reference) < 0.05 * abs(reference)
    else:
        assert sizes["TFLite float32"]["mean_log_prob"] is None
