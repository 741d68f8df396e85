"""Emulator settings: one frozen value, swapped atomically so handlers see a consistent set."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .audio import AudioSpec
from .catalog import DEFAULT_VOICES, VoiceInfo

TEST_API_KEY = "sk_test_0123456789abcdef"
DEFAULT_TRANSCRIPT = "hello from the emulator"

# (audio bytes, multipart text fields) -> transcript text
Transcriber = Callable[[bytes, Mapping[str, str]], str]


@dataclass(frozen=True)
class Settings:
    api_keys: frozenset[str] = frozenset({TEST_API_KEY})
    voices: tuple[VoiceInfo, ...] = DEFAULT_VOICES
    audio: AudioSpec = field(default_factory=AudioSpec)
    transcript: str | Transcriber = DEFAULT_TRANSCRIPT
    # Stream defaults, used where no fault says otherwise.
    ttfb: float = 0.0
    pacing: float = 0.0
    chunk_size: int = 4096
    # Account. None disables the concurrency check (429 too_many_concurrent_requests).
    concurrency_limit: int | None = 10
    tier: str = "creator"
    character_limit: int = 1_000_000
    region: str = "us-central1"
    # Zero retention: an enterprise account may send `enable_logging=false`, and then nothing
    # of the request is kept (no history item, no transcript). Other accounts' flag is ignored.
    zero_retention: bool = False
    # Off: speech responses carry no `history-item-id` (clients find the item by `request-id`).
    history_item_header: bool = True
    # Recognition time, the same for batch STT and a realtime commit: `recognition_delay`
    # seconds plus `recognition_rate` seconds a second of audio not yet recognised (batch: the
    # whole take; realtime: what came after the last partial).
    recognition_delay: float = 0.0
    recognition_rate: float = 0.0
    # Realtime STT: a partial every `realtime_partial_every` seconds of audio received, one
    # more word of the transcript a `realtime_seconds_per_word`.
    realtime_partial_every: float = 0.2
    realtime_seconds_per_word: float = 0.3
    # Faults: send this error message type (see realtime.ERRORS) and close, once
    # `realtime_error_after` seconds of audio have arrived; or reset the connection (RST) once
    # `realtime_drop_after` seconds have.
    realtime_error: str | None = None
    realtime_error_after: float = 0.0
    realtime_drop_after: float | None = None

    def voice(self, voice_id: str) -> VoiceInfo | None:
        return next((v for v in self.voices if v.voice_id == voice_id), None)
