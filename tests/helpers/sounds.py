"""Test sounds as s16le mono bytes, made in memory from the emulator's own generators."""

from __future__ import annotations

import numpy as np

from tests.emulator.audio import espeak, tone
from voicedesk.audio.playback.decoder import PcmPassthrough
from voicedesk.audio.playback.pcm import PcmFormat


def to_pcm(samples: np.ndarray) -> bytes:
    """Float samples in [-1, 1] as s16le bytes."""
    return (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def tone_pcm(
    seconds: float, freq: float = 440.0, rate: int = 44_100, amplitude: float = 0.5
) -> bytes:
    """A sine (with 5 ms fades, so it has no clicks)."""
    return to_pcm(tone(seconds, freq, rate, amplitude))


def speech_pcm(text: str, rate: int = 16_000) -> bytes:
    """`text` spoken by espeak-ng (piped, never a file), resampled to `rate`."""
    return to_pcm(espeak(text, rate))


def resample_pcm(pcm: bytes, src_rate: int, dst_rate: int) -> bytes:
    """Mono s16le PCM at another rate, through the player's own converter (PyAV's
    libswresample, band-limited), flushed so that the filter's last few ms are kept."""
    convert = PcmPassthrough(PcmFormat(src_rate), PcmFormat(dst_rate))
    return convert.feed(pcm) + convert.flush()


def quiet_take(pcm: bytes, peak_dbfs: float, noise_dbfs: float, seed: int, rate: int) -> bytes:
    """`pcm` as a microphone with its gain set too low records it: scaled to peak at
    `peak_dbfs`, with half a second before and after, and room noise (`noise_dbfs` RMS, white,
    seeded) under all of it."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    samples *= 10 ** (peak_dbfs / 20) * 32767 / max(1.0, float(np.abs(samples).max()))
    pad = np.zeros(rate // 2)
    samples = np.concatenate([pad, samples, pad])
    return _with_noise(samples, noise_dbfs, seed)


def room_noise(seconds: float, noise_dbfs: float, seed: int, rate: int) -> bytes:
    """Room noise alone (a press of the key with nothing said): white, `noise_dbfs` RMS."""
    return _with_noise(np.zeros(int(seconds * rate)), noise_dbfs, seed + 1000)


def _with_noise(samples: np.ndarray, noise_dbfs: float, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    samples = samples + rng.normal(0, 32768 * 10 ** (noise_dbfs / 20), samples.size)
    return np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()
