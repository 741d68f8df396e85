"""Turning what the ElevenLabs SDK and httpx raise into errors a user can read.

Kept apart from the engine so the mapping can be read (and tested) in one place. A message
never carries the API key: the key is scrubbed from anything the server sends back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pydantic
from elevenlabs.core.api_error import ApiError

from voicedesk.errors import (
    InvalidKeyError,
    NetworkError,
    QuotaExceededError,
    RateLimitedError,
    ServiceError,
    TextTooLongError,
    UnexpectedResponseError,
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
    if isinstance(body, str):
        return "", ""  # not JSON (an HTML page from a proxy): nothing fit for a status bar
    return "", str(detail or "")


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


T = TypeVar("T")

# What a speech answer may be labelled: MP3 (audio/mpeg) or any audio type, or untyped bytes.
_AUDIO_TYPES = ("audio/", "application/octet-stream")


def _media_type(content_type: str) -> str:
    """`text/html` from `text/html; charset=utf-8`, printable and short, for a message."""
    media = content_type.split(";", 1)[0].strip().lower()
    media = "".join(c for c in media if c.isprintable())[:60]
    return media or "an empty content type"


def check_audio_response(content_type: str | None) -> None:
    """`UnexpectedResponseError` for a 200 whose content type says it is not audio."""
    if content_type is None:
        return  # untyped: the decoder decides (nothing decoded is reported by the speaker)
    if not content_type.strip().lower().startswith(_AUDIO_TYPES):
        raise UnexpectedResponseError(
            f"ElevenLabs answered with {_media_type(content_type)} instead of audio. "
            "Check the base URL in Settings, or try again later."
        )


def expect(value: Any, kind: type[T], what: str) -> T:
    """`value` if it is a `kind`, else `UnexpectedResponseError` naming `what` was malformed."""
    if isinstance(value, kind):
        return value
    raise UnexpectedResponseError(
        f"ElevenLabs sent a {what} that could not be read. Check the base URL, or try again later."
    )


def _unreadable(exc: BaseException) -> bool:
    """A success status whose body is not the JSON the SDK expects (HTML, garbage, wrong shape)."""
    if isinstance(exc, ApiError):
        return 200 <= (exc.status_code or 0) < 300
    return isinstance(exc, (json.JSONDecodeError, pydantic.ValidationError, httpx.DecodingError))


def classify(exc: BaseException, api_key: str | None) -> Failure:
    """Map an SDK or transport exception to a user-facing error; say if a retry may help."""
    if _unreadable(exc):
        return Failure(
            UnexpectedResponseError(
                "ElevenLabs answered with something that is not what was asked for "
                "(not the expected JSON). Check the base URL, or try again later."
            ),
            retryable=False,
        )
    if isinstance(exc, ApiError):
        status_code = exc.status_code or 0
        status, message = _detail(exc.body)
        message = _one_line(scrub(message, api_key))
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
