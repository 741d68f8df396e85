"""Erase after use: delete what ElevenLabs kept of each request, off the GUI thread.

Each speech response names its history item (`history-item-id`) and each transcription its
transcript; with the setting on, both are deleted once used. A deletion is a one-shot task on
the shared pool (`workers.threads`) and holds an API slot like every ElevenLabs call (the
engine's `delete_*` take one). A failed deletion never reaches the user as an error: it stays
pending and is tried again `RETRY_MS` later, for as long as the session lasts; `pending`
tells the status bar how many are left. With zero retention (`engine.zero_retention`) the
service keeps nothing and the responses name nothing to erase.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from voicedesk.cancel import CancelToken
from voicedesk.engines.base import SpeechEngine
from voicedesk.engines.usage import ItemKind, erase_item, kept_items
from voicedesk.errors import VoiceDeskError
from voicedesk.workers.responses import Heard
from voicedesk.workers.threads import Poster, TaskGroup

log = logging.getLogger(__name__)

RETRY_MS = 30_000
# Bounded like every input: past this many waiting, the oldest is given up (and logged).
MAX_PENDING = 1000


@dataclass(frozen=True, slots=True)
class Item:
    engine: SpeechEngine
    kind: ItemKind
    item_id: str

    @property
    def label(self) -> str:
        return "transcript" if self.kind == "transcript" else "speech history item"


class Eraser(QObject):
    pending_changed = Signal(int, str)  # items not yet erased, the last failure ("" if none)

    def __init__(self, parent: QObject | None = None, retry_ms: int = RETRY_MS) -> None:
        super().__init__(parent)
        self.enabled = False
        self._pending: dict[Item, bool] = {}  # item -> a deletion of it is running
        self._last_error = ""
        self._cancel = CancelToken()
        self._poster = Poster(self)
        self._tasks = TaskGroup("eraser")
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.setInterval(retry_ms)
        self._retry.timeout.connect(self.retry_now)

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def busy(self) -> int:
        """Deletions running now."""
        return self._tasks.busy

    @Slot(object)
    def heard(self, heard: Heard) -> None:
        """A response's facts (queued from the request's thread): erase what it kept."""
        if not self.enabled:
            return
        zero_retention = getattr(heard.engine, "zero_retention", False)
        for kind, item_id in kept_items(heard.facts, zero_retention):
            self._add(Item(heard.engine, kind, item_id))

    def _add(self, item: Item) -> None:
        if item in self._pending:
            return
        if len(self._pending) >= MAX_PENDING:
            oldest = next(iter(self._pending))
            del self._pending[oldest]
            log.warning("erase: gave up on a %s (too many waiting)", oldest.label)
        self._start(item)
        self._changed()

    def _start(self, item: Item) -> None:
        self._pending[item] = True
        self._tasks.start(_Delete(item, self._cancel, self._poster, self._done, self._failed))

    def _done(self, item: Item) -> None:
        self._pending.pop(item, None)
        if not self._pending:
            self._last_error = ""
        self._changed()

    def _failed(self, item: Item, message: str) -> None:
        if item not in self._pending:
            return
        self._pending[item] = False
        self._last_error = message
        log.info("erase: a %s is still kept, trying again later: %s", item.label, message)
        if not self._cancel.is_set() and not self._retry.isActive():
            self._retry.start()
        self._changed()

    @Slot()
    def retry_now(self) -> None:
        """Try every waiting deletion again (the retry timer calls this)."""
        for item, running in list(self._pending.items()):
            if not running and not self._cancel.is_set():
                self._start(item)

    def _changed(self) -> None:
        self.pending_changed.emit(len(self._pending), self._last_error)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop retrying, cancel running deletions and wait for them (bounded)."""
        self._retry.stop()
        self._cancel.set()
        self._tasks.wait(timeout_ms)
        if self._pending:
            log.warning("erase: %d item(s) left on ElevenLabs at exit", len(self._pending))


@dataclass(frozen=True, slots=True)
class _Delete:
    """One deletion on a pool thread; the outcome is posted back to the GUI thread."""

    item: Item
    cancel: CancelToken
    poster: Poster
    done: Callable[[Item], None]
    failed: Callable[[Item, str], None]

    def __call__(self) -> None:
        item = self.item
        try:
            if not erase_item(item.engine, item.kind, item.item_id, self.cancel):
                # Not written yet, or already gone: look again later.
                self.poster.post(self.failed, item, "Not in the history yet.")
                return
        except VoiceDeskError as error:
            self.poster.post(self.failed, item, error.message)
        except Exception as error:  # a bug: logged, and the item stays pending
            log.warning("erase failed", exc_info=error)
            self.poster.post(self.failed, item, f"Erasing failed ({type(error).__name__}).")
        else:
            self.poster.post(self.done, item)
