"""Run a callable off the GUI thread and post its result back (Picard's `run_task`, Buzz's wiring).

Each job is a `QObject` moved to its own `QThread`: `started → run`, `done → quit`; when the
thread has finished, the job is dropped on the GUI thread (see `run` for why not
`deleteLater`). The result travels back as a queued signal into a relay that lives on the GUI
thread, so callbacks always run there. Jobs get a `CancelToken`; `shutdown()` cancels them all
and joins their threads, so quitting never leaves one running.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from voicedesk.cancel import CancelToken
from voicedesk.errors import VoiceDeskError

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[str], None]


def error_message(error: BaseException) -> str:
    """What a user may read: our errors' own message; anything else a short generic line."""
    if isinstance(error, VoiceDeskError):
        return error.message
    log.warning("background job failed: %s", type(error).__name__, exc_info=error)
    return f"Something went wrong ({type(error).__name__})."


class _Job(QObject):
    """Runs on the worker thread; reports exactly once through `succeeded` or `failed`."""

    succeeded = Signal(object)
    failed = Signal(str)
    done = Signal()

    def __init__(self, fn: Callable[[CancelToken], Any], cancel: CancelToken) -> None:
        super().__init__()
        self._fn = fn
        self._cancel = cancel

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn(self._cancel)
        except BaseException as error:  # a worker must never die silently
            self.failed.emit(error_message(error))
        else:
            self.succeeded.emit(result)
        self.done.emit()


class _Relay(QObject):
    """Lives on the GUI thread: the queued end of a job's signals."""

    def __init__(self, on_done: Done | None, on_error: Failed | None, cancel: CancelToken) -> None:
        super().__init__()
        self._on_done = on_done
        self._on_error = on_error
        self._cancel = cancel

    @Slot(object)
    def deliver(self, result: object) -> None:
        # A cancelled job's late answer is dropped: its asker has moved on (or is shutting down).
        if self._on_done is not None and not self._cancel.is_set():
            self._on_done(result)

    @Slot(str)
    def report(self, message: str) -> None:
        if self._on_error is not None and not self._cancel.is_set():
            self._on_error(message)


class Background(QObject):
    """Owns every running job; one per window."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: dict[QThread, tuple[_Job, _Relay, CancelToken]] = {}

    def run(
        self,
        fn: Callable[[CancelToken], Any],
        on_done: Done | None = None,
        on_error: Failed | None = None,
        name: str = "voicedesk-job",
    ) -> CancelToken:
        """Start `fn(cancel)` on a fresh thread; `on_done(result)` / `on_error(message)` on ours."""
        cancel = CancelToken()
        thread = QThread(self)
        thread.setObjectName(name)
        job = _Job(fn, cancel)
        relay = _Relay(on_done, on_error, cancel)
        job.moveToThread(thread)
        thread.started.connect(job.run)
        job.succeeded.connect(relay.deliver)
        job.failed.connect(relay.report)
        job.done.connect(thread.quit)
        # No `job.deleteLater`: the job is a Python-owned object, and deleting it from the
        # worker's event loop (in C++, while Python still holds it here) crashed the process
        # now and then. It is dropped in `_forget`, on the GUI thread, once its thread has
        # finished and it can no longer be processing events.
        thread.finished.connect(self._forget)
        self._running[thread] = (job, relay, cancel)
        thread.start()
        return cancel

    @property
    def busy(self) -> int:
        return len(self._running)

    @Slot()
    def _forget(self) -> None:
        thread = self.sender()
        if isinstance(thread, QThread) and thread in self._running:
            del self._running[thread]
            thread.deleteLater()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel every job and join its thread (a job blocked past `timeout_ms` is logged)."""
        for thread, (_, _, cancel) in list(self._running.items()):
            cancel.set()
            thread.quit()
        for thread in list(self._running):
            if not thread.wait(timeout_ms):
                log.warning("a background job did not finish in time: %s", thread.objectName())
        self._running.clear()
