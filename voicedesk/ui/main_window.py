"""The main window: layout, menus, and the wiring of the widgets to the widget-free parts
(`voicedesk.workers`: `AppSettings`, `EngineHolder`, `SpeechSession`, `TalkSession`) that do
the work and say what happened through signals (`ui.prompts` words what they say). Nothing
slow happens here."""

from __future__ import annotations

from collections.abc import Callable

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
from voicedesk.config import Settings
from voicedesk.engines.base import SpeechEngine
from voicedesk.engines.factory import create_engine
from voicedesk.insert.inserter import Inserter
from voicedesk.ui.banner import Banner
from voicedesk.ui.history import HistoryPanel
from voicedesk.ui.hotkey import PushToTalkKey
from voicedesk.ui.icons import app_icon, icon
from voicedesk.ui.ports import RecorderPort, SpeakerPort, TranscriberPort
from voicedesk.ui.prompts import Prompts
from voicedesk.ui.ptt_bar import PushToTalkBar
from voicedesk.ui.settings_dialog import SettingsDialog
from voicedesk.ui.speak_panel import SpeakPanel
from voicedesk.ui.status import StatusBar
from voicedesk.ui.tray import Tray
from voicedesk.ui.voice_picker import VoicePicker
from voicedesk.ui.volume import VolumeControl
from voicedesk.workers.app_settings import AppSettings
from voicedesk.workers.background import Background
from voicedesk.workers.engine_holder import EngineFactory, EngineHolder
from voicedesk.workers.first_words import FirstWords
from voicedesk.workers.speech_session import SpeechSession
from voicedesk.workers.talk_session import TalkSession
from voicedesk.workers.warmer import Warmer


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
        self.speaker, self.transcriber, self.recorder = speaker, transcriber, recorder
        self._system_wide, self._ptt_socket = system_wide_hotkey, ptt_socket
        self._shut_down = False
        self.background = background = Background(self)
        self.warmer = Warmer(background, parent=self)
        self.first_words = FirstWords(background, lambda: self.panel.text, self)
        self.app = app = AppSettings(settings, background, store, keyring_ok, self)
        self.engines = EngineHolder(app, speaker, transcriber, background, engine_factory, self)
        self.budget = self.engines.budget  # credits, concurrency and erase after use
        self.speech = SpeechSession(speaker, self.engines, self.app, self)
        self.inserter = Inserter(self)
        self.talk = TalkSession(
            recorder, transcriber, self.speech, self.engines, self.app, self.inserter, self
        )
        self.setWindowTitle("voicedesk")
        self.setWindowIcon(app_icon())
        self.setObjectName("voicedesk-main")
        self._build()
        self._wire()
        self.engines.use(settings, engine)
        if (warning := config.dotenv_key_warning()) and not self.banner.isVisible():
            self.banner.note(warning)  # a warning, not an error: the key still works
        self.panel.box.setFocus(Qt.FocusReason.OtherFocusReason)

    @property
    def settings(self) -> Settings:
        return self.app.settings

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
        self.prompts = Prompts(self, self.banner, self.open_settings, self._send_confirmed)
        self.panel = SpeakPanel()
        self.history = HistoryPanel()
        history_box = QGroupBox("History (this session only)")
        QVBoxLayout(history_box).addWidget(self.history)
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
        self.tray = Tray(app_icon(), self)

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
        action.setShortcut(QKeySequence(keys))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    # -- wiring --------------------------------------------------------------------------

    def _wire(self) -> None:
        panel, history, banner, ptt = self.panel, self.history, self.banner, self.ptt
        speech, talk, engines = self.speech, self.talk, self.engines
        panel.speak_requested.connect(self.speak)
        panel.stop_requested.connect(self.stop)
        panel.box.file_rejected.connect(banner.show_message)
        panel.box.textChanged.connect(self.warmer.touch)
        panel.box.document().contentsChange.connect(self.first_words.contents_changed)
        history.speak_again.connect(self.speak)
        history.to_box.connect(panel.take_text)
        history.copied.connect(self.status.show_copied)
        self.picker.voice_chosen.connect(engines.choose_voice)
        self.picker.voice_chosen.connect(self._show_engine)
        self.picker.preview_requested.connect(speech.preview)
        self.picker.load_failed.connect(banner.report)
        self.picker.combo.currentIndexChanged.connect(self._show_engine)
        self.volume.changed.connect(self.speaker.set_volume)
        self.volume.settled.connect(self.app.save_volume)
        self.settings_button.clicked.connect(self.open_settings)
        ptt.note_changed.connect(self.ptt_bar.set_note)
        ptt.pressed.connect(talk.press)
        ptt.released.connect(talk.release)
        self.ptt_bar.button.pressed.connect(ptt.press)
        self.ptt_bar.button.released.connect(ptt.release)
        self.tray.speak_clipboard_requested.connect(self.speak_clipboard)
        self.tray.quit_requested.connect(self.quit)
        ptt.serve(self._system_wide, self._ptt_socket)  # the `voicedesk ptt` socket's name
        # What the parts do and say, to the widgets that show it.
        panel.follow(speech)
        history.follow(speech, talk)
        self.status.follow(self.budget, speech, talk)
        self.ptt_bar.follow(talk)
        self.prompts.follow(self.app, engines, speech, talk)
        engines.engine_changed.connect(self._engine_changed)
        speech.stopped.connect(self.warmer.warm_now)
        talk.start_failed.connect(ptt.release)
        self.recorder.level.connect(self.ptt_bar.meter.set_level)
        self.recorder.capped.connect(ptt.release)
        self.app.changed.connect(self._settings_changed)

    # -- actions -------------------------------------------------------------------------

    @Slot(str)
    def speak(self, text: str, confirmed: bool = False) -> int | None:
        """Speak `text` (queued behind what is playing); the box keeps its text either way.
        A costly text is first shown against the characters left (`workers.spend`)."""
        return self.speech.speak(text, self.picker.voice_id or None, confirmed)

    @Slot()
    def stop(self) -> None:
        self.speech.stop()

    def _send_confirmed(self, text: str) -> None:
        self.speak(text, confirmed=True)

    @Slot()
    def speak_clipboard(self) -> None:
        self.speak(QGuiApplication.clipboard().text())

    @Slot()
    def open_settings(self) -> SettingsDialog:
        keyring_ok, note = self.app.keyring_ok(), self.ptt.note
        dialog = SettingsDialog(self.settings, self.background, keyring_ok, self, hotkey_note=note)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(self._settings_accepted)
        dialog.open()
        self._dialog = dialog
        return dialog

    @Slot()
    def _settings_accepted(self) -> None:
        self.app.apply(self._dialog.result_settings(), self._dialog.key_changed)
        self._dialog.deleteLater()

    @Slot(object, str)
    def _engine_changed(self, engine: SpeechEngine, voice_id: str) -> None:
        self.picker.load(engine, voice_id)
        self.warmer.set_engine(engine)
        self.first_words.set_engine(engine)
        if self.isVisible():
            self.warmer.warm_now()
        self._show_engine()

    @Slot()
    def _show_engine(self) -> None:
        self.status.set_engine(self.engines.label, self.picker.combo.currentText())

    @Slot(object, object)
    def _settings_changed(self, old: Settings, new: Settings) -> None:
        if old.volume != new.volume:
            self.volume.set_volume(new.volume)
        if old.ptt_key != new.ptt_key:
            self.ptt.change_key(new.ptt_key)
            self.ptt_bar.set_key(new.ptt_key)

    # -- events and quitting -------------------------------------------------------------

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
            if self.isActiveWindow():
                self.recorder.warm()
            elif not self.ptt.is_down:
                self.recorder.cool()
        super().changeEvent(event)

    @Slot()
    def quit(self) -> None:
        self.close()
        QApplication.quit()  # static: nothing to do without an application

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop everything and join every thread; safe to call twice."""
        if self._shut_down:
            return
        self._shut_down = True
        self.ptt.shutdown()
        self.talk.shutdown()
        self.speaker.shutdown()
        self.transcriber.shutdown()
        self.warmer.stop()
        self.first_words.stop()
        self.background.shutdown()
        self.engines.close()
        self.tray.hide()
