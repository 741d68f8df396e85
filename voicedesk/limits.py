"""The one process-wide limit on paid API calls, and the retry policy that goes with it.

Every ElevenLabs request (TTS and STT, GUI and CLI) holds one slot of `API_SLOTS` from before
the request is sent until its response is fully read or closed. A waiter can give up: a
cancelled request waiting for a slot returns at once instead of queueing behind others.

A plan that allows fewer requests at once than `MAX_CONCURRENT_API_CALLS` (the service says so
in each response's `maximum-concurrent-requests` header) lowers the app's own count:
`set_plan_limit` holds the surplus slots back, so `API_SLOTS` stays the single gate and a fourth
request waits here instead of earning a 429. Slots in use when the plan is lowered are held
back as they come free; a higher plan hands them back at once.
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


class _PlanCap:
    """The slots of `API_SLOTS` held back because the plan allows fewer requests at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wanted = 0  # slots to hold back
        self._held = 0  # slots held back now (<= _wanted; the rest are still in use)
        self.plan: int | None = None  # the plan's maximum, as last reported

    def set(self, maximum: int | None) -> int:
        with self._lock:
            self.plan = maximum if maximum is not None and maximum > 0 else None
            wanted = 0 if self.plan is None else max(0, MAX_CONCURRENT_API_CALLS - self.plan)
            self._wanted = wanted
            if self._held > wanted:
                API_SLOTS.release(self._held - wanted)
                self._held = wanted
            while self._held < wanted and API_SLOTS.tryAcquire(1):
                self._held += 1
            return MAX_CONCURRENT_API_CALLS - wanted

    def give_back(self) -> None:
        """One slot is free again: held back if the plan wants more held, else released."""
        with self._lock:
            if self._held < self._wanted:
                self._held += 1
                return
        API_SLOTS.release()

    def slots(self) -> int:
        with self._lock:
            return MAX_CONCURRENT_API_CALLS - self._wanted

    def held(self) -> int:
        with self._lock:
            return self._held


_CAP = _PlanCap()


def set_plan_limit(maximum: int | None) -> int:
    """The plan allows `maximum` requests at once (None or 0: unknown, no limit of its own).

    Returns the app's slot count from now on: `min(MAX_CONCURRENT_API_CALLS, maximum)`.
    Thread-safe; call it from whichever thread read the header.
    """
    return _CAP.set(maximum)


def app_slots() -> int:
    """How many requests the app lets run at once now (3, or fewer on a smaller plan)."""
    return _CAP.slots()


def plan_limit() -> int | None:
    """The plan's maximum concurrent requests as last reported, or None if never reported."""
    return _CAP.plan


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
            _CAP.give_back()
            raise Cancelled()
    try:
        yield
    finally:
        _CAP.give_back()


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
            _CAP.give_back()
