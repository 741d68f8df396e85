"""Test sounds as s16le mono bytes, made in memory from the emulator's own generators."""

from __future__ import annotations

import numpy as np

from tests.emulator.audio import espeak, tone


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
