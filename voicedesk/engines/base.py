"""The engine protocol every speech backend implements, and the errors users see.

Everything here is plain Python: no Qt, so engines can be driven from tests, the CLI and
QThread workers alike.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

# What speech-to-text takes everywhere in voicedesk: raw PCM, no container.
STT_SAMPLE_RATE = 16_000
STT_SAMPLE_WIDTH = 2  # bytes, signed 16-bit little-endian
STT_CHANNELS = 1


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


class VoiceDeskError(Exception):
    """An error a user can read: `message` fits a status bar; no traceback, never a secret."""

    default_message = "Something went wrong."
    #: Whether trying the same thing again later might succeed (shown as a "Retry" action).
    retryable = False

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class EmptyTextError(VoiceDeskError):
    default_message = "There is nothing to speak: type some text first."


class InvalidKeyError(VoiceDeskError):
    default_message = "The ElevenLabs API key was rejected. Check it in Settings."


class QuotaExceededError(VoiceDeskError):
    default_message = "Your ElevenLabs character quota is used up for this period."


class VoiceNotFoundError(VoiceDeskError):
    default_message = "That voice is not available on this ElevenLabs account. Pick another voice."


class TextTooLongError(VoiceDeskError):
    default_message = "The text is too long for one request."


class RateLimitedError(VoiceDeskError):
    default_message = "ElevenLabs is busy (too many requests at once). Try again in a moment."
    retryable = True


class NetworkError(VoiceDeskError):
    default_message = "Could not reach ElevenLabs. Check your network connection."
    retryable = True


class StreamInterruptedError(VoiceDeskError):
    default_message = "The connection dropped while speaking; the rest of the text was not played."
    retryable = True


class ServiceError(VoiceDeskError):
    default_message = "ElevenLabs returned an error."
    retryable = True


class Cancelled(VoiceDeskError):
    default_message = "Stopped."


class NoInputDeviceError(VoiceDeskError):
    default_message = "No microphone was found. Connect one or choose another in Settings."


class InputDeviceError(VoiceDeskError):
    default_message = "The microphone could not be opened (busy, or permission refused)."


class NoOutputDeviceError(VoiceDeskError):
    default_message = "No audio output device was found. Connect speakers or headphones."


class RecordingTooShortError(VoiceDeskError):
    default_message = "That was too short to transcribe: hold the key while you speak."


class RecordingTooLongError(VoiceDeskError):
    default_message = "The recording reached its length limit and was stopped."


class EngineUnavailableError(VoiceDeskError):
    default_message = "The offline speech engine is not installed."
