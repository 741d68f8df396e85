"""Run a callable off the GUI thread and post its result back (Picard's `run_task`).

Each job is a one-shot task on the shared thread pool (`workers.threads`): no QObject or
QThread is made for it. Its result is posted to the GUI thread, so callbacks always run there.
Jobs get a `CancelToken`; `shutdown()` cancels them all and waits for them (bounded), so
quitting never leaves one running.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject

from voicedesk.cancel import CancelToken
from voicedesk.errors import VoiceDeskError, as_user_error
from voicedesk.workers.threads import Poster, TaskGroup

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[VoiceDeskError], None]  # the error itself, never its message text


def user_error(error: BaseException) -> VoiceDeskError:
    """What a user may read: our errors as they are; anything else a short generic one."""
    if not isinstance(error, VoiceDeskError):
        log.warning("background job failed: %s", type(error).__name__, exc_info=error)
    return as_user_error(error)


class Background(QObject):
    """Owns every running job; one per window."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._poster = Poster(self)
        self._tasks = TaskGroup("background")
        self._running: dict[int, CancelToken] = {}  # GUI thread only
        self._ids = itertools.count(1)

    def run(
        self,
        fn: Callable[[CancelToken], Any],
        on_done: Done | None = None,
        on_error: Failed | None = None,
        name: str = "voicedesk-job",
    ) -> CancelToken:
        """Start `fn(cancel)` on a pool thread; `on_done(result)` / `on_error(error)` on ours."""
        cancel = CancelToken()
        job = next(self._ids)
        self._running[job] = cancel
        self._tasks.start(_Job(job, fn, cancel, on_done, on_error, self._poster, self._ended).run)
        return cancel

    @property
    def busy(self) -> int:
        return len(self._running)

    def _ended(self, job: int) -> None:
        self._running.pop(job, None)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel every job and wait for them (a job blocked past `timeout_ms` is logged)."""
        for cancel in self._running.values():
            cancel.set()
        self._tasks.wait(timeout_ms)
        self._running.clear()


@dataclass(frozen=True, slots=True)
class _Job:
    """Runs on a pool thread; reports exactly once, through the poster, on the GUI thread."""

    job: int
    fn: Callable[[CancelToken], Any]
    cancel: CancelToken
    on_done: Done | None
    on_error: Failed | None
    poster: Poster
    ended: Callable[[int], None]

    def run(self) -> None:
        try:
            result = self.fn(self.cancel)
        except BaseException as error:  # a worker must never die silently
            self.poster.post(self._report, user_error(error))
        else:
            self.poster.post(self._deliver, result)

    def _deliver(self, result: object) -> None:
        self.ended(self.job)
        # A cancelled job's late answer is dropped: its asker has moved on (or is shutting down).
        if self.on_done is not None and not self.cancel.is_set():
            self.on_done(result)

    def _report(self, error: VoiceDeskError) -> None:
        self.ended(self.job)
        if self.on_error is not None and not self.cancel.is_set():
            self.on_error(error)
