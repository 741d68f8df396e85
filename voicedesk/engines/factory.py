"""Choosing the engine: ElevenLabs when a key is configured, else the offline one."""

from __future__ import annotations

from voicedesk.config import Settings
from voicedesk.engines.base import SpeechEngine
from voicedesk.errors import InvalidKeyError


def create_engine(settings: Settings, choice: str | None = None) -> SpeechEngine:
    """The engine for `choice` ("auto", "elevenlabs", "local"; None means the settings' own)."""
    if choice and choice != settings.engine:
        settings = _with_engine(settings, choice)
    if settings.resolved_engine() == "elevenlabs":
        if not settings.api_key:
            raise InvalidKeyError(
                "No ElevenLabs API key is configured: set ELEVENLABS_API_KEY or add it in Settings."
            )
        from voicedesk.engines.elevenlabs import ElevenLabsEngine

        return ElevenLabsEngine(
            settings.api_key,
            base_url=settings.base_url,
            model_id=settings.model_id,
            voice_id=settings.voice_id,
            voice_settings=settings.voice_settings(),
            timeout=settings.read_timeout,
            allow_insecure_http=settings.allow_insecure_http,
            erase_after_use=settings.erase_after_use,
        )
    from voicedesk.engines.local import LocalEngine

    return LocalEngine()


def _with_engine(settings: Settings, choice: str) -> Settings:
    from dataclasses import replace

    return replace(settings, engine=choice)  # type: ignore[arg-type]
