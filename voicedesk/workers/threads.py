"""The one way voicedesk runs work off the GUI thread.

- **One-shot tasks** (a background job, one utterance) run on a shared `QThreadPool` as plain
  Python callables: nothing Qt is created for them, so nothing needs `deleteLater` (the
  pattern that crashed PySide now and then when a Python-owned QObject was deleted from C++).
  Results come back through `Poster`, a QObject that lives on the GUI thread: its signal is
  emitted on the pool thread and delivered, queued, to its own slot there, which runs the
  callback. This is Picard's `run_task` (picard/util/thread.py), with a signal in place of
  its custom event.
- **Long-lived threads** (transcription, the audio thread) are a `WorkerThread`: a QThread
  with one QObject worker moved onto it, which joins with a timeout on `stop()` and then
  drops its reference to the worker on the calling (GUI) thread, once the thread can no
  longer be delivering events to it.

The pool has `POOL_THREADS` threads at most; idle ones expire. Tasks don't hold a thread
while waiting for anything slow to cancel: a job waiting for an API slot checks its cancel
token every 20 ms (`limits.api_slot`), so a cancelled waiter hands its thread back at once,
and there are far more threads than API slots (3), so utterances and background jobs never
queue behind each other for a thread. `TaskGroup.wait(timeout)` joins an owner's own tasks
on shutdown; `shutdown_pool(timeout)` the whole pool, at exit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

# Enough for one utterance, several background jobs and some waiting on API slots at once.
POOL_THREADS = 12
# The pool's threads carry this name (Qt names them after the pool; the kernel shows its first
# 15 bytes).
POOL_NAME = "voicedesk-pool"
STOP_TIMEOUT_MS = 5000

_pool: QThreadPool | None = None
_pool_lock = threading.Lock()


def pool() -> QThreadPool:
    """The process-wide pool (made on first use, owned by the application object)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = QThreadPool(QCoreApplication.instance())
            _pool.setObjectName(POOL_NAME)
            _pool.setMaxThreadCount(POOL_THREADS)
        return _pool


def shutdown_pool(timeout_ms: int = STOP_TIMEOUT_MS) -> bool:
    """Wait (bounded) for every pooled task; True if none is left running."""
    with _pool_lock:
        current = _pool
    if current is None:
        return True
    done = bool(current.waitForDone(timeout_ms))
    if not done:
        log.warning("pooled tasks still running after %d ms", timeout_ms)
    return done


@dataclass(frozen=True, slots=True)
class _Call:
    fn: Callable[..., None]
    args: tuple[Any, ...]


class Poster(QObject):
    """Runs callables on the thread it lives on (make it on the GUI thread)."""

    _posted = Signal(object)  # _Call, queued from any thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._posted.connect(self._run)

    def post(self, fn: Callable[..., None], *args: Any) -> None:
        """`fn(*args)` soon, on this object's thread (from any thread, in order)."""
        self._posted.emit(_Call(fn, args))

    @Slot(object)
    def _run(self, call: _Call) -> None:
        call.fn(*call.args)


class TaskGroup:
    """One owner's tasks on the pool: started, counted, and waited for together."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._count = 0
        self._idle = threading.Condition()

    @property
    def busy(self) -> int:
        with self._idle:
            return self._count

    def start(self, fn: Callable[[], None], priority: int = 0) -> None:
        """Run `fn()` on a pool thread. It must report its own results (e.g. via a Poster);
        an exception that escapes it is logged, never lost silently."""
        with self._idle:
            self._count += 1
        pool().start(_Task(self, fn).run, priority)

    def _finished(self) -> None:
        with self._idle:
            self._count -= 1
            if self._count == 0:
                self._idle.notify_all()

    def wait(self, timeout_ms: int = STOP_TIMEOUT_MS) -> bool:
        """Until every task of this group has returned (at most `timeout_ms`)."""
        with self._idle:
            done = self._idle.wait_for(lambda: self._count == 0, timeout_ms / 1000)
        if not done:
            log.warning("%s: a task did not finish within %d ms", self.name, timeout_ms)
        return done


@dataclass(frozen=True, slots=True)
class _Task:
    group: TaskGroup
    fn: Callable[[], None]

    def run(self) -> None:
        try:
            self.fn()
        except BaseException:  # a pool thread must never die with an exception unseen
            log.exception("%s: a task failed", self.group.name)
        finally:
            self.group._finished()


class WorkerThread(QThread):
    """A long-lived thread for one QObject `worker` (moved onto it here)."""

    def __init__(self, worker: QObject, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self._worker: QObject | None = worker
        worker.moveToThread(self)
        # A QThread destroyed while running aborts the process: if the owner forgets to stop
        # it, stop it as the application quits anyway.
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)

    @property
    def worker(self) -> QObject | None:
        """The worker, until `stop()` has joined the thread (then None)."""
        return self._worker

    @Slot()
    def stop(self, timeout_ms: int = STOP_TIMEOUT_MS) -> bool:
        """Quit the event loop and join (never terminate); True once the thread has ended.

        The worker is dropped here, on the caller's (GUI) thread, after the join: it can no
        longer be handling an event then, so Python frees it safely. A thread that does not
        end in time keeps its worker (freeing it under a running thread would crash).
        """
        if self.isRunning():
            self.quit()
            if not self.wait(timeout_ms):
                log.warning("thread %s did not end within %d ms", self.objectName(), timeout_ms)
                return False
        self._worker = None
        return True
