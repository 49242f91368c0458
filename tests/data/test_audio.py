"""Audio: mu-law by hand, WAV files good and bad, the speech builder on a folder and on the shared data."""

import wave

import numpy as np
import pytest

from tfgen import audio
from tfgen import data as tfdata
from tfgen.data import datasets
from tfgen.errors import DataError


def test_mu_law_golden_values():
    # F(x) = sign(x) ln(1 + 255|x|) / ln 256; class = floor((F + 1) / 2 * 255 + 1/2).
    # F(0.5) = ln 128.5 / ln 256 = 0.875700 -> 239.15 + 0.5 -> 239; F(0.01) = ln 3.55 / ln 256 = 0.228446 -> 157.
    np.testing.assert_array_equal(audio.mu_law_encode([0.0, 1.0, -1.0, 0.5, -0.5, 0.01]), [128, 255, 0, 239, 16, 157])
    # Bin 128's centre: 2 * 128 / 255 - 1 = 1/255 companded, expm1(ln 256 / 255) / 255 = 8.6212e-5.
    np.testing.assert_allclose(audio.mu_law_decode([128, 0, 255]), [8.6212e-5, -1.0, 1.0], rtol=1e-4)
    # Out-of-range input is clipped, not wrapped.
    np.testing.assert_array_equal(audio.mu_law_encode([3.0, -7.0]), [255, 0])


def test_mu_law_round_trips():
    classes = np.arange(256)
    np.testing.assert_array_equal(audio.mu_law_encode(audio.mu_law_decode(classes)), classes)
    x = np.linspace(-1, 1, 10001)
    error = np.abs(audio.mu_law_decode(audio.mu_law_encode(x)) - x)
    # Companding: fine steps near 0, coarse near full scale (bin width there 2 * 255^(254/255)... ~ 0.0435).
    assert error[np.abs(x) < 0.01].max() < 1e-3 and error.max() < 0.025


def test_mu_law_with_fewer_classes():
    assert audio.mu_law_encode([-1.0, 0.0, 1.0], classes=16).tolist() == [0, 8, 15]


def write_raw(path, channels=1, width=2, rate=8000, frames=b"\x01\x00\x02\x00"):
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(frames)
    return path


def test_wav_round_trip(tmp_path):
    samples = np.array([0, 1, -1, 32767, -32768, 1234], np.int16)
    audio.write_wav(tmp_path / "a.wav", samples, 8000)
    got, rate = audio.read_wav(tmp_path / "a.wav", 8000)
    np.testing.assert_array_equal(got, samples)
    assert rate == 8000 and got.dtype == np.int16
    # Floats are written as 16-bit PCM, clipped.
    audio.write_wav(tmp_path / "f.wav", np.array([0.0, 0.5, -2.0]), 8000)
    np.testing.assert_array_equal(audio.read_wav(tmp_path / "f.wav")[0], [0, 16384, -32768])


BAD_FILES = {
    "not a wav": (lambda p: p.write_text("hello"), "not a PCM WAV file"),
    "stereo": (lambda p: write_raw(p, channels=2, frames=b"\x00" * 8), "2 channels"),
    "8-bit": (lambda p: write_raw(p, width=1, frames=b"\x80\x81"), "8-bit samples"),
    "wrong rate": (lambda p: write_raw(p, rate=16000), "sample rate 16000 Hz; this dataset is 8000 Hz"),
    "empty": (lambda p: write_raw(p, frames=b""), "no samples"),
    "truncated": (
        lambda p: (write_raw(p, frames=b"\x01\x00" * 100), p.write_bytes(p.read_bytes()[:-50])),
        "truncated: the header declares 100 samples, the file holds 75",
    ),
    "missing": (lambda p: None, "file not found"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_wav_files_name_the_file(tmp_path, case):
    make, words = BAD_FILES[case]
    path = tmp_path / "sub" / "bad.wav"
    path.parent.mkdir()
    make(path)
    with pytest.raises(DataError) as info:
        audio.read_wav(path, 8000)
    assert str(info.value).startswith(str(path)) and words in str(info.value)


def test_window_starts_keep_their_number_for_every_offset():
    assert audio.num_windows(35, 10) == 2 and audio.num_windows(19, 10) == 0
    np.testing.assert_array_equal(audio.window_starts(35, 10), [0, 10])
    for offset in range(10):
        starts = audio.window_starts(35, 10, offset)
        assert len(starts) == 2 and starts[-1] + 10 <= 35
    with pytest.raises(ValueError, match="offset"):
        audio.window_starts(35, 10, 10)


def test_spectrogram_shows_a_tone_at_its_frequency():
    t = np.arange(4000) / 8000
    rgb = audio.spectrogram(np.sin(2 * np.pi * 1000 * t))  # 1 kHz of a 4 kHz band: bin 32 of 129
    assert rgb.dtype == np.uint8 and rgb.shape == (129, (4000 - 256) // 64 + 1, 3)
    brightness = rgb.astype(float).sum(axis=(1, 2))
    assert np.argmax(brightness) == 128 - 32  # high frequencies at the top


def make_folder(root, n, rate=8000, length=1000):
    """n WAV files in nested folders, file i holding the constant sample 100 * i."""
    for i in range(n):
        sub = root / ("a" if i % 2 else "b") / f"clip{i:02d}.wav"
        write_raw(sub, rate=rate, frames=np.full(length, 100 * i, "<i2").tobytes())
    return root


def test_speech_builder_reads_a_folder_recursively_and_splits_by_file(tmp_path):
    root = make_folder(tmp_path / "wavs", 20, length=9000)
    (root / "README.txt").write_text("not audio, ignored")
    relative = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.wav"))
    val, spec = tfdata.load("speech", "validation", root)
    assert spec.kind == "audio" and spec.sample_rate == 8000 and spec.example_shape == (8000,)
    # 18 training files of 9000 samples end to end: 162000 samples, 19 windows (one fewer than fit);
    # validation: files 9 and 19 of the sorted paths, 18000 samples, 1 window.
    assert spec.num_examples == {"train": 19, "validation": 1}
    (window,) = list(val.as_numpy_iterator())
    # The window is the first 8000 samples of the first held-out file (sorted by path, not by name).
    held_out = relative[9]
    expected = audio.mu_law_encode(audio.to_float(np.int16(100 * int(held_out[-6:-4]))))
    assert window.dtype == np.uint8 and set(window.tolist()) == {int(expected)}
    (everything, _) = tfdata.load("speech", "all", root)
    assert everything.cardinality() == 20 * 9000 // 8000 - 1


def test_speech_builder_names_a_bad_file(tmp_path):
    root = make_folder(tmp_path / "wavs", 3)
    bad = write_raw(root / "a" / "z_stereo.wav", channels=2, frames=b"\x00" * 8)
    with pytest.raises(DataError, match=f"{bad}: 2 channels"):
        tfdata.load("speech", "train", root)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no .wav files"):
        tfdata.load("speech", "train", tmp_path / "empty")


def test_speech_on_the_shared_recordings(speech_dir):
    """The shared prompts: 453 training and 50 validation files, one-second windows of mu-law classes."""
    train, spec = tfdata.load("speech", "train", speech_dir)
    val, _ = tfdata.load("speech", "validation", speech_dir)
    assert spec.sample_rate == 8000 and spec.num_classes == 256 and spec.example_shape == (8000,)
    assert spec.num_examples == {"train": 1242, "validation": 109}
    windows = np.stack(list(val.as_numpy_iterator()))
    assert windows.shape == (109, 8000) and windows.dtype == np.uint8
    # Telephony prompts are mostly near-silence: the two classes around 0 are the commonest.
    assert np.bincount(windows.ravel(), minlength=256).argmax() in (127, 128)
    # Each epoch cuts the training windows at a new offset; their number stays the same.
    first = datasets.training_view("speech", speech_dir, seed=0, epoch=0)
    second = datasets.training_view("speech", speech_dir, seed=0, epoch=1)
    assert first.cardinality() == second.cardinality() == 1242
    a, b = next(iter(first)).numpy(), next(iter(second)).numpy()
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, next(iter(datasets.training_view("speech", speech_dir, seed=0, epoch=0))).numpy())
