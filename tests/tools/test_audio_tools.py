"""WaveNet end to end on the shared speech: train, listen, complete, evaluate against baselines, sample on a device."""

import numpy as np
import pytest

from tests.helpers import build_once, run_tflite_sample_without_tensorflow
from tfgen import audio, sampling
from tfgen import data as tfdata
from tfgen.evaluation import likelihood
from tfgen.training import trainer


@pytest.fixture(scope="module")
def speech_run(speech_dir, tmp_path_factory):
    """A tiny WaveNet trained 6 steps on the speech prompts, with previews and its export.

    One per test run, shared by the pytest-xdist workers (`build_once`): read-only.
    """

    def build(folder):
        workdir = folder / "wavenet"
        options = trainer.TrainOptions(
            model="wavenet",
            config="tiny",
            dataset="speech",
            data_dir=str(speech_dir),
            workdir=str(workdir),
            steps=6,
            checkpoint_every=6,
            num_previews=2,
            tflite_variants=("float32",),  # the one variant the device-sampling test below reads
            verbose=False,
        )
        return workdir, trainer.train(options)

    return build_once(tmp_path_factory, "speech_run", build)


def test_training_writes_sounds_spectrograms_and_audio_summaries(speech_run):
    workdir, summary = speech_run
    assert set(summary["validation"]) == {"nll", "bits_per_sample", "nats_per_second"}
    # 1-second windows: nats per second equals nats per window; bits per sample is that over 8000 ln 2.
    v = summary["validation"]
    assert v["nats_per_second"] == pytest.approx(v["nll"]) and v["bits_per_sample"] == pytest.approx(
        v["nll"] / (8000 * np.log(2))
    )
    for name in ("sample_0", "sample_1", "completion_0", "completion_1"):
        samples, rate = audio.read_wav(workdir / "sounds" / f"{name}.wav", 8000)
        assert len(samples) == 8000 and rate == 8000
    assert (workdir / "samples.png").is_file() and (workdir / "completions.png").is_file()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(workdir / "logs" / "validation"), size_guidance={"tensors": 0})
    events.Reload()
    assert {"sample_0", "completion_0"} <= {t.split("/")[0] for t in events.Tags()["tensors"]}


def test_evaluation_reports_the_model_beside_unigram_and_bigram(speech_run, speech_dir):
    workdir, summary = speech_run
    result = likelihood.evaluate_workdir(workdir)
    assert result["num_examples"] == 109 and result["bits_per_sample"] == pytest.approx(
        summary["validation"]["bits_per_sample"], rel=1e-5
    )
    base = result["baselines_bits_per_sample"]
    # Speech is far from uniform (8 bits) and strongly correlated from one sample to the next.
    assert 6.5 < base["unigram"] < 8.0 and 4.5 < base["bigram"] < base["unigram"] - 1.0


def test_sample_quality_scores_refuse_audio_in_one_line(speech_run):
    from tfgen.errors import InvalidArgumentError
    from tfgen.evaluation import generated

    with pytest.raises(InvalidArgumentError, match="sample-quality scores compare images; wavenet models audio"):
        generated.evaluate_samples(speech_run[0])


def test_sample_and_complete_write_wavs_and_keep_the_known_half(speech_run, speech_dir, tmp_path):
    workdir, _ = speech_run
    drawn = sampling.sample_workdir(workdir, tmp_path / "s.png", num=2, seed=3)
    assert drawn.shape == (2, 8000)
    for i in range(2):
        np.testing.assert_array_equal(
            audio.read_wav(tmp_path / f"s-{i}.wav")[0], audio.to_pcm(audio.mu_law_decode(drawn[i]))
        )
    completed = sampling.sample_workdir(workdir, tmp_path / "c.png", num=2, seed=3, cover=0.5)
    windows, _ = tfdata.load("speech", "validation", speech_dir)
    first = np.stack(list(windows.take(2).as_numpy_iterator()))
    np.testing.assert_array_equal(completed[:, :4000], first[:, :4000])
    assert not np.array_equal(completed[:, 4000:], first[:, 4000:])
    # Originals and completions alternate: c-0 is the first original, c-1 its completion.
    assert (tmp_path / "c-3.wav").is_file() and (tmp_path / "c.png").is_file()


def test_tflite_sample_writes_the_saved_models_audio_without_tensorflow(speech_run, tmp_path):
    workdir, _ = speech_run
    tflite_file = workdir / "export" / "tflite" / "wavenet" / "1" / "float32.tflite"
    run_tflite_sample_without_tensorflow(tflite_file, tmp_path, "--num=2", "--seed=5", f"--out={tmp_path / 'lite.png'}")
    saved = sampling.sample_export(workdir / "export" / "wavenet" / "1", tmp_path / "saved.png", num=2, seed=5)
    for i in range(2):
        lite, rate = audio.read_wav(tmp_path / f"lite-{i}.wav", 8000)
        np.testing.assert_array_equal(lite, audio.read_wav(tmp_path / f"saved-{i}.wav")[0])
        np.testing.assert_array_equal(lite, audio.to_pcm(audio.mu_law_decode(saved[i])))
