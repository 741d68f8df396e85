"""The engine protocol every speech backend implements, and the errors users see.

Everything here is plain Python: no Qt, so engines can be driven from tests, the CLI and
QThread workers alike.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from voicedesk.errors import (  # re-exported: the engine API names them here too
    STT_CHANNELS,
    STT_SAMPLE_RATE,
    STT_SAMPLE_WIDTH,
    Cancelled,
    EmptyTextError,
    EngineUnavailableError,
    InputDeviceError,
    InvalidKeyError,
    NetworkError,
    NoInputDeviceError,
    NoOutputDeviceError,
    QuotaExceededError,
    RateLimitedError,
    RecordingTooLongError,
    RecordingTooShortError,
    ServiceError,
    StreamInterruptedError,
    TextTooLongError,
    VoiceDeskError,
    VoiceNotFoundError,
)


@dataclass(frozen=True, slots=True)
class SpeechFormat:
    """What `stream_speech` yields: MP3 frames, or raw s16le PCM at `sample_rate`."""

    codec: Literal["mp3", "pcm_s16le"]
    sample_rate: int
    channels: int = 1


@dataclass(frozen=True, slots=True)
class Voice:
    voice_id: str
    name: str
    category: str = ""
    preview_url: str = ""


@dataclass(frozen=True, slots=True)
class Quota:
    """Characters used and allowed in the current billing period."""

    used: int
    limit: int
    tier: str = ""

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


# `on_piece(index, count)`: long text is spoken in `count` pieces; called on the consuming thread
# before piece `index` (0-based) is produced, so every byte yielded after the call belongs to it.
PieceCallback = Callable[[int, int], None]


@runtime_checkable
class SpeechEngine(Protocol):
    """A text-to-speech and speech-to-text backend.

    `cancel`, when given, is checked while waiting (for a free API slot, between retries, between
    chunks); setting it makes the call end promptly with `Cancelled`. `on_piece`, when given,
    is told where each piece of `stream_speech`'s output begins (see `PieceCallback`).
    """

    name: str
    speech_format: SpeechFormat
    default_voice_id: str

    def stream_speech(
        self,
        text: str,
        voice_id: str | None = None,
        *,
        cancel: threading.Event | None = None,
        on_piece: PieceCallback | None = None,
    ) -> Iterator[bytes]: ...

    def generate_speech(
        self, text: str, voice_id: str | None = None, *, cancel: threading.Event | None = None
    ) -> bytes:
        """The whole utterance in memory (engines that subclass this protocol inherit it)."""
        return b"".join(self.stream_speech(text, voice_id, cancel=cancel))

    def transcribe_audio(
        self, pcm: bytes, language: str = "en", *, cancel: threading.Event | None = None
    ) -> str: ...

    def voices(self) -> list[Voice]: ...

    def quota(self) -> Quota | None: ...

    def close(self) -> None: ...


__all__ = [
    "STT_CHANNELS",
    "STT_SAMPLE_RATE",
    "STT_SAMPLE_WIDTH",
    "Cancelled",
    "EmptyTextError",
    "EngineUnavailableError",
    "InputDeviceError",
    "InvalidKeyError",
    "NetworkError",
    "NoInputDeviceError",
    "NoOutputDeviceError",
    "PieceCallback",
    "Quota",
    "QuotaExceededError",
    "RateLimitedError",
    "RecordingTooLongError",
    "RecordingTooShortError",
    "ServiceError",
    "SpeechEngine",
    "SpeechFormat",
    "StreamInterruptedError",
    "TextTooLongError",
    "Voice",
    "VoiceDeskError",
    "VoiceNotFoundError",
]
