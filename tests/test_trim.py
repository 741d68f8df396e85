"""Trimming silence never cuts speech and keeps a margin around it."""

from __future__ import annotations

import numpy as np
import pytest

from voicedesk.audio.capture.trim import MARGIN_SECONDS, speech_bounds, trim_silence

RATE = 16_000


def _tone(seconds: float, amplitude: float = 0.3, freq: float = 300.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (np.sin(2 * np.pi * freq * t) * amplitude * 32767).astype("<i2")


def _noise(seconds: float, dbfs: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rms = 32768 * 10 ** (dbfs / 20)
    return np.clip(rng.normal(0, rms, int(seconds * RATE)), -32768, 32767).astype("<i2")


def test_trims_digital_silence_and_keeps_a_margin() -> None:
    speech = _tone(1.0)
    pcm = np.concatenate([np.zeros(RATE, "<i2"), speech, np.zeros(2 * RATE, "<i2")])
    start, end = speech_bounds(pcm, RATE)
    margin = int(MARGIN_SECONDS * RATE)
    assert start == RATE - margin
    assert end == 2 * RATE + margin
    assert trim_silence(pcm.tobytes()) == pcm[start:end].tobytes()


def test_keeps_a_soft_onset_in_room_noise() -> None:
    # A quiet "f"-like onset 15 dB under the vowel, in -60 dBFS room noise: all of it stays.
    onset = _noise(0.12, -40.0, seed=2)
    vowel = _tone(0.5, amplitude=0.2)
    pcm = np.concatenate([_noise(1.0, -60.0), onset, vowel, _noise(1.0, -60.0, seed=3)])
    start, end = speech_bounds(pcm, RATE)
    assert start <= RATE - int(0.15 * RATE)
    assert end >= RATE + onset.size + vowel.size + int(0.15 * RATE)


def test_a_loud_room_does_not_swallow_a_quiet_voice() -> None:
    voice = _tone(0.8, amplitude=0.05)  # ~-29 dBFS
    pcm = np.concatenate([_noise(0.5, -35.0), voice + _noise(0.8, -35.0, 4), _noise(0.5, -35, 5)])
    start, end = speech_bounds(pcm, RATE)
    assert start <= int(0.5 * RATE) and end >= int(1.3 * RATE)


@pytest.mark.parametrize(
    "samples",
    [np.zeros(0, "<i2"), np.zeros(RATE, "<i2"), _noise(1, -70)],
    ids=["empty", "zeros", "hiss"],
)
def test_nothing_standing_out_is_left_whole(samples: np.ndarray) -> None:
    assert speech_bounds(samples, RATE) == (0, samples.size)


def test_odd_byte_counts_and_buffers_are_accepted() -> None:
    pcm = bytearray(_tone(0.5).tobytes()) + b"\x01"
    assert trim_silence(pcm) == bytes(pcm[:-1])
