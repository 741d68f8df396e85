"""What the window and its sessions need from the speech workers and the recorder (injected).

The real ones are `voicedesk.workers.speaker.Speaker`, `voicedesk.workers.transcribe.Transcriber`
and `voicedesk.audio.capture.recorder.Recorder`; tests pass stand-ins with the same shape.
Signals are declared as read-only properties (a `Signal` on a QObject class reads as a
`SignalInstance` on its instances), so the type checker holds every stand-in to them. Errors
travel as `VoiceDeskError` objects, never as their message text.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import SignalInstance

from voicedesk.audio.capture.mic_capture import Listener
from voicedesk.engines.base import SpeechEngine
from voicedesk.engines.elevenlabs_realtime import LiveTake


class SpeakerPort(Protocol):
    @property
    def utterance_started(self) -> SignalInstance: ...  # (uid)

    @property
    def utterance_finished(self) -> SignalInstance: ...  # (uid)

    @property
    def utterance_failed(self) -> SignalInstance: ...  # (uid, VoiceDeskError)

    @property
    def progress(self) -> SignalInstance: ...  # (uid, state)

    @property
    def latency(self) -> SignalInstance: ...  # (uid, LatencyMarks)

    @property
    def piece(self) -> SignalInstance: ...  # (uid, index, count)

    @property
    def position(self) -> SignalInstance: ...  # (uid, share)

    def speak(self, text: str, voice_id: str | None = None) -> int: ...

    def stop(self) -> None: ...

    def is_busy(self) -> bool: ...

    def set_engine(self, engine: SpeechEngine) -> None: ...

    def set_output_device(self, device_id: bytes) -> None: ...

    def set_volume(self, volume: float) -> None: ...

    def shutdown(self, timeout_ms: int = 5000) -> None: ...


class TranscriberPort(Protocol):
    @property
    def transcribed(self) -> SignalInstance: ...  # (text)

    @property
    def failed(self) -> SignalInstance: ...  # (VoiceDeskError, retryable)

    @property
    def busy_changed(self) -> SignalInstance: ...  # (busy)

    def transcribe(self, pcm: bytes) -> None: ...

    def transcribe_live(self, pcm: bytes, live: LiveTake) -> None: ...

    def retry_last(self, engine: SpeechEngine | None = None) -> bool: ...

    @property
    def can_retry(self) -> bool: ...

    def set_engine(self, engine: SpeechEngine) -> None: ...

    def shutdown(self, timeout_ms: int = 5000) -> bool: ...


class RecorderPort(Protocol):
    @property
    def level(self) -> SignalInstance: ...  # (dBFS)

    @property
    def failed(self) -> SignalInstance: ...  # (VoiceDeskError)

    @property
    def capped(self) -> SignalInstance: ...  # ()

    def warm(self) -> bool: ...

    def cool(self) -> None: ...

    def start(self, listener: Listener | None = None) -> bool: ...

    def stop(self) -> bytes | None: ...

    def discard(self) -> None: ...

    def set_device(self, name: str | None) -> None: ...

    def close(self) -> None: ...
