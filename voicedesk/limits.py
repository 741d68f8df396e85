"""The one process-wide limit on paid API calls, and the retry policy that goes with it.

Every ElevenLabs request (TTS and STT, GUI and CLI) holds one slot of `API_SLOTS` from before
the request is sent until its response is fully read or closed. A waiter can give up: a
cancelled request waiting for a slot returns at once instead of queueing behind others.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PySide6.QtCore import QSemaphore

from voicedesk.errors import Cancelled

MAX_CONCURRENT_API_CALLS = 3
API_SLOTS = QSemaphore(MAX_CONCURRENT_API_CALLS)

# How often a waiter looks at its cancel flag. Short, so Stop feels instant; the wait itself
# sleeps inside QSemaphore.tryAcquire, not in a Python busy loop.
_CANCEL_POLL_MS = 20


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """At most `attempts` tries in all, `delay` seconds apart, and only before the first byte."""

    attempts: int = 3
    delay: float = 0.6


RETRY = RetryPolicy()


@contextmanager
def api_slot(cancel: threading.Event | None = None) -> Iterator[None]:
    """Hold one API slot for the body of the `with`; raise `Cancelled` if cancelled first."""
    if cancel is None:
        API_SLOTS.acquire()
    else:
        while not API_SLOTS.tryAcquire(1, _CANCEL_POLL_MS):
            if cancel.is_set():
                raise Cancelled()
        if cancel.is_set():
            API_SLOTS.release()
            raise Cancelled()
    try:
        yield
    finally:
        API_SLOTS.release()


def wait_or_cancel(seconds: float, cancel: threading.Event | None) -> None:
    """Sleep between retries; `Cancelled` as soon as the flag is set."""
    if cancel is None:
        threading.Event().wait(seconds)
    elif cancel.wait(seconds):
        raise Cancelled()


@contextmanager
def try_api_slot() -> Iterator[bool]:
    """One API slot if one is free right now (the `with` gets True), else False at once.

    For background requests (the connection warm-up) that must never make a user's wait longer.
    """
    got = API_SLOTS.tryAcquire(1)
    try:
        yield got
    finally:
        if got:
            API_SLOTS.release()
