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
