"""WaveNet's generation benchmark runs every TensorFlow sampler and divides by the plain naive one."""

from tfgen.benchmark import audio


def test_generation_rows_compare_every_sampler_with_the_naive_baseline():
    rows, facts = audio.generation_rows("tiny", seconds=0.05, naive_seconds=0.01, repeats=1, exports=False)
    by_name = {r["sampler"]: r for r in rows}
    assert set(by_name) == {
        "queue sampler (XLA, model.sampler)",
        "queue sampler (tf.function)",
        "naive sampler (tf.function)",
        "naive sampler (XLA)",
    }
    assert facts["same_samples"] is True
    assert by_name["naive sampler (tf.function)"]["vs_naive"] == 1.0
    for r in rows:
        assert r["samples_per_s"] > 0
        assert abs(r["real_time_factor"] - r["samples_per_s"] / 8000) < 1e-9
