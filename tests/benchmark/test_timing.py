"""The timing helpers: a step's rate against the matmul probe, paired timing by timing."""

import tensorflow as tf

from tfgen.benchmark import timing


def test_a_matmul_against_the_matmul_probe_is_about_one():
    """The step timed is the probe's own product, so each paired fraction is near 1 whatever the
    machine's speed at that moment; a wrong FLOP count or a mispaired division would be far off."""
    n = 384
    a, b = tf.random.normal([n, n]), tf.random.normal([n, n])
    product = tf.function(lambda: tf.matmul(a, b), autograph=False)
    probes = []

    def probe():
        probes.append(timing.matmul_gflops(n=n, repeats=20))
        return probes[-1]

    result = timing.against_matmul(product, 2 * n**3, pairs=3, repeats=20, probe=probe)
    assert len(probes) == 3  # one probe per pair
    assert result["matmul_gflops"] == sorted(probes)[1]
    assert result["fraction_min"] <= result["fraction_of_matmul"] <= result["fraction_max"]
    assert 0.5 < result["fraction_of_matmul"] < 2.0, result
    assert abs(result["gflops"] - 2 * n**3 / result["seconds"] / 1e9) < 1e-6 * result["gflops"]
