"""The main window: wires the panels to the injected speaker, transcriber and recorder.

Nothing slow happens here: speaking and transcribing run in the workers, and engine calls
(voices, quota, the key test, loading offline models) go through `Background`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QEvent, QSettings, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QGroupBox,
    QHBoxLayout,
    QMainWindow,
    QMenu,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from voicedesk import config
from voicedesk.cancel import CancelToken
from voicedesk.config import Settings
from voicedesk.engines.base import SpeechEngine
from voicedesk.engines.elevenlabs_realtime import LiveTake
from voicedesk.engines.factory import create_engine
from voicedesk.errors import (
    EmptyTextError,
    LiveNeedsElevenLabsError,
    RecordingTooShortError,
    TextTooLongError,
    VoiceDeskError,
)
from voicedesk.hotkeys.ptt_socket import PttServer
from voicedesk.insert.inserter import Inserter
from voicedesk.text import check_length
from voicedesk.ui.banner import Banner
from voicedesk.ui.history import Entry, HistoryPanel
from voicedesk.ui.hotkey import PushToTalkKey
from voicedesk.ui.icons import app_icon, icon
from voicedesk.ui.ports import RecorderPort, SpeakerPort, TranscriberPort
from voicedesk.ui.ptt_bar import PushToTalkBar
from voicedesk.ui.settings_dialog import SettingsDialog, no_keyring_hint
from voicedesk.ui.speak_panel import SpeakPanel
from voicedesk.ui.spend_dialog import SpendDialog
from voicedesk.ui.status import StatusBar
from voicedesk.ui.tray import Tray
from voicedesk.ui.voice_picker import VoicePicker
from voicedesk.ui.volume import VolumeControl
from voicedesk.workers.background import Background
from voicedesk.workers.budget import Budget
from voicedesk.workers.latency import LatencyMarks
from voicedesk.workers.live_transcribe import LiveWords, supports_live
from voicedesk.workers.speaker import PLAYING, REQUESTING
from voicedesk.workers.spend import spend_question
from voicedesk.workers.warmer import Warmer

log = logging.getLogger(__name__)

EngineFactory = Callable[[Settings], SpeechEngine]
_ENGINE_FIELDS = (
    "api_key",
    "base_url",
    "engine",
    "model_id",
    "stability",
    "similarity",
    "speed",
    "erase_after_use",
)


class _Preload:
    def __init__(self, engine: SpeechEngine) -> None:
        self._engine = engine

    def __call__(self, cancel: CancelToken) -> None:
        self._engine.preload()  # type: ignore[attr-defined]


class _StoreKey:
    def __init__(self, key: str | None) -> None:
        self._key = key

    def __call__(self, cancel: CancelToken) -> None:
        config.store_api_key(self._key)


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: Settings,
        speaker: SpeakerPort,
        transcriber: TranscriberPort,
        recorder: RecorderPort,
        *,
        engine: SpeechEngine | None = None,
        engine_factory: EngineFactory = create_engine,
        store: QSettings | None = None,
        system_wide_hotkey: bool = True,
        keyring_ok: bool | None = None,
        ptt_socket: str | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.speaker = speaker
        self.transcriber = transcriber
        self.recorder = recorder
        self._engine_factory = engine_factory
        self._store = store
        self._system_wide = system_wide_hotkey
        self._ptt_socket = ptt_socket  # the `voicedesk ptt` socket's name; None: the default
        self._keyring_ok = keyring_ok
        self._utterances: dict[int, str] = {}
        self._played: dict[int, Entry] = {}  # history entries of utterances heard, until done
        self._spend_dialog: SpendDialog | None = None
        self._fallback_ids: set[int] = set()
        self._previews: set[int] = set()
        self._releasing = False  # inside the recorder's stop() on key up
        self._shown: tuple[int, str] | None = None  # the utterance the panel shows, its state
        self._engines: list[SpeechEngine] = []
        self._engine: SpeechEngine | None = None
        self._offline: SpeechEngine | None = None
        self._shut_down = False
        self.background = Background(self)
        self.warmer = Warmer(self.background, parent=self)
        self.budget = Budget(self)  # credits, concurrency and erase after use
        self.budget.apply(settings)
        self.live = LiveWords(self)
        self._take: LiveTake | None = None  # the live session of the take being recorded
        self._live_shown = 0  # the take whose words the push-to-talk bar shows (0: none)

        self.setWindowTitle("voicedesk")
        self.setWindowIcon(app_icon())
        self.setObjectName("voicedesk-main")
        self._build()
        self._wire_workers()
        self._use_engine(settings, engine)
        if (warning := config.dotenv_key_warning()) and not self.banner.isVisible():
            self.show_error(warning, kind="info")  # a warning, not an error: the key still works
        self.panel.box.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- layout --------------------------------------------------------------------------

    def _build(self) -> None:
        self.picker = VoicePicker(self.background)
        self.settings_button = QPushButton("Sett&ings…")
        self.settings_button.setAccessibleName("Settings")
        self.settings_button.setToolTip("API key, devices, push-to-talk key (Ctrl+,)")
        self.volume = VolumeControl(self.settings.volume)
        top = QHBoxLayout()
        top.addWidget(self.picker, 1)
        top.addWidget(self.volume)
        top.addWidget(self.settings_button)

        self.banner = Banner()
        self.panel = SpeakPanel()
        self.history = HistoryPanel()
        history_box = QGroupBox("History (this session only)")
        history_layout = QVBoxLayout(history_box)
        history_layout.addWidget(self.history)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.panel)
        splitter.addWidget(history_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        self.ptt_bar = PushToTalkBar(self.settings.ptt_key)
        self.ptt_bar.button.setIcon(icon("microphone"))

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(12, 10, 12, 6)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.ptt_bar)
        self.setCentralWidget(central)
        self.status = StatusBar()
        self.setStatusBar(self.status)
        self.resize(720, 560)
        self._build_menu()

        self.ptt = PushToTalkKey(self, self.settings.ptt_key)
        self.ptt.note_changed.connect(self.ptt_bar.set_note)
        self.inserter = Inserter(self)
        self.inserter.failed.connect(self._insert_failed)
        self.ptt_server: PttServer | None = None
        if self._system_wide or self._ptt_socket:
            self.ptt_server = PttServer(self, self._ptt_socket)
            self.ptt_server.command.connect(self.ptt.command)
            if not self.ptt_server.listen():
                log.info("`voicedesk ptt` is unavailable: %s", self.ptt_server.error)
        self.tray = Tray(app_icon(), self)

        self.panel.speak_requested.connect(self.speak)
        self.panel.stop_requested.connect(self.stop)
        self.panel.box.file_rejected.connect(self.show_error)
        self.panel.box.textChanged.connect(self.warmer.touch)
        self.history.speak_again.connect(self.speak)
        self.history.to_box.connect(self._to_box)
        self.history.copied.connect(self._copied)
        self.picker.voice_chosen.connect(self._voice_chosen)
        self.picker.preview_requested.connect(self._preview)
        self.picker.load_failed.connect(self.show_error)
        self.picker.combo.currentIndexChanged.connect(self._show_engine)
        self.volume.changed.connect(self.speaker.set_volume)
        self.volume.settled.connect(self._save_volume)
        self.settings_button.clicked.connect(self.open_settings)
        self.ptt.pressed.connect(self._ptt_down)
        self.ptt.released.connect(self._ptt_up)
        self.ptt_bar.button.pressed.connect(self.ptt.press)
        self.ptt_bar.button.released.connect(self.ptt.release)
        self.tray.show_requested.connect(self._raise)
        self.tray.speak_clipboard_requested.connect(self.speak_clipboard)
        self.tray.quit_requested.connect(self.quit)
        self._start_hotkey()

    def _start_hotkey(self) -> None:
        if self._system_wide:
            self.ptt.start_global()  # the note follows through `note_changed`
        else:
            self.ptt_bar.set_note(f"{self.ptt.key_name} works while this window is focused.")

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&File")
        speak = self._add(menu, "&Speak", "Ctrl+Return", self.panel.request_speak)
        # Ctrl+Enter on the keypad too: people reach for either.
        speak.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self._add(menu, "Speak &clipboard", "Ctrl+Shift+V", self.speak_clipboard)
        # Esc stops from anywhere in the window (a focused popup still gets it first).
        self._add(menu, "S&top", "Esc", self.stop)
        menu.addSeparator()
        self._add(menu, "Se&ttings…", "Ctrl+,", self.open_settings)
        menu.addSeparator()
        self._add(menu, "&Quit", "Ctrl+Q", self.quit)

    def _add(self, menu: QMenu, text: str, keys: str, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        if keys:
            action.setShortcut(QKeySequence(keys))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _wire_workers(self) -> None:
        speaker, transcriber, recorder = self.speaker, self.transcriber, self.recorder
        speaker.utterance_started.connect(self._started)  # type: ignore[attr-defined]
        speaker.utterance_finished.connect(self._finished)  # type: ignore[attr-defined]
        speaker.utterance_failed.connect(self._failed)  # type: ignore[attr-defined]
        speaker.progress.connect(self._progress)  # type: ignore[attr-defined]
        speaker.latency.connect(self._latency)  # type: ignore[attr-defined]
        speaker.piece.connect(self._piece)  # type: ignore[attr-defined]
        speaker.position.connect(self._position)  # type: ignore[attr-defined]
        speaker.set_volume(self.settings.volume)
        transcriber.transcribed.connect(self._transcribed)  # type: ignore[attr-defined]
        transcriber.failed.connect(self._transcribe_failed)  # type: ignore[attr-defined]
        if hasattr(transcriber, "busy_changed"):
            transcriber.busy_changed.connect(self.ptt_bar.show_transcribing)
        self.live.partial.connect(self._live_partial)
        recorder.level.connect(self.ptt_bar.meter.set_level)  # type: ignore[attr-defined]
        recorder.error.connect(self._recorder_error)  # type: ignore[attr-defined]
        if hasattr(recorder, "capped"):
            recorder.capped.connect(self.ptt.release)
        self.budget.account.quota_changed.connect(self.status.set_quota)
        self.budget.account.quota_failed.connect(self._quota_failed)
        self.budget.account.low.connect(self._credits_low)
        self.budget.eraser.pending_changed.connect(self.status.set_erase_pending)

    # -- engines -------------------------------------------------------------------------

    def _use_engine(self, settings: Settings, engine: SpeechEngine | None = None) -> None:
        """Switch to `engine` (made from `settings` when not given) everywhere."""
        if engine is None:
            engine = self.create_engine(settings)
        self._engine = engine
        self._engines.append(engine)
        self.speaker.set_engine(engine)
        self.transcriber.set_engine(engine)
        wanted = settings.voice_id if engine.name == "elevenlabs" else settings.local_voice_id
        self.picker.load(engine, wanted or engine.default_voice_id)
        if hasattr(engine, "preload"):
            self.background.run(_Preload(engine), None, self.show_error, name="preload")
        self.warmer.set_engine(engine)
        if self.isVisible():
            self.warmer.warm_now()
        self._show_engine()
        self.budget.set_engine(engine)

    def create_engine(self, settings: Settings) -> SpeechEngine:
        try:
            return self._engine_factory(settings)
        except VoiceDeskError as error:
            # No key for ElevenLabs: say so, and keep working offline meanwhile.
            if not settings.api_key and not self.keyring_ok():
                # Settings could hold a key only until quit: say where one can be kept instead.
                self.show_error(f"No ElevenLabs API key is configured. {no_keyring_hint()}")
            else:
                self.show_error(error.message, "Settings…", self.open_settings)
            return self._engine_factory(replace(settings, engine="local"))

    @property
    def engine(self) -> SpeechEngine | None:
        return self._engine

    @Slot()
    def _show_engine(self) -> None:
        engine = self._engine
        label = str(getattr(engine, "label", engine.name if engine else ""))
        voice = self.picker.combo.currentText()
        self.status.set_engine(label, voice)

    def refresh_quota(self) -> None:
        self.budget.account.refresh()

    @Slot(str)
    def _credits_low(self, message: str) -> None:
        self.show_error(message, kind="info")

    @Slot(str)
    def _quota_failed(self, message: str) -> None:
        self.status.quota_label.setText("Quota unknown")
        self.status.quota_label.setToolTip(message)

    # -- speaking ------------------------------------------------------------------------

    @Slot(str)
    def speak(self, text: str, confirmed: bool = False) -> int | None:
        """Speak `text` (queued behind what is playing); the box keeps its text either way.
        A costly text is first shown against the characters left (`workers.spend`)."""
        if not text.strip():
            self.show_error(EmptyTextError.default_message, kind="info")
            return None
        try:
            check_length(text)  # before any work, and before the history keeps a copy
        except TextTooLongError as error:
            self.show_error(error.message)
            return None
        engine = self._engine
        paid = engine is not None and engine.name == "elevenlabs"
        question = spend_question(len(text), self.budget.account.quota) if paid else None
        if question and not confirmed:
            self._ask_spend(text, question)
            return None
        try:
            uid = self.speaker.speak(text, self.picker.voice_id or None)
        except VoiceDeskError as error:  # the queue is full
            self.show_error(error.message, kind="info")
            return None
        if uid in self._utterances:
            self.status.show_message("Already waiting to be spoken.", 3000)
            return uid
        self._utterances[uid] = text
        self.banner.dismiss()
        # The speaker said "requesting" inside speak(), before we knew the id: show it now,
        # or refresh the queue count of what plays.
        shown = self._shown or (uid, REQUESTING)
        self._progress(*shown)
        return uid

    def _ask_spend(self, text: str, question: str) -> None:
        if self._spend_dialog is not None:
            self._spend_dialog.close()
        dialog = self._spend_dialog = SpendDialog(text, question, self)
        dialog.send.connect(self._send_confirmed)
        dialog.offline.connect(self._speak_offline_now)
        dialog.open()

    @Slot(str)
    def _send_confirmed(self, text: str) -> None:
        self.speak(text, confirmed=True)

    @Slot(str)
    def _speak_offline_now(self, text: str) -> None:
        self._speak_offline(text, "")

    @Slot()
    def stop(self) -> None:
        """Stop what plays and drop the queue (late signals for them are then ignored)."""
        for entry in self._played.values():
            self.history.mark_stopped(entry)  # heard in part: the history says it was cut
        self._played.clear()
        busy = bool(self._utterances or self._previews)
        self.speaker.stop()
        self._utterances.clear()
        self._previews.clear()
        self._idle()
        if busy:
            # Stopping mid-stream closes that connection (HTTP/1.1 can't drop half an answer
            # and keep it): open the next one now, before the push-to-talk release needs it.
            self.warmer.warm_now()

    @Slot()
    def speak_clipboard(self) -> None:
        self.speak(QGuiApplication.clipboard().text())

    @Slot(str, str)
    def _preview(self, voice_id: str, text: str) -> None:
        try:
            uid = self.speaker.speak(text, voice_id)
        except VoiceDeskError as error:  # the queue is full
            self.show_error(error.message, kind="info")
            return
        self._previews.add(uid)
        self._progress(*(self._shown or (uid, REQUESTING)))

    def _playing_text(self, uid: int) -> str | None:
        if uid in self._previews:
            return "Voice preview"
        return self._utterances.get(uid)  # None: stopped before it began

    @Slot(int)
    def _started(self, uid: int) -> None:
        # The history records what was heard, when it is heard: not what was only queued.
        if (text := self._utterances.get(uid)) is not None and uid not in self._previews:
            self._played[uid] = self.history.add("spoken", text)
        self._progress(uid, PLAYING)

    @Slot(int, str)
    def _progress(self, uid: int, state: str) -> None:
        if (text := self._playing_text(uid)) is not None:
            if self._shown is None or self._shown[0] != uid:
                self.panel.new_utterance()
            self._shown = (uid, state)
            self.panel.show_playing(text, state, self._queued_after(uid))

    @Slot(int, int, int)
    def _piece(self, uid: int, index: int, count: int) -> None:
        if self._shown is not None and self._shown[0] == uid:
            self.panel.show_part(index, count)

    @Slot(int, float)
    def _position(self, uid: int, share: float) -> None:
        if self._shown is not None and self._shown[0] == uid:
            self.panel.show_share(share)

    def _idle(self) -> None:
        self._shown = None
        self.panel.show_idle()

    def _queued_after(self, uid: int) -> int:
        return sum(1 for other in self._utterances if other > uid)

    @Slot(int)
    def _finished(self, uid: int) -> None:
        self._played.pop(uid, None)
        self._previews.discard(uid)
        self._utterances.pop(uid, None)
        self._end_fallback(uid)
        if not self._utterances:
            self._idle()

    @Slot(int, str)
    def _failed(self, uid: int, message: str) -> None:
        self._played.pop(uid, None)
        was_preview = uid in self._previews
        self._previews.discard(uid)
        if not (was_preview or uid in self._utterances or uid in self._fallback_ids):
            return  # stopped by the user: no error to show
        text = self._utterances.pop(uid, "")
        if not self._utterances:
            self._idle()
        if self._end_fallback(uid) or not text:
            self.show_error(message)
            return
        engine = self._engine
        if self.settings.offline_fallback and engine is not None and engine.name == "elevenlabs":
            self._speak_offline(text, message)
            return
        if engine is not None and engine.name == "elevenlabs":
            # One click to hear it anyway: the text comes from memory, nothing is typed again.
            self.show_error(message, "Speak &offline", functools.partial(self._speak_offline, text))
            return
        self.show_error(message)

    def _offline_engine(self) -> SpeechEngine:
        if self._offline is None:
            self._offline = self._engine_factory(replace(self.settings, engine="local"))
            self._engines.append(self._offline)
        return self._offline

    def _speak_offline(self, text: str, why: str = "") -> None:
        # Straight from inside the speaker's failure signal: the Speaker is re-entrant.
        self.speaker.set_engine(self._offline_engine())
        try:
            uid = self.speaker.speak(text, None)
        except VoiceDeskError as error:  # the queue is full
            if not self._fallback_ids and self._engine is not None:
                self.speaker.set_engine(self._engine)
            self.show_error(error.message, kind="info")
            return
        self._utterances[uid] = text
        self._fallback_ids.add(uid)
        self.show_error(f"{why} Speaking with the offline voice instead.".strip(), kind="info")

    def _end_fallback(self, uid: int) -> bool:
        if uid not in self._fallback_ids:
            return False
        self._fallback_ids.discard(uid)
        if not self._fallback_ids and self._engine is not None:
            self.speaker.set_engine(self._engine)
        return True

    @Slot(int, object)
    def _latency(self, uid: int, marks: LatencyMarks) -> None:
        if marks.request_sent is not None and marks.first_sample is not None:
            self.status.set_latency(marks.first_sample - marks.request_sent, marks.breakdown())

    # -- push to talk --------------------------------------------------------------------

    @Slot()
    def _ptt_down(self) -> None:
        # Speech from the speakers would go into the microphone: stop it first.
        if self._utterances:
            self.stop()
        self._take = self._open_live()
        started = self.recorder.start(self._take.feed) if self._take else self.recorder.start()
        if not started:
            self._drop_take()
            self.ptt.release()
            return
        self.ptt_bar.show_recording(True)
        if self._take is None and self._live_wanted_offline():
            self.ptt_bar.show_live(LiveNeedsElevenLabsError.default_message, quiet=True)

    def _open_live(self) -> LiveTake | None:
        """Key down: the take's live session, when live words are on and the engine has them."""
        self._live_shown = 0
        self.ptt_bar.clear_live()
        if not self.settings.live_transcript_enabled():
            return None
        take = self.live.open(self._engine, getattr(self.transcriber, "language", "en"))
        if take is not None:
            self._live_shown = self.live.current
        return take

    def _live_wanted_offline(self) -> bool:
        # Live words are on (or left to their default) but the engine can't give them.
        return self.settings.live_transcript is not False and not supports_live(self._engine)

    def _drop_take(self) -> None:
        take, self._take = self._take, None
        if take is not None:
            take.abort()
        self._live_shown = 0
        self.ptt_bar.clear_live()

    @Slot(int, str)
    def _live_partial(self, take: int, text: str) -> None:
        if take == self._live_shown and take:
            self.ptt_bar.show_live(text)

    @Slot()
    def _ptt_up(self) -> None:
        self.ptt_bar.show_recording(False)
        # stop() reports a too-short hold through `error` from inside this call, after the
        # key is already up: `_releasing` tells `_recorder_error` that one is for the user.
        self._releasing = True
        try:
            pcm = self.recorder.stop()
        finally:
            self._releasing = False
        take, self._take = self._take, None
        if not pcm:
            if take is not None:
                take.abort()
            self._live_shown = 0
            self.ptt_bar.clear_live()
            return
        self.ptt_bar.show_transcribing(True)
        if take is not None:
            self.transcriber.transcribe_live(pcm, take)
        else:
            self.ptt_bar.clear_live()
            self.transcriber.transcribe(pcm)

    @Slot(str)
    def _recorder_error(self, message: str) -> None:
        # Opening the microphone ahead (warm) may fail quietly; say so when the user talks.
        if not (self.ptt.is_down or self._releasing):
            return
        # Too short is a slip of the key, not a fault: said gently (the banner, never a dialog).
        gentle = message == RecordingTooShortError.default_message
        self.show_error(message, kind="info" if gentle else "error")

    @Slot(str)
    def _transcribed(self, text: str) -> None:
        self.ptt_bar.show_transcribing(False)
        self._end_live()
        if not text.strip():
            self.show_error("Nothing was heard. Hold the key while you speak.", kind="info")
            return
        self.history.add("heard", text)
        self.status.show_message(f"Heard: {text}", 8000)
        # Into the application the user is in; not into our own window (they see it here).
        active = QGuiApplication.applicationState() == Qt.ApplicationState.ApplicationActive
        if self.settings.type_into_focused and not active:
            self.inserter.insert(text, self.settings.insert_method)

    @Slot(str)
    def _insert_failed(self, message: str) -> None:
        self.show_error(message, kind="info")

    @Slot(str, bool)
    def _transcribe_failed(self, message: str, retryable: bool) -> None:
        self.ptt_bar.show_transcribing(False)
        self._end_live()
        engine = self._engine
        # The recording is in memory: offline is one click away, whatever ElevenLabs said.
        offline = ("Retry &offline", self.retry_offline) if self.transcriber.can_retry else None
        if engine is None or engine.name != "elevenlabs":
            offline = None
        if retryable:
            self.show_error(message, "&Retry", self.retry_transcription, second=offline)
        elif offline is not None:
            self.show_error(message, *offline)
        else:
            self.show_error(message)

    def _end_live(self) -> None:
        # The final text replaces the live words (unless a new take already shows its own).
        if self._take is None:
            self._live_shown = 0
            self.ptt_bar.clear_live()

    @Slot()
    def retry_transcription(self) -> None:
        self.ptt_bar.show_transcribing(True)
        self.transcriber.retry_last()

    @Slot()
    def retry_offline(self) -> None:
        """The kept recording, transcribed by the offline engine this once."""
        self.ptt_bar.show_transcribing(True)
        self.transcriber.retry_last(self._offline_engine())

    # -- history, voices, messages -------------------------------------------------------

    @Slot(str)
    def _to_box(self, text: str) -> None:
        self.panel.set_text(text)
        self.panel.box.setFocus()

    @Slot(str)
    def _copied(self, text: str) -> None:
        self.status.show_message("Copied to the clipboard.", 3000)

    @Slot(float)
    def _save_volume(self, volume: float) -> None:
        self.settings = replace(self.settings, volume=volume)
        config.save_settings(self.settings, self._store)

    @Slot(str)
    def _voice_chosen(self, voice_id: str) -> None:
        engine = self._engine
        if engine is not None and engine.name == "local":
            self.settings = replace(self.settings, local_voice_id=voice_id)
        else:
            self.settings = replace(self.settings, voice_id=voice_id)
        config.save_settings(self.settings, self._store)
        self._show_engine()

    def show_error(
        self,
        message: str,
        action: str = "",
        on_action: Callable[[], object] | None = None,
        kind: str = "error",
        second: tuple[str, Callable[[], object]] | None = None,
    ) -> None:
        self.banner.show_message(message, kind, action, on_action, second)

    @Slot()
    def _raise(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    # -- settings ------------------------------------------------------------------------

    def keyring_ok(self) -> bool:
        if self._keyring_ok is None:
            self._keyring_ok = config.keyring_available()
        return self._keyring_ok

    @Slot()
    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(
            self.settings, self.background, self.keyring_ok(), self, hotkey_note=self.ptt.note
        )
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(self._settings_accepted)
        dialog.open()
        self._dialog = dialog
        return dialog

    @Slot()
    def _settings_accepted(self) -> None:
        dialog = self._dialog
        self.apply_settings(dialog.result_settings(), dialog.key_changed)
        dialog.deleteLater()

    def apply_settings(self, new: Settings, key_changed: bool) -> None:
        old, self.settings = self.settings, new
        config.save_settings(new, self._store)
        if key_changed:
            if self.keyring_ok():
                self.background.run(_StoreKey(new.api_key), None, self.show_error, name="keyring")
            else:
                self.show_error(
                    "No system keyring: the key is used until you quit but not saved. "
                    + no_keyring_hint(),
                    kind="info",
                )
        self.budget.apply(new)
        if any(getattr(old, f) != getattr(new, f) for f in _ENGINE_FIELDS):
            self._use_engine(new)
        if old.output_device != new.output_device:
            self.speaker.set_output_device(new.output_device.encode())
        if old.volume != new.volume:
            self.speaker.set_volume(new.volume)
            self.volume.set_volume(new.volume)
        if old.input_device != new.input_device:
            self.recorder.set_device(new.input_device or None)
        if old.ptt_key != new.ptt_key:
            self.ptt.set_key(new.ptt_key, system_wide=False)
            self.ptt_bar.set_key(new.ptt_key)
            self._start_hotkey()

    def showEvent(self, event: QShowEvent) -> None:
        # The connection (TCP and TLS) opens now, not on the first Speak.
        if not self._shut_down and not event.spontaneous():
            self.warmer.warm_now()
        super().showEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        # The microphone opens ahead while the window is active, so the first word after the
        # key isn't cut off (a mic opened on key press loses ~0.5 s: cjpais/Handy#1283); it
        # closes again when the user goes elsewhere.
        if event.type() == QEvent.Type.ActivationChange and not self._shut_down:
            self.warmer.set_active(self.isActiveWindow())
            if self.isActiveWindow() and hasattr(self.recorder, "warm"):
                self.recorder.warm()
            elif hasattr(self.recorder, "cool") and not self.ptt.is_down:
                self.recorder.cool()
        super().changeEvent(event)

    # -- quitting ------------------------------------------------------------------------

    @Slot()
    def quit(self) -> None:
        self.close()
        app = QApplication.instance()
        if app is not None:
            app.quit()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop everything and join every thread; safe to call twice."""
        if self._shut_down:
            return
        self._shut_down = True
        self.ptt.shutdown()
        if self.ptt_server is not None:
            self.ptt_server.close()
        self.inserter.shutdown()
        self._drop_take()
        self.recorder.close()
        self.speaker.shutdown()
        self.transcriber.shutdown()
        self.warmer.stop()
        self.background.shutdown()
        self.budget.shutdown()
        for engine in self._engines:
            try:
                engine.close()
            except Exception as error:  # closing must never stop the quit
                log.warning("closing %s failed: %s", engine.name, error)
        self.tray.hide()
