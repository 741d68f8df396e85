"""Keeps the engine's connection warm while the window is in use.

A fresh connection to the service costs a TCP and a TLS handshake, two round trips before the
request even leaves; over the internet that is most of what a user waits for. So the window
asks the engine to open its connection when it shows, and then, while it is the active window
and the user has touched it (activated it, typed) within `IDLE_LIMIT`, at most once every
`interval` seconds (`engine.warm_up`, one small GET, skipped when a request ran lately). When a
warm-up fails (the connection dropped, the network changed), the next one comes sooner: after
`RETRY_FIRST` seconds, doubling up to `interval`.

The warm-up itself runs through `Background` (off the GUI thread); this object is the timer.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from voicedesk.cancel import CancelToken
from voicedesk.engines.base import SpeechEngine
from voicedesk.engines.http_client import WARM_INTERVAL
from voicedesk.errors import VoiceDeskError
from voicedesk.workers.background import Background

# No warm-ups once the user has left the window alone this long (it may stay active for hours).
IDLE_LIMIT = 300.0
# The first retry after a failed warm-up, in seconds (then doubling, up to the interval).
RETRY_FIRST = 2.0


class _WarmUp:
    """The job `Background` runs: one `engine.warm_up`."""

    def __init__(self, engine: SpeechEngine, min_idle: float) -> None:
        self._engine = engine
        self._min_idle = min_idle

    def __call__(self, cancel: CancelToken) -> bool:
        return bool(self._engine.warm_up(cancel, min_idle=self._min_idle))  # type: ignore[attr-defined]


class Warmer(QObject):
    warmed = Signal(bool)  # each warm-up's outcome (True: the connection is open)

    def __init__(
        self,
        background: Background,
        interval: float = WARM_INTERVAL,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._background = background
        self.interval = interval
        self._engine: SpeechEngine | None = None
        self._active = False
        self._running = False
        self._last_attempt: float | None = None
        self._last_use = time.monotonic()
        self._retry_after = RETRY_FIRST
        self._failed = False
        self.attempts = 0  # warm-ups started (for tests and logs)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._due)

    def set_engine(self, engine: SpeechEngine | None) -> None:
        """Keep `engine` warm from now on (engines without `warm_up` are left alone)."""
        self._engine = engine if engine is not None and hasattr(engine, "warm_up") else None
        self._last_attempt = None
        self._retry_after = RETRY_FIRST
        self._failed = False
        if self._active:
            self._due()

    def warm_now(self) -> None:
        """Open the connection now (the window has just shown), then keep to the timer."""
        self._last_use = time.monotonic()
        self._last_attempt = None
        self._due(force=True)

    def set_active(self, active: bool) -> None:
        """The window became the active one (warm when due) or lost that (stop warming)."""
        self._active = active
        if active:
            self._last_use = time.monotonic()
            self._due()
        else:
            self._timer.stop()

    @Slot()
    def touch(self) -> None:
        """The user typed: the app is in use."""
        self._last_use = time.monotonic()
        if self._active and not self._timer.isActive():
            self._due()

    @property
    def busy(self) -> bool:
        """A warm-up is under way."""
        return self._running

    @property
    def scheduled(self) -> bool:
        """The next warm-up is on the timer (False while the window is not in use)."""
        return self._timer.isActive()

    def stop(self) -> None:
        self._engine = None
        self._timer.stop()

    @Slot()
    def _due(self, force: bool = False) -> None:
        if self._engine is None or self._running:
            return
        now = time.monotonic()
        if not force and (not self._active or now - self._last_use > IDLE_LIMIT):
            return  # resumes on the next activation or key stroke
        wait = min(self._retry_after, self.interval) if self._failed else self.interval
        if not force and self._last_attempt is not None and now - self._last_attempt < wait:
            self._timer.start(int((wait - (now - self._last_attempt)) * 1000) + 1)
            return
        self._running = True
        self._last_attempt = now
        self.attempts += 1
        # A request that ended within half an interval left the connection warm: skip then.
        job = _WarmUp(self._engine, 0.0 if force else self.interval / 2)
        self._background.run(job, self._done, self._error, name="warm-up")

    def _done(self, ok: object) -> None:
        self._running = False
        if ok:
            self._failed, self._retry_after = False, RETRY_FIRST
        elif self._failed:
            self._retry_after = min(self._retry_after * 2, self.interval)
        else:
            self._failed = True
        self.warmed.emit(bool(ok))
        self._due()

    def _error(self, error: VoiceDeskError) -> None:
        self._done(False)
