"""What the emulator saw: one record per request, and the in-flight bookkeeping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .faults import Fault, Kind

REDACTED = "<redacted>"
Outcome = Literal["pending", "ok", "error", "reset", "cut", "client_gone", "stopped"]


@dataclass(eq=False)
class RequestRecord:
    """One request and how it was answered. Times are `time.monotonic()` seconds.

    `first_byte_at` is when the first body byte was handed to the socket; the `first_byte`,
    `stalled` and `done` events let a test wait for those moments without sleeping.
    """

    index: int
    kind: Kind
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names; the xi-api-key value is redacted
    api_key_valid: bool
    body: bytes = field(repr=False)
    fault: Fault
    started_at: float
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)  # multipart text parts, as sent
    audio: bytes | None = field(default=None, repr=False)  # the STT file part, or realtime audio
    # Realtime sessions: the client's messages (audio replaced by its size), the server's,
    # audio bytes received so far, and commits.
    messages: list[Any] = field(default_factory=list, repr=False)
    sent_messages: list[Any] = field(default_factory=list, repr=False)
    audio_bytes: int = 0
    commits: int = 0
    status: int | None = None
    headers_sent_at: float | None = None
    first_byte_at: float | None = None
    ended_at: float | None = None
    bytes_sent: int = 0  # body bytes, not counting chunk framing
    outcome: Outcome = "pending"
    first_byte: threading.Event = field(default_factory=threading.Event, repr=False)
    stalled: threading.Event = field(default_factory=threading.Event, repr=False)
    done: threading.Event = field(default_factory=threading.Event, repr=False)
    gate: threading.Event = field(default_factory=threading.Event, repr=False)

    def param(self, name: str) -> str | None:
        """The last value of query parameter `name`."""
        values = self.query.get(name)
        return values[-1] if values else None

    def release(self) -> None:
        """Let a stalled response carry on."""
        self.gate.set()

    @property
    def duration(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.started_at


class Recorder:
    """All records of one emulator run, with the most requests ever in flight at once."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._records: list[RequestRecord] = []
        self._in_flight: set[RequestRecord] = set()
        self.max_in_flight = 0
        self.max_in_flight_by_kind: dict[str, int] = {}

    def begin(self, record: RequestRecord) -> None:
        """Register a request (and number it)."""
        with self._cond:
            record.index = len(self._records)
            self._records.append(record)
            self._in_flight.add(record)
            self.max_in_flight = max(self.max_in_flight, len(self._in_flight))
            same = sum(1 for r in self._in_flight if r.kind == record.kind)
            peak = self.max_in_flight_by_kind.get(record.kind, 0)
            self.max_in_flight_by_kind[record.kind] = max(peak, same)
            self._cond.notify_all()

    def changed(self) -> None:
        """Wake waiters after a record changed (first byte, stall)."""
        with self._cond:
            self._cond.notify_all()

    def end(self, record: RequestRecord) -> None:
        with self._cond:
            record.ended_at = time.monotonic()
            if record.outcome == "pending":
                failed = record.status is None or record.status >= 400
                record.outcome = "error" if failed else "ok"
            self._in_flight.discard(record)
            record.done.set()
            self._cond.notify_all()

    def in_flight(self, kinds: tuple[str, ...] | None = None) -> list[RequestRecord]:
        with self._cond:
            return [r for r in self._in_flight if kinds is None or r.kind in kinds]

    def records(self) -> list[RequestRecord]:
        with self._cond:
            return list(self._records)

    def wait_for(self, predicate: Callable[[RequestRecord], bool], timeout: float) -> RequestRecord:
        """The first record (in arrival order) matching `predicate`, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for record in self._records:
                    if predicate(record):
                        return record
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no matching request within {timeout} s")
                self._cond.wait(left)

    def release_all(self) -> None:
        with self._cond:
            for record in self._records:
                record.gate.set()
