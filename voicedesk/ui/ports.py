"""What the window needs from the speech workers and the recorder (they are injected).

The real ones are `voicedesk.workers.speaker.Speaker`, `voicedesk.workers.transcribe.Transcriber`
and `voicedesk.audio.capture.recorder.Recorder`; tests pass stand-ins with the same shape. Only
the methods are listed here: the signals are looked up by name when the window wires them.
"""

from __future__ import annotations

from typing import Protocol

from voicedesk.audio.capture.mic_capture import Listener
from voicedesk.engines.base import SpeechEngine
from voicedesk.engines.elevenlabs_realtime import LiveTake


class SpeakerPort(Protocol):
    """Signals: utterance_started(id), utterance_finished(id), utterance_failed(id, message),
    progress(id, state), latency(id, LatencyMarks), piece(id, index, count),
    position(id, share), idle()."""

    def speak(self, text: str, voice_id: str | None = None) -> int: ...

    def stop(self) -> None: ...

    def set_engine(self, engine: SpeechEngine) -> None: ...

    def set_output_device(self, device_id: bytes) -> None: ...

    def set_volume(self, volume: float) -> None: ...

    def shutdown(self) -> None: ...


class TranscriberPort(Protocol):
    """Signals: transcribed(text), failed(message, retryable)."""

    def transcribe(self, pcm: bytes) -> None: ...

    def transcribe_live(self, pcm: bytes, live: LiveTake) -> None: ...

    def retry_last(self, engine: SpeechEngine | None = None) -> bool: ...

    @property
    def can_retry(self) -> bool: ...

    def set_engine(self, engine: SpeechEngine) -> None: ...

    def shutdown(self, timeout_ms: int = 5000) -> bool: ...


class RecorderPort(Protocol):
    """Signals: level(dBFS), error(message), capped()."""

    def start(self, listener: Listener | None = None) -> bool: ...

    def stop(self) -> bytes | None: ...

    def discard(self) -> None: ...

    def set_device(self, name: str | None) -> None: ...

    def close(self) -> None: ...
