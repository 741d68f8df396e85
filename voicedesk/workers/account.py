"""Credits and concurrency as the status bar shows them, kept current from each response.

The subscription (`engine.quota()`) is fetched at start, on an engine switch and every
`REFRESH_MS` (a few minutes): never per utterance. Between fetches each speech response's
`character-cost` header is taken off the characters left, so the count moves with every
utterance at no extra request. Below `LOW_SHARE` of the period's characters, `low` is
emitted once (again only after a fetch shows the account above it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from voicedesk import limits
from voicedesk.cancel import CancelToken
from voicedesk.engines.base import Quota, SpeechEngine
from voicedesk.errors import VoiceDeskError, as_user_error
from voicedesk.workers.responses import Heard
from voicedesk.workers.threads import Poster, TaskGroup

log = logging.getLogger(__name__)

REFRESH_MS = 5 * 60 * 1000
LOW_SHARE = 0.10


def low_credits(quota: Quota | None) -> bool:
    return quota is not None and quota.limit > 0 and quota.remaining < quota.limit * LOW_SHARE


class Account(QObject):
    quota_changed = Signal(object)  # Quota | None (None: unknown or not ElevenLabs)
    quota_failed = Signal(object)  # VoiceDeskError: why the subscription could not be fetched
    low = Signal(str)  # the one-line warning at LOW_SHARE left
    slots_changed = Signal(int, object)  # the app's slot count, the plan's maximum (or None)

    def __init__(self, parent: QObject | None = None, refresh_ms: int = REFRESH_MS) -> None:
        super().__init__(parent)
        self._engine: SpeechEngine | None = None
        self._quota: Quota | None = None
        self._warned = False
        self._slots = (limits.app_slots(), limits.plan_limit())
        self._fetching = CancelToken()
        self._poster = Poster(self)
        self._tasks = TaskGroup("account")
        self._timer = QTimer(self)
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self.refresh)

    @property
    def quota(self) -> Quota | None:
        return self._quota

    @property
    def busy(self) -> int:
        """Subscription fetches still running."""
        return self._tasks.busy

    def set_engine(self, engine: SpeechEngine | None) -> None:
        """Follow `engine`: its subscription now and every few minutes (ElevenLabs only)."""
        self._engine = engine
        self._quota = None
        self._warned = False
        self.quota_changed.emit(None)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Fetch the subscription off the GUI thread (the one request this object makes)."""
        self._fetching.set()  # an older fetch's answer is stale: drop it
        engine = self._engine
        if engine is None or engine.name != "elevenlabs":
            self._timer.stop()
            return
        self._timer.start()
        cancel = self._fetching = CancelToken()
        self._tasks.start(_Fetch(self._poster, self._fetched, self._fetch_failed, engine, cancel))

    def _fetched(self, engine: SpeechEngine, cancel: CancelToken, quota: Quota | None) -> None:
        if cancel.is_set() or engine is not self._engine:
            return
        if not low_credits(quota):
            self._warned = False
        self._set(quota)

    def _fetch_failed(
        self, engine: SpeechEngine, cancel: CancelToken, error: VoiceDeskError
    ) -> None:
        if not cancel.is_set() and engine is self._engine:
            self.quota_failed.emit(error)

    @Slot(object)
    def heard(self, heard: Heard) -> None:
        """A response's facts (queued from the request's thread)."""
        facts = heard.facts
        slots = (limits.app_slots(), limits.plan_limit())
        if slots != self._slots:
            self._slots = slots
            self.slots_changed.emit(*slots)
        cost = facts.character_cost
        if heard.engine is self._engine and cost and self._quota is not None:
            self._set(replace(self._quota, used=self._quota.used + cost))

    def _set(self, quota: Quota | None) -> None:
        self._quota = quota
        self.quota_changed.emit(quota)
        if low_credits(quota) and not self._warned and quota is not None:
            self._warned = True
            share = quota.remaining / quota.limit
            self.low.emit(
                f"ElevenLabs credits are running low: {quota.remaining:,} characters left "
                f"({share:.0%} of this period's {quota.limit:,})."
            )

    def shutdown(self, timeout_ms: int = 5000) -> None:
        self._timer.stop()
        self._fetching.set()
        self._tasks.wait(timeout_ms)


@dataclass(frozen=True, slots=True)
class _Fetch:
    """The subscription, on a pool thread; the answer is posted back to the GUI thread."""

    poster: Poster
    done: Callable[[SpeechEngine, CancelToken, Quota | None], None]
    failed: Callable[[SpeechEngine, CancelToken, VoiceDeskError], None]
    engine: SpeechEngine
    cancel: CancelToken

    def __call__(self) -> None:
        try:
            quota = self.engine.quota()
        except VoiceDeskError as error:
            self.poster.post(self.failed, self.engine, self.cancel, error)
        except Exception as error:  # a bug: logged, one short line shown
            log.warning("subscription fetch failed", exc_info=error)
            unknown = as_user_error(error, "Quota unknown")
            self.poster.post(self.failed, self.engine, self.cancel, unknown)
        else:
            self.poster.post(self.done, self.engine, self.cancel, quota)
