"""Streaming resampling to 16 kHz for input devices that can't record at that rate.

Only used as a fallback: PortAudio (or the sound server behind it) usually converts for us.
A boxcar low-pass followed by linear interpolation: plenty for speech-to-text, cheap enough to
run inside the audio callback, and stateful so block boundaries leave no clicks.
"""

from __future__ import annotations

import numpy as np


class StreamResampler:
    def __init__(self, in_rate: float, out_rate: float) -> None:
        self.step = in_rate / out_rate
        # Averaging `taps` input samples keeps most energy above the new Nyquist out.
        self.taps = max(1, round(self.step)) if self.step > 1 else 1
        self._carry = np.zeros(0, dtype=np.float32)
        self._pos = 0.0  # where the next output sample falls, in `_carry` coordinates

    def process(self, block: np.ndarray) -> bytes:
        """Resample one block of int16 samples; returns s16le bytes (maybe empty)."""
        x = np.concatenate([self._carry, block.astype(np.float32)])
        if self.taps > 1:
            sums = np.cumsum(np.concatenate([[0.0], x]), dtype=np.float64)
            y = ((sums[self.taps :] - sums[: -self.taps]) / self.taps).astype(np.float32)
        else:
            y = x
        if y.size < 2:
            self._carry = x
            return b""
        count = max(0, int(np.floor((y.size - 1 - self._pos) / self.step)) + 1)
        if self._pos > y.size - 1:
            count = 0
        positions = self._pos + self.step * np.arange(count)
        out = np.interp(positions, np.arange(y.size), y) if count else np.zeros(0, np.float32)
        next_pos = self._pos + self.step * count
        drop = min(int(next_pos), y.size - 1)
        self._carry = x[drop:]
        self._pos = next_pos - drop
        return np.clip(np.rint(out), -32768, 32767).astype("<i2").tobytes()
