"""In-memory PCM helpers for the offline engine: int16 <-> float32 and resampling.

Nothing here touches the disk: PyAV's resampler (libswresample) works on frames in memory.
"""

from __future__ import annotations

import av
import numpy as np


def pcm_to_float32(pcm: bytes) -> np.ndarray:
    """s16le bytes -> float32 samples in [-1, 1). A trailing odd byte is dropped."""
    samples = np.frombuffer(pcm, dtype="<i2", count=len(pcm) // 2)
    return samples.astype(np.float32) / 32768.0


def float32_to_pcm(audio: np.ndarray) -> bytes:
    """float samples in [-1, 1] -> s16le bytes (clipped, so an overshoot can't wrap around)."""
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def resample_pcm(pcm: bytes, src_rate: int, dst_rate: int) -> bytes:
    """Resample mono s16le PCM with libswresample (band-limited, unlike np.interp)."""
    if src_rate == dst_rate or not pcm:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2", count=len(pcm) // 2).reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
    frame.sample_rate = src_rate
    resampler = av.AudioResampler(format="s16", layout="mono", rate=dst_rate)
    # resample(None) flushes the filter's tail; without it the last few ms are lost.
    frames = [*resampler.resample(frame), *resampler.resample(None)]
    return b"".join(f.to_ndarray().astype("<i2").tobytes() for f in frames)
