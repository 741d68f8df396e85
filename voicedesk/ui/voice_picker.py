"""The voice picker: filled from the engine off the GUI thread, with a Preview button."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from voicedesk.cancel import CancelToken
from voicedesk.engines.base import SpeechEngine, Voice
from voicedesk.errors import VoiceDeskError
from voicedesk.workers.background import Background

PREVIEW_TEXT = "Hello! This is how I sound."


class _VoiceList:
    """Callable for the worker thread: the engine's voices (ElevenLabs pages through them)."""

    def __init__(self, engine: SpeechEngine) -> None:
        self._engine = engine

    def __call__(self, cancel: CancelToken) -> tuple[Voice, ...]:
        return tuple(self._engine.voices())


class VoicePicker(QWidget):
    voice_chosen = Signal(str)
    preview_requested = Signal(str, str)  # voice id, text
    load_failed = Signal(object)  # VoiceDeskError

    def __init__(self, background: Background, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._background = background
        self._wanted = ""
        self._loading: CancelToken | None = None
        self.label = QLabel("&Voice:", self)
        self.combo = QComboBox(self)
        self.combo.setAccessibleName("Voice")
        self.combo.setMinimumContentsLength(18)
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.label.setBuddy(self.combo)
        self.preview_button = QPushButton("&Preview", self)
        self.preview_button.setAccessibleName("Preview voice")
        self.preview_button.setToolTip("Hear a short sample of this voice")
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.setAccessibleName("Refresh voices")
        self.refresh_button.setToolTip("Load the voice list again")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.preview_button)
        layout.addWidget(self.refresh_button)

        self.combo.activated.connect(self._chosen)
        self.preview_button.clicked.connect(self._preview)
        self.refresh_button.clicked.connect(self.reload)
        self._engine: SpeechEngine | None = None
        self._set_placeholder("Loading voices…")

    @property
    def voice_id(self) -> str:
        return str(self.combo.currentData() or self._wanted)

    def voices(self) -> list[tuple[str, str]]:
        return [(self.combo.itemData(i), self.combo.itemText(i)) for i in range(self.combo.count())]

    def load(self, engine: SpeechEngine, wanted: str) -> None:
        """Ask `engine` for its voices in a worker; select `wanted` when they arrive."""
        self._engine = engine
        self._wanted = wanted
        self.reload()

    @Slot()
    def reload(self) -> None:
        if self._engine is None:
            return
        if self._loading is not None:
            self._loading.set()
        self._set_placeholder("Loading voices…")
        self._loading = self._background.run(
            _VoiceList(self._engine), self._fill, self._failed, name="voices"
        )

    def _set_placeholder(self, text: str) -> None:
        self.combo.clear()
        self.combo.setPlaceholderText(text)
        self.combo.setEnabled(False)
        self.preview_button.setEnabled(False)

    def _fill(self, voices: tuple[Voice, ...]) -> None:
        self._loading = None
        self.combo.clear()
        for voice in sorted(voices, key=lambda v: v.name.casefold()):
            shown = voice.category and voice.category.casefold() not in voice.name.casefold()
            label = f"{voice.name} ({voice.category})" if shown else voice.name
            self.combo.addItem(label, voice.voice_id)
        index = self.combo.findData(self._wanted)
        if index < 0 and self._wanted:
            # Keep a remembered voice the list lacks (e.g. a shared one): it may still work.
            self.combo.insertItem(0, f"{self._wanted} (saved)", self._wanted)
            index = 0
        self.combo.setCurrentIndex(max(0, index))
        self.combo.setEnabled(self.combo.count() > 0)
        self.preview_button.setEnabled(self.combo.count() > 0)
        if self.combo.count() == 0:
            self.combo.setPlaceholderText("No voices")

    def _failed(self, error: VoiceDeskError) -> None:
        self._loading = None
        self._set_placeholder("Voices unavailable")
        self.load_failed.emit(error)

    def select(self, voice_id: str) -> None:
        index = self.combo.findData(voice_id)
        if index >= 0:
            self.combo.setCurrentIndex(index)
            self._chosen(index)

    @Slot(int)
    def _chosen(self, index: int) -> None:
        voice_id = str(self.combo.itemData(index) or "")
        if voice_id:
            self._wanted = voice_id
            self.voice_chosen.emit(voice_id)

    @Slot()
    def _preview(self) -> None:
        if self.voice_id:
            self.preview_requested.emit(self.voice_id, PREVIEW_TEXT)
