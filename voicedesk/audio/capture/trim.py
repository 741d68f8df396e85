"""Trimming leading and trailing silence from 16 kHz mono s16le PCM, in memory.

Conservative by design: a recording is only ever shortened at its ends, a margin of audio is
kept around the first and last frames that sound like speech (soft onsets such as "f" or "s"
sit below any threshold), and a recording in which nothing stands out is left whole.
"""

from __future__ import annotations

import numpy as np

from voicedesk.errors import STT_SAMPLE_RATE

FRAME_SECONDS = 0.01
MARGIN_SECONDS = 0.2
# Frames quieter than this are silence whatever the noise floor (16-bit silence is ~-96 dBFS).
FLOOR_DBFS = -50.0
# Speech stands this far above the room's noise floor...
ABOVE_NOISE_DB = 8.0
# ...but the threshold never rises above this far under the loudest frame, so loud rooms
# can't swallow a quiet voice.
BELOW_PEAK_DB = 20.0
_FRAMES_PER_PASS = 256


def frame_dbfs(samples: np.ndarray, frame: int) -> np.ndarray:
    """RMS level of each whole `frame`-sample block, in dBFS (full scale = 0)."""
    count = samples.size // frame
    frames = samples[: count * frame].reshape(count, frame)
    power = np.empty(count, dtype=np.float32)
    # A few hundred frames at a time: converting a 5-minute take to float in one go would
    # briefly need several times the recording's own size.
    for first in range(0, count, _FRAMES_PER_PASS):
        block = frames[first : first + _FRAMES_PER_PASS].astype(np.float32)
        block *= 1.0 / 32768.0
        power[first : first + _FRAMES_PER_PASS] = np.einsum("ij,ij->i", block, block) / frame
    return (10.0 * np.log10(np.maximum(power, 1e-12))).astype(np.float32)


def speech_bounds(
    samples: np.ndarray, rate: int = STT_SAMPLE_RATE, margin: float = MARGIN_SECONDS
) -> tuple[int, int]:
    """Sample indices [start, end) to keep: the speech plus `margin` seconds either side."""
    frame = max(1, int(rate * FRAME_SECONDS))
    levels = frame_dbfs(samples, frame)
    if levels.size == 0:
        return 0, int(samples.size)
    noise = float(np.percentile(levels, 10))
    peak = float(levels.max())
    threshold = max(FLOOR_DBFS, min(noise + ABOVE_NOISE_DB, peak - BELOW_PEAK_DB))
    loud = np.flatnonzero(levels > threshold)
    if loud.size == 0:
        return 0, int(samples.size)
    keep = int(margin * rate)
    start = max(0, int(loud[0]) * frame - keep)
    end = min(int(samples.size), (int(loud[-1]) + 1) * frame + keep)
    return start, end


def trim_silence(pcm: bytes | bytearray | memoryview, rate: int = STT_SAMPLE_RATE) -> bytes:
    """`pcm` without its leading and trailing silence (one copy of the kept part)."""
    view = memoryview(pcm).cast("B")
    with memoryview(view[: len(view) // 2 * 2]) as whole:
        start, end = speech_bounds(np.frombuffer(whole, dtype="<i2"), rate)
        return bytes(whole[start * 2 : end * 2])
