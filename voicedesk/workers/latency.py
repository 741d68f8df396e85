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
    # The network part, for engines that speak HTTP (None otherwise): the request whose answer
    # was played opened a connection from connect_start to connect_end (TCP and TLS), or went
    # out on a pooled one (connection_reused); its answer's head arrived at response_head.
    connect_start: float | None = None
    connect_end: float | None = None
    response_head: float | None = None
    connection_reused: bool | None = None

    def with_marks(self, **marks: float | bool | None) -> LatencyMarks:
        return replace(self, **marks)  # type: ignore[arg-type]

    def parts_ms(self) -> dict[str, float]:
        """Where the wait went: connect, request → first byte, first byte → audible (ms).

        `connect_ms` is 0 on a reused connection and missing when the engine has no network;
        `request_to_first_byte_ms` counts from the request leaving (after the connect, if any).
        """
        parts: dict[str, float] = {}
        if self.connection_reused:
            parts["connect_ms"] = 0.0
        elif self.connect_start is not None and self.connect_end is not None:
            parts["connect_ms"] = _ms(self.connect_end - self.connect_start)
        if self.request_sent is not None and self.first_byte is not None:
            sent = self.request_sent
            if not self.connection_reused and self.connect_end is not None:
                sent = max(sent, self.connect_end)
            parts["request_to_first_byte_ms"] = _ms(self.first_byte - sent)
        if self.first_byte is not None and self.first_sample is not None:
            parts["first_byte_to_first_sample_ms"] = _ms(self.first_sample - self.first_byte)
        return parts

    def breakdown(self) -> str:
        """The parts as one line for a tooltip, e.g. "connect 95 ms · request → first byte …"."""
        parts = self.parts_ms()
        text = []
        if "connect_ms" in parts:
            reused = " (connection reused)" if self.connection_reused else ""
            text.append(f"connect {parts['connect_ms']:.0f} ms{reused}")
        if "request_to_first_byte_ms" in parts:
            text.append(f"request → first byte {parts['request_to_first_byte_ms']:.0f} ms")
        if "first_byte_to_first_sample_ms" in parts:
            text.append(f"first byte → audible {parts['first_byte_to_first_sample_ms']:.0f} ms")
        return " · ".join(text)

    def as_dict(self) -> dict[str, float | bool | None]:
        """The marks, plus each one's delay after the request and the parts, in milliseconds."""
        marks = asdict(self)
        out: dict[str, float | bool | None] = dict(marks)
        if self.request_sent is not None:
            for name, value in marks.items():
                if name not in ("request_sent", "connection_reused") and value is not None:
                    out[f"{name}_ms"] = _ms(value - self.request_sent)
        out.update(self.parts_ms())
        return out

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), separators=(",", ":"))


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
