"""Turning what the ElevenLabs SDK and httpx raise into errors a user can read.

Kept apart from the engine so the mapping can be read (and tested) in one place. A message
never carries the API key: the key is scrubbed from anything the server sends back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from elevenlabs.core.api_error import ApiError

from voicedesk.errors import (
    InvalidKeyError,
    NetworkError,
    QuotaExceededError,
    RateLimitedError,
    ServiceError,
    TextTooLongError,
    VoiceDeskError,
    VoiceNotFoundError,
)


@dataclass(frozen=True, slots=True)
class Failure:
    """What went wrong with one attempt, and whether another attempt may help."""

    error: VoiceDeskError
    retryable: bool


def _detail(body: Any) -> tuple[str, str]:
    """(status, message) from `{"detail": {"status": ..., "message": ...}}`, however shaped."""
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, dict):
        return str(detail.get("status") or detail.get("code") or ""), str(
            detail.get("message") or ""
        )
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):  # a 422
        return "validation_error", str(detail[0].get("msg") or "")
    return "", str(detail or "")


def scrub(text: str, secret: str | None) -> str:
    if secret and secret in text:
        text = text.replace(secret, "***")
    return text


def _concurrency(headers: dict[str, str] | None) -> str:
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    current = headers.get("current-concurrent-requests")
    maximum = headers.get("maximum-concurrent-requests")
    if current and maximum:
        return f" ({current} of {maximum} concurrent requests in use on this account)"
    return ""


def classify(exc: BaseException, api_key: str | None) -> Failure:
    """Map an SDK or transport exception to a user-facing error; say if a retry may help."""
    if isinstance(exc, ApiError):
        status_code = exc.status_code or 0
        status, message = _detail(exc.body)
        message = scrub(message, api_key)
        if status == "quota_exceeded":
            return Failure(QuotaExceededError(), retryable=False)
        if status_code == 401 or status in ("invalid_api_key", "needs_authorization"):
            return Failure(InvalidKeyError(), retryable=False)
        if status == "voice_not_found" or (status_code == 404 and "voice" in message.lower()):
            return Failure(VoiceNotFoundError(), retryable=False)
        if status == "max_character_limit_exceeded":
            return Failure(TextTooLongError(), retryable=False)
        if status_code == 429:
            text = RateLimitedError.default_message.rstrip(".") + _concurrency(exc.headers) + "."
            return Failure(RateLimitedError(text), retryable=True)
        if status_code >= 500:
            return Failure(
                ServiceError(f"ElevenLabs had a server error ({status_code}). Try again."),
                retryable=False,
            )
        detail = f": {message}" if message else ""
        return Failure(
            ServiceError(f"ElevenLabs rejected the request ({status_code}){detail}"),
            retryable=False,
        )
    if isinstance(exc, httpx.TimeoutException):
        return Failure(NetworkError("ElevenLabs did not answer in time."), retryable=True)
    if isinstance(exc, httpx.TransportError):
        # Connection refused or reset, DNS failure, a protocol error before any audio.
        return Failure(NetworkError(), retryable=True)
    return Failure(ServiceError(f"Unexpected error from ElevenLabs ({type(exc).__name__})."), False)
