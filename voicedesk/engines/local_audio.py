"""In-memory PCM helpers for the offline engine: int16 <-> float32, and shaping a synthesis run.

(Rate conversion is the playback decoder's: `audio.playback.decoder.PcmPassthrough`.)
"""

from __future__ import annotations

import numpy as np


def pcm_to_float32(pcm: bytes) -> np.ndarray:
    """s16le bytes -> float32 samples in [-1, 1). A trailing odd byte is dropped."""
    samples = np.frombuffer(pcm, dtype="<i2", count=len(pcm) // 2)
    return samples.astype(np.float32) / 32768.0


def raise_quiet(audio: np.ndarray, *, peak_dbfs: float, max_gain_db: float) -> np.ndarray:
    """`audio` (float32 in [-1, 1)) with one gain that brings its peak up to `peak_dbfs`, at
    most `max_gain_db`; a take at or above that peak, or all silence, comes back as it was.

    One gain for the whole take, so what the speaker did with their voice stays as it was: this
    is a microphone's gain set too low put right, not compression."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak <= 0.0:
        return audio
    gain = min(10 ** (peak_dbfs / 20) / peak, 10 ** (max_gain_db / 20))
    return audio if gain <= 1.0 else audio * np.float32(gain)


def float32_to_pcm(audio: np.ndarray) -> bytes:
    """float samples in [-1, 1] -> s16le bytes (clipped, so an overshoot can't wrap around)."""
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def shape_run(
    audio: np.ndarray,
    rate: int,
    *,
    gain: float,
    knee: float,
    silence: float,
    keep_seconds: float,
    trim_head: bool,
    trim_tail: bool,
) -> np.ndarray:
    """One synthesis run made ready to join the next: silence trimmed at the ends asked for
    (down to `keep_seconds`, so the cut is in quiet), a fixed `gain`, and a soft knee above
    `knee` so a peak rounds off instead of clipping. The same for every run, so the level is
    continuous across joins."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if trim_head or trim_tail:
        loud = np.flatnonzero(np.abs(audio) >= silence)
        if not loud.size:
            return audio[:0]
        keep = int(keep_seconds * rate)
        start = max(0, int(loud[0]) - keep) if trim_head else 0
        end = min(audio.size, int(loud[-1]) + 1 + keep) if trim_tail else audio.size
        audio = audio[start:end]
    audio = audio * gain
    over = np.abs(audio) > knee
    if over.any():
        room = 1.0 - knee
        magnitude = knee + room * np.tanh((np.abs(audio[over]) - knee) / room)
        audio[over] = np.sign(audio[over]) * magnitude
    return audio
