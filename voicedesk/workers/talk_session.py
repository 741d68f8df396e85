"""Push to talk, from key down to the transcript: when the microphone opens, the live words,
what happens to a take on key up, and where its transcript goes.

Widget-free. `press()` / `release()` come from the push-to-talk key (any source); the window
connects the signals to the push-to-talk bar, the history and the banner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication

from voicedesk.config import Settings
from voicedesk.engines.elevenlabs_realtime import LiveTake
from voicedesk.errors import LiveNeedsElevenLabsError, RecordingTooShortError, VoiceDeskError
from voicedesk.insert.inserter import Inserter
from voicedesk.workers.app_settings import AppSettings
from voicedesk.workers.engine_holder import EngineHolder
from voicedesk.workers.live_transcribe import LiveWords, supports_live
from voicedesk.workers.speech_session import SpeechSession

if TYPE_CHECKING:  # Protocols only: nothing of the UI is loaded here
    from voicedesk.ui.ports import RecorderPort, TranscriberPort

NOTHING_HEARD = "Nothing was heard. Hold the key while you speak."


class TalkSession(QObject):
    """`press()`, `release()`, `retry()`, `retry_offline()`, `shutdown()`.

    Signals: `recording_changed(bool)`, `transcribing_changed(bool)`,
    `live_words_changed(text, quiet)` ("" clears them; `quiet` for a note, not words),
    `start_failed()` (the microphone did not open: the key is to be let go),
    `transcribed(text)` (a transcript with words in it), `transcription_failed(error,
    retryable, offline)` (one that Retry, or Retry offline with the kept recording, may fix),
    `failed(error, gentle)` (the microphone, typing the transcript, a transcription neither
    can fix; `gentle`: a slip, not a fault), `noted(text)`.
    """

    recording_changed = Signal(bool)
    transcribing_changed = Signal(bool)
    live_words_changed = Signal(str, bool)
    start_failed = Signal()
    transcribed = Signal(str)
    transcription_failed = Signal(object, bool, bool)
    failed = Signal(object, bool)
    noted = Signal(str)

    def __init__(
        self,
        recorder: RecorderPort,
        transcriber: TranscriberPort,
        speech: SpeechSession,
        engines: EngineHolder,
        app: AppSettings,
        inserter: Inserter,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._recorder = recorder
        self._transcriber = transcriber
        self._speech = speech
        self._engines = engines
        self._app = app
        self.inserter = inserter
        self.live = LiveWords(self)
        self._down = False  # between press() and release()
        self._releasing = False  # inside the recorder's stop() on key up
        self._take: LiveTake | None = None  # the live session of the take being recorded
        self._live_shown = 0  # the take whose words are shown (0: none)
        self.live.partial.connect(self._live_partial)
        recorder.failed.connect(self._recorder_failed)
        transcriber.transcribed.connect(self._transcribed)
        transcriber.failed.connect(self._transcribe_failed)
        transcriber.busy_changed.connect(self.transcribing_changed)
        inserter.failed.connect(self._insert_failed)
        app.changed.connect(self._settings_changed)

    @property
    def is_down(self) -> bool:
        return self._down

    @Slot()
    def press(self) -> None:
        self._down = True
        # Speech from the speakers would go into the microphone: stop it first.
        if self._speech.speaking:
            self._speech.stop()
        self._take = self._open_live()
        started = self._recorder.start(self._take.feed) if self._take else self._recorder.start()
        if not started:
            self._drop_take()
            self.start_failed.emit()
            return
        self.recording_changed.emit(True)
        if self._take is None and self._live_wanted_offline():
            self.live_words_changed.emit(LiveNeedsElevenLabsError.default_message, True)

    def _open_live(self) -> LiveTake | None:
        """Key down: the take's live session, when live words are on and the engine has them."""
        self._live_shown = 0
        self.live_words_changed.emit("", False)
        if not self._app.settings.live_transcript_enabled():
            return None
        language = getattr(self._transcriber, "language", "en")
        take = self.live.open(self._engines.engine, language)
        if take is not None:
            self._live_shown = self.live.current
        return take

    def _live_wanted_offline(self) -> bool:
        # Live words are on (or left to their default) but the engine can't give them.
        return self._app.settings.live_transcript is not False and not supports_live(
            self._engines.engine
        )

    def _drop_take(self) -> None:
        take, self._take = self._take, None
        if take is not None:
            take.abort()
        self._clear_live()

    def _clear_live(self) -> None:
        self._live_shown = 0
        self.live_words_changed.emit("", False)

    @Slot(int, str)
    def _live_partial(self, take: int, text: str) -> None:
        if take == self._live_shown and take:
            self.live_words_changed.emit(text, False)

    @Slot()
    def release(self) -> None:
        self._down = False
        self.recording_changed.emit(False)
        # stop() reports a too-short hold through `failed` from inside this call, after the
        # key is already up: `_releasing` tells `_recorder_failed` that one is for the user.
        self._releasing = True
        try:
            pcm = self._recorder.stop()
        finally:
            self._releasing = False
        take, self._take = self._take, None
        if not pcm:
            if take is not None:
                take.abort()
            self._clear_live()
            return
        self.transcribing_changed.emit(True)
        if take is not None:
            self._transcriber.transcribe_live(pcm, take)
        else:
            self.live_words_changed.emit("", False)
            self._transcriber.transcribe(pcm)

    @Slot()
    def retry(self) -> None:
        self.transcribing_changed.emit(True)
        self._transcriber.retry_last()

    @Slot()
    def retry_offline(self) -> None:
        """The kept recording, transcribed by the offline engine this once."""
        self.transcribing_changed.emit(True)
        self._transcriber.retry_last(self._engines.offline())

    @Slot(object)
    def _recorder_failed(self, error: VoiceDeskError) -> None:
        # Opening the microphone ahead (warm) may fail quietly; say so when the user talks.
        if self._down or self._releasing:
            # Too short is a slip of the key, not a fault: said gently (never a dialog).
            self.failed.emit(error, isinstance(error, RecordingTooShortError))

    @Slot(object)
    def _insert_failed(self, error: VoiceDeskError) -> None:
        self.failed.emit(error, True)  # the transcript is kept (clipboard, history)

    @Slot(str)
    def _transcribed(self, text: str) -> None:
        self.transcribing_changed.emit(False)
        self._end_live()
        if not text.strip():
            self.noted.emit(NOTHING_HEARD)
            return
        self.transcribed.emit(text)
        # Into the application the user is in; not into our own window (they see it there).
        active = QGuiApplication.applicationState() == Qt.ApplicationState.ApplicationActive
        settings = self._app.settings
        if settings.type_into_focused and not active:
            self.inserter.insert(text, settings.insert_method)

    @Slot(object, bool)
    def _transcribe_failed(self, error: VoiceDeskError, retryable: bool) -> None:
        self.transcribing_changed.emit(False)
        self._end_live()
        engine = self._engines.engine
        # The recording is in memory: offline is one click away, whatever ElevenLabs said.
        paid = engine is not None and engine.name == "elevenlabs"
        offline = paid and self._transcriber.can_retry
        if retryable or offline:
            self.transcription_failed.emit(error, retryable, offline)
        else:
            self.failed.emit(error, False)

    def _end_live(self) -> None:
        # The final text replaces the live words (unless a new take already shows its own).
        if self._take is None:
            self._clear_live()

    @Slot(object, object)
    def _settings_changed(self, old: Settings, new: Settings) -> None:
        if old.input_device != new.input_device:
            self._recorder.set_device(new.input_device or None)

    def shutdown(self) -> None:
        self.inserter.shutdown()
        self._drop_take()
        self._recorder.close()
