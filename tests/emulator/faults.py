"""How one response misbehaves, and the per-route plan of scripted faults."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Literal, get_args

Kind = Literal[
    "tts", "stt", "realtime", "voices", "models", "user", "history", "transcript", "other"
]
KINDS: tuple[Kind, ...] = get_args(Kind)
ANY = "any"  # a plan entry for whichever request comes next


@dataclass(frozen=True, slots=True)
class Fault:
    """Deviations from a normal response. Every field left None means "use the default".

    Applied in this order: `reset` (RST before any byte), `ttfb` (delay before the status line),
    `status_code` (an error response instead of the real one), then the body goes out in
    `chunk_size` pieces `pacing` seconds apart, pausing at `stall_after` body bytes (for
    `stall_for` seconds, or until released) and dropping the connection at `cut_after` bytes.
    A success answer can be made odd: `body` replaces its body, `content_type` its type, and
    `truncate_to` cuts the body short while still ending the response properly.
    """

    reset: bool | None = None
    ttfb: float | None = None
    status_code: int | None = None
    error: str | None = None  # detail.status of the error body
    message: str | None = None
    pacing: float | None = None
    chunk_size: int | None = None
    stall_after: int | None = None
    stall_for: float | None = None
    cut_after: int | None = None
    cut_with_reset: bool | None = None
    content_type: str | None = None
    body: bytes | None = None
    truncate_to: int | None = None

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def status(cls, code: int, error: str | None = None, message: str | None = None) -> Fault:
        """An error response with the real service's body for that status (see catalog.py)."""
        return cls(status_code=code, error=error, message=message)

    @classmethod
    def too_many_concurrent(cls) -> Fault:
        return cls.status(429, "too_many_concurrent_requests")

    @classmethod
    def system_busy(cls) -> Fault:
        return cls.status(429, "system_busy")

    @classmethod
    def invalid_key(cls) -> Fault:
        return cls.status(401, "invalid_api_key")

    @classmethod
    def quota_exceeded(cls) -> Fault:
        return cls.status(401, "quota_exceeded")

    @classmethod
    def server_error(cls) -> Fault:
        return cls.status(500)

    @classmethod
    def answer(cls, body: bytes, content_type: str) -> Fault:
        """A 200 with this body and content type instead of the real one (a proxy's login page,
        JSON where audio was asked for, garbage where JSON was)."""
        return cls(body=body, content_type=content_type)

    @classmethod
    def truncated(cls, to: int) -> Fault:
        """The real answer cut to its first `to` bytes, ended properly (not a dropped line)."""
        return cls(truncate_to=to)

    @classmethod
    def slow(
        cls, ttfb: float | None = None, pacing: float | None = None, chunk_size: int | None = None
    ) -> Fault:
        return cls(ttfb=ttfb, pacing=pacing, chunk_size=chunk_size)

    @classmethod
    def connection_reset(cls) -> Fault:
        """Close with RST (SO_LINGER 0) before sending a single byte."""
        return cls(reset=True)

    @classmethod
    def cut(cls, after: int, reset: bool = True) -> Fault:
        """Drop the connection after `after` body bytes: RST, or a plain FIN if reset=False."""
        return cls(cut_after=after, cut_with_reset=reset)

    @classmethod
    def stall(cls, after: int = 0, seconds: float | None = None) -> Fault:
        """Stop sending after `after` body bytes, keeping the socket open, for `seconds`
        or (None) until `Emulator.release()` / `RequestRecord.release()` or shutdown."""
        return cls(stall_after=after, stall_for=seconds)

    # -- combining ----------------------------------------------------------------------------
    def with_(self, **changes: object) -> Fault:
        """A copy with some fields changed: `Fault.cut(100).with_(chunk_size=1)`."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def over(self, base: Fault) -> Fault:
        """This fault's set fields on top of `base`'s."""
        merged = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, value in merged.items():
            if value is None:
                merged[name] = getattr(base, name)
        return Fault(**merged)  # type: ignore[arg-type]


class FaultPlan:
    """Scripted faults per request kind (consumed one per request) and standing faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, deque[Fault | None]] = {}
        self._standing: dict[str, Fault] = {}

    def script(self, kind: Kind | Literal["any"], faults: Iterable[Fault | None]) -> None:
        """Queue one entry per upcoming request of `kind`; None means a normal response."""
        _check_kind(kind)
        with self._lock:
            self._scripts.setdefault(kind, deque()).extend(faults)

    def always(self, kind: Kind | Literal["any"], fault: Fault | None) -> None:
        """A fault for every request of `kind` once its script is used up (None clears it)."""
        _check_kind(kind)
        with self._lock:
            if fault is None:
                self._standing.pop(kind, None)
            else:
                self._standing[kind] = fault

    def pending(self, kind: Kind | Literal["any"]) -> int:
        with self._lock:
            return len(self._scripts.get(kind, ()))

    def clear(self) -> None:
        with self._lock:
            self._scripts.clear()
            self._standing.clear()

    def next(self, kind: Kind, base: Fault) -> Fault:
        """The fault for the next request of `kind`: its script, else the "any" script, then the
        standing faults for `kind` and "any", each on top of the next, all on top of `base`."""
        with self._lock:
            scripted: Fault | None = None
            for key in (kind, ANY):
                queue = self._scripts.get(key)
                if queue:
                    scripted = queue.popleft()
                    break
            layers = [scripted, self._standing.get(kind), self._standing.get(ANY)]
        fault = base
        for layer in reversed(layers):
            if layer is not None:
                fault = layer.over(fault)
        return fault


def _check_kind(kind: str) -> None:
    if kind != ANY and kind not in KINDS:
        raise ValueError(f"unknown request kind {kind!r}; use one of {(*KINDS, ANY)}")
