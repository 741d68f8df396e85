"""Latency marks for one utterance, all on `time.monotonic()`."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True, slots=True)
class LatencyMarks:
    request_sent: float | None = None  # just before the engine is asked for speech
    first_byte: float | None = None  # the first encoded bytes reached the worker
    first_pcm: float | None = None  # the first decoded (non-silent) PCM was ready
    first_sample: float | None = None  # the first sample was handed to the audio device
    last_played: float | None = None  # the last sample had been played

    def with_marks(self, **marks: float) -> LatencyMarks:
        return replace(self, **marks)

    def as_dict(self) -> dict[str, float | None]:
        """The marks, plus each one's delay after the request in milliseconds."""
        marks = asdict(self)
        out: dict[str, float | None] = dict(marks)
        if self.request_sent is not None:
            for name, value in marks.items():
                if name != "request_sent" and value is not None:
                    out[f"{name}_ms"] = round((value - self.request_sent) * 1000, 1)
        if self.first_byte is not None and self.first_sample is not None:
            out["first_byte_to_first_sample_ms"] = round(
                (self.first_sample - self.first_byte) * 1000, 1
            )
        return out

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), separators=(",", ":"))
