"""Speech-to-text off the GUI thread, with the last recording kept for a one-action retry.

`TranscribeWorker` lives on one long-lived `WorkerThread` (no thread start-up between key
release and request); `Transcriber` is what the window talks to. The engine holds its API
slot itself (`voicedesk.limits.api_slot`), so STT shares the process-wide limit with speech.

Nothing is lost on failure: the recording stays in `Transcriber` until the next one replaces
it, and `retry_last()` sends it again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, Slot

from voicedesk.cancel import CancelToken
from voicedesk.engines.base import SpeechEngine
from voicedesk.engines.elevenlabs_realtime import LiveTake
from voicedesk.errors import Cancelled, VoiceDeskError
from voicedesk.workers.threads import WorkerThread

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    """One request: immutable, so it can cross threads as a signal payload."""

    number: int
    pcm: bytes
    language: str
    cancel: threading.Event
    live: LiveTake | None = None  # the take's live session: its transcript, else batch
    engine: SpeechEngine | None = None  # this job only (Retry offline); None: the worker's


class TranscribeWorker(QObject):
    """Runs `engine.transcribe_audio` for each job it is sent, one at a time, on its thread."""

    transcribed = Signal(int, str)  # job number, text
    failed = Signal(int, object, bool)  # job number, VoiceDeskError, retryable
    finished = Signal(int)  # job number, after either of the above

    def __init__(self, engine: SpeechEngine) -> None:
        super().__init__()
        self._engine = engine

    def set_engine(self, engine: SpeechEngine) -> None:
        self._engine = engine  # read only when a job starts: a plain attribute swap is enough

    @Slot(object)
    def run(self, job: Job) -> None:
        try:
            if job.cancel.is_set():
                raise Cancelled()
            if job.live is not None:
                text = job.live.result(job.pcm, job.cancel)
            else:
                engine = job.engine or self._engine
                text = engine.transcribe_audio(job.pcm, job.language, cancel=job.cancel)
        except VoiceDeskError as error:
            self.failed.emit(job.number, error, error.retryable or _worth_retry(error))
        except Exception:  # a bug must not lose the recording: report it and keep it
            log.exception("transcription failed")
            self.failed.emit(job.number, VoiceDeskError("Transcription failed unexpectedly."), True)
        else:
            self.transcribed.emit(job.number, text)
        finally:
            self.finished.emit(job.number)


def _worth_retry(error: VoiceDeskError) -> bool:
    # A stop is the user's own choice; retrying it is one action away, like any failure.
    return isinstance(error, Cancelled)


class Transcriber(QObject):
    """The window's speech-to-text: `transcribe(pcm)`, `retry_last()`, `cancel()`, `shutdown()`.

    Signals: `transcribed(text)`, `failed(error, retryable)` (a `VoiceDeskError`),
    `busy_changed(busy)`.
    A recording that failed stays for `retry_last()` until `transcribe()` is given a new one.
    """

    transcribed = Signal(str)
    failed = Signal(object, bool)  # VoiceDeskError, retryable
    busy_changed = Signal(bool)
    _submit = Signal(object)  # Job → the worker's thread

    def __init__(
        self, engine: SpeechEngine, language: str = "en", parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.language = language
        self._last_pcm: bytes | None = None
        self._last_failed = False
        self._jobs: dict[int, Job] = {}
        self._counter = 0
        worker = TranscribeWorker(engine)
        self._thread = WorkerThread(worker, "transcribe")
        self._submit.connect(worker.run)
        worker.transcribed.connect(self._on_transcribed)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_finished)
        self._thread.start()

    # -- state ---------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    @property
    def can_retry(self) -> bool:
        """A kept recording whose transcription failed (or was stopped)."""
        return self._last_failed and self._last_pcm is not None

    @property
    def last_recording(self) -> bytes | None:
        return self._last_pcm

    def set_engine(self, engine: SpeechEngine) -> None:
        """Use another engine from the next job on (settings changed)."""
        worker = self._thread.worker
        if isinstance(worker, TranscribeWorker):
            worker.set_engine(engine)

    # -- actions -------------------------------------------------------------------------

    @Slot(bytes)
    def transcribe(self, pcm: bytes) -> None:
        """Send a new recording; it replaces the kept one."""
        self._last_pcm = pcm
        self._last_failed = False
        self._send(pcm)

    def transcribe_live(self, pcm: bytes, live: LiveTake) -> None:
        """Key up after a take with live words: its committed transcript (batch if the live
        session failed). The recording is kept for Retry like any other."""
        self._last_pcm = pcm
        self._last_failed = False
        self._send(pcm, live)

    def retry_last(self, engine: SpeechEngine | None = None) -> bool:
        """Send the kept recording again (to `engine` for this once, e.g. the offline one);
        False when there is none."""
        if self._last_pcm is None:
            return False
        self._last_failed = False
        self._send(self._last_pcm, engine=engine)
        return True

    @Slot()
    def cancel(self) -> None:
        """Stop what is in flight or queued (each ends with `failed(Cancelled(), True)`)."""
        for job in self._jobs.values():
            job.cancel.set()

    @Slot()
    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel, stop the thread and join it (never terminate). True once it has ended."""
        if self._thread.isFinished():
            return True
        self.cancel()
        return self._thread.stop(timeout_ms)

    # -- worker results (queued to this object's thread) ---------------------------------

    def _send(
        self, pcm: bytes, live: LiveTake | None = None, engine: SpeechEngine | None = None
    ) -> None:
        self._counter += 1
        # A CancelToken: Stop also interrupts a live session's socket at once.
        job = Job(self._counter, pcm, self.language, CancelToken(), live, engine)
        was_busy = self.busy
        self._jobs[job.number] = job
        self._submit.emit(job)
        if not was_busy:
            self.busy_changed.emit(True)

    @Slot(int, str)
    def _on_transcribed(self, number: int, text: str) -> None:
        job = self._jobs.get(number)
        if job is not None and job.pcm is self._last_pcm:
            self._last_failed = False
        self.transcribed.emit(text)

    @Slot(int, object, bool)
    def _on_failed(self, number: int, error: VoiceDeskError, retryable: bool) -> None:
        job = self._jobs.get(number)
        if job is not None and job.pcm is self._last_pcm:
            self._last_failed = True
        self.failed.emit(error, retryable)

    @Slot(int)
    def _on_finished(self, number: int) -> None:
        self._jobs.pop(number, None)
        if not self._jobs:
            self.busy_changed.emit(False)
