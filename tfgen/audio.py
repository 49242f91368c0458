"""Audio as tfgen models it: 16-bit mono WAV files, mu-law classes, windows, spectrograms.

numpy and the standard library only: `tools/tflite_sample.py` writes WAVs on a
device without TensorFlow.

* `read_wav` / `write_wav`: 16-bit mono PCM WAV files. A file that is not a
  WAV, has the wrong sample rate, is stereo or 8-bit, is empty or is
  truncated raises `DataError` naming the file.
* `mu_law_encode` / `mu_law_decode`: the ITU-T G.711 companding curve
  quantised to `classes` levels (256 in WaveNet): quiet sounds get fine steps,
  loud ones coarse steps, so 8 bits keep speech intelligible.
* `window_starts`: where fixed-length training windows are cut from a stream.
* `spectrogram`: a log-magnitude short-time Fourier picture, RGB.
"""

import dataclasses
import wave
from pathlib import Path

import numpy as np

from tfgen.errors import DataError

SAMPLE_WIDTH = 2  # bytes: 16-bit PCM
FULL_SCALE = 32768.0
SPECTROGRAM_HOP = 64  # samples between spectrogram columns


@dataclasses.dataclass
class Clip:
    """A sound to write or play: float samples in [-1, 1] at a rate."""

    samples: np.ndarray
    sample_rate: int

    def write(self, path):
        return write_wav(path, self.samples, self.sample_rate)


def read_wav(path, sample_rate=None):
    """Samples of a 16-bit mono PCM WAV file as int16 [N].

    Args:
        path: the file.
        sample_rate: the rate the file must have (None: any).
    Raises:
        DataError naming the file: missing, not a WAV, wrong rate, not mono,
        not 16-bit, no samples, or fewer bytes than its header declares.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    try:
        with wave.open(str(path), "rb") as f:
            channels, width, rate, frames = f.getnchannels(), f.getsampwidth(), f.getframerate(), f.getnframes()
            data = f.readframes(frames)
    except (wave.Error, EOFError) as e:
        raise DataError(path, f"not a PCM WAV file ({e})") from None
    if channels != 1:
        raise DataError(path, f"{channels} channels; tfgen reads mono audio (mix down first)")
    if width != SAMPLE_WIDTH:
        raise DataError(path, f"{8 * width}-bit samples; tfgen reads 16-bit PCM")
    if sample_rate is not None and rate != sample_rate:
        raise DataError(path, f"sample rate {rate} Hz; this dataset is {sample_rate} Hz (resample first)")
    if frames == 0:
        raise DataError(path, "no samples")
    if len(data) < frames * SAMPLE_WIDTH:
        raise DataError(
            path, f"truncated: the header declares {frames} samples, the file holds {len(data) // SAMPLE_WIDTH}"
        )
    return np.frombuffer(data, dtype="<i2").astype(np.int16), rate


def write_wav(path, samples, sample_rate):
    """Writes int16 [N] (or floats in [-1, 1]) as a 16-bit mono PCM WAV file; returns the path."""
    samples = np.asarray(samples)
    if samples.dtype.kind == "f":
        samples = to_pcm(samples)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(SAMPLE_WIDTH)
        f.setframerate(int(sample_rate))
        f.writeframes(samples.astype("<i2").tobytes())
    return path


def to_float(pcm):
    """int16 samples to floats in [-1, 1)."""
    return np.asarray(pcm, np.float64) / FULL_SCALE


def to_pcm(x):
    """Floats in [-1, 1] to int16, clipped."""
    return np.clip(np.round(np.asarray(x, np.float64) * FULL_SCALE), -FULL_SCALE, FULL_SCALE - 1).astype(np.int16)


def mu_law_encode(x, classes=256):
    """Floats in [-1, 1] to mu-law classes 0..classes-1 (mu = classes - 1).

    F(x) = sign(x) ln(1 + mu|x|) / ln(1 + mu) in [-1, 1], then uniform bins:
    class = floor((F(x) + 1) / 2 * mu + 1/2).
    """
    mu = classes - 1
    x = np.clip(np.asarray(x, np.float64), -1.0, 1.0)
    companded = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    return np.floor((companded + 1.0) / 2.0 * mu + 0.5).astype(np.int32)


def mu_law_decode(classes_, classes=256):
    """mu-law classes back to floats in [-1, 1]: the inverse curve at each bin's centre value."""
    mu = classes - 1
    companded = 2.0 * np.asarray(classes_, np.float64) / mu - 1.0
    return np.sign(companded) * np.expm1(np.abs(companded) * np.log1p(mu)) / mu


def num_windows(total, length):
    """Windows of `length` cut from a stream of `total` samples (one fewer than fit, so any offset < length works)."""
    return max(total // length - 1, 0)


def window_starts(total, length, offset=0):
    """Start indices of the non-overlapping windows: offset + k * length for k < num_windows.

    Args:
        total: samples in the stream.
        length: window length.
        offset: in [0, length); training draws a new one each epoch, so the
            windows are cut at different places while their number stays fixed.
    """
    if not 0 <= offset < length:
        raise ValueError(f"offset must be in [0, {length}), got {offset}")
    return offset + length * np.arange(num_windows(total, length))


def spectrogram(samples, frame=256, hop=SPECTROGRAM_HOP, floor_db=-80.0):
    """Log-magnitude spectrogram of float samples as RGB uint8 [frequency (high at top), time, 3]."""
    x = np.asarray(samples, np.float64)
    if len(x) < frame:
        x = np.pad(x, (0, frame - len(x)))
    starts = np.arange(0, len(x) - frame + 1, hop)
    frames = x[starts[:, None] + np.arange(frame)] * np.hanning(frame)
    magnitude = np.abs(np.fft.rfft(frames, axis=1)).T[::-1]  # [freq, time], low frequencies at the bottom
    db = 20 * np.log10(np.maximum(magnitude, 1e-10))
    db = np.clip(db - db.max(), floor_db, 0.0)
    level = (db - floor_db) / -floor_db  # 0 silent .. 1 loudest
    # A dark-blue to yellow ramp: loud is bright, and the picture still reads in grey.
    low, high = np.array([20, 20, 60], np.float64), np.array([250, 230, 80], np.float64)
    rgb = low + level[..., None] * (high - low)
    return np.round(rgb).astype(np.uint8)


def spectrogram_sheet(clips, mark=None, gap=4):
    """Spectrograms of several clips stacked top to bottom (white gaps), RGB.

    mark: a sample index to draw as a white vertical line on every row (where
    a completion's known part ends).
    """
    rows = []
    for samples in clips:
        rgb = spectrogram(samples)
        if mark is not None:
            column = min(mark // SPECTROGRAM_HOP, rgb.shape[1] - 1)
            rgb[:, column] = 255
        rows.append(rgb)
    width = max(r.shape[1] for r in rows)
    out = []
    for r in rows:
        out.append(np.pad(r, ((0, gap), (0, width - r.shape[1]), (0, 0)), constant_values=255))
    return np.concatenate(out)[:-gap] if gap else np.concatenate(out)
