"""The one PCM shape voicedesk plays: signed 16-bit little-endian, interleaved."""

from __future__ import annotations

from dataclasses import dataclass

SAMPLE_WIDTH = 2  # bytes per sample (s16le)


@dataclass(frozen=True, slots=True)
class PcmFormat:
    sample_rate: int
    channels: int = 1

    @property
    def bytes_per_frame(self) -> int:
        return SAMPLE_WIDTH * self.channels

    @property
    def bytes_per_second(self) -> int:
        return self.sample_rate * self.bytes_per_frame

    def duration(self, nbytes: int) -> float:
        """Seconds of audio in `nbytes` of PCM."""
        return nbytes / self.bytes_per_second

    def bytes_for(self, seconds: float) -> int:
        """Whole frames' worth of bytes for `seconds` of audio."""
        return int(seconds * self.sample_rate) * self.bytes_per_frame

    @property
    def layout(self) -> str:
        """The FFmpeg channel layout name PyAV's resampler takes."""
        return {1: "mono", 2: "stereo"}.get(self.channels, f"{self.channels}c")
