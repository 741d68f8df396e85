"""A test tone as heard through the sound server: its pitch and how much of it was heard.

Under load the sink can run dry for a moment and leave silence inside a sound; a gap is not lost
audio (a missing or repeated frame is), so lengths are counted in audible samples, not measured
from the first to the last."""

from __future__ import annotations

import numpy as np


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


def steady_frequency(samples: np.ndarray, rate: int) -> float:
    """The tone's frequency from the length of its cycles, counted only inside stretches of
    sound: a stream that falls behind real time leaves gaps of silence (with 1-byte chunks,
    dozens of 10-40 ms gaps), and an FFT over gaps moved its peak by up to 8 Hz. The median
    cycle is robust to the cut cycles at each gap's edges."""
    quiet = np.abs(samples) < 1e-3  # a 0.5-amplitude tone is this close to 0 for one sample
    edges = np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))
    gap_starts, gap_ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    in_gap = np.zeros(len(samples) + 1, dtype=np.int32)
    for start, end in zip(gap_starts, gap_ends, strict=True):
        if end - start >= 8:  # a real gap, not a zero crossing
            in_gap[start] += 1
            in_gap[end] -= 1
    stretch = np.cumsum(np.abs(np.diff(np.concatenate([[0], (np.cumsum(in_gap) > 0)]))))
    rising = np.flatnonzero((samples[:-1] < 0) & (samples[1:] >= 0))
    # Where between the two samples the tone crossed zero (linear interpolation).
    before, after = samples[rising], samples[rising + 1]
    crossings = rising + before / (before - after)
    whole = stretch[rising[1:]] == stretch[rising[:-1]]  # both ends in one stretch of sound
    cycles = np.diff(crossings)[whole]
    return float(rate / np.median(cycles)) if len(cycles) else 0.0


def audible_seconds(samples: np.ndarray, rate: int) -> float:
    """Seconds of samples above the floor (silence from the sink is exact zeros)."""
    return float(np.count_nonzero(np.abs(samples) > 2 / 32768)) / rate
