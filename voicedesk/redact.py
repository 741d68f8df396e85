"""Keeping the API key out of every log record, whoever logs it.

httpx, httpcore and the ElevenLabs SDK log at DEBUG; a library that one day logs a request's
headers, or a message that quotes a URL the user pasted a key into, must not put the key in a
log. Every record is redacted as it is made (a log record factory), so this holds for every
handler, including ones added later (a test's, a user's `logging.basicConfig`).
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

MASK = "***"
# Shorter strings would mask ordinary words; no real key is this short.
_MIN_SECRET = 8

_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()
_installed = False


def redact(text: str) -> str:
    """`text` with every registered secret replaced by `MASK`."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def register_secret(secret: str | None) -> None:
    """Mask `secret` in every log record from now on (installs the record factory once)."""
    global _secrets
    if not secret or len(secret) < _MIN_SECRET:
        return
    with _lock:
        _secrets = _secrets | {secret}
        _install()


def install() -> None:
    """Redact every log record from now on (secrets registered later included)."""
    with _lock:
        _install()


def _install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    logging.setLogRecordFactory(_redacting(logging.getLogRecordFactory()))


def _redacting(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if _secrets:
            _scrub(record)
        return record

    return factory


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: the handler reports it; keep nothing of its args
        message = str(record.msg)
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if redact(text) != text:
            # Formatter uses exc_text as it is when set; the exception itself is dropped.
            record.exc_text = redact(text)
            record.exc_info = None
