"""The type-to-speak box with Speak and Stop, and what is playing right now."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from voicedesk.ui.elided_label import ElidedLabel
from voicedesk.workers.speaker import BUFFERING, PLAYING, REQUESTING
from voicedesk.workers.speech_session import NowPlaying, SpeechSession

log = logging.getLogger(__name__)

# The speaker's progress states, as the panel words them.
_STATES = {REQUESTING: "Starting", PLAYING: "Speaking", BUFFERING: "Waiting for the network"}

_STEPS = 1000  # the progress bar's resolution

# A dropped file bigger than this is surely not something to read aloud.
MAX_DROP_BYTES = 2_000_000


def _text_files(mime: QMimeData) -> list[Path]:
    return [
        Path(url.toLocalFile())
        for url in mime.urls()
        if url.isLocalFile() and url.toLocalFile().lower().endswith(".txt")
    ]


class TextBox(QPlainTextEdit):
    """Plain text only (pasting rich text keeps just the words); `.txt` files can be dropped."""

    file_rejected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Text to speak")
        self.setPlaceholderText(
            "Type or paste text, or drop a .txt file here. Ctrl+Enter speaks, Esc stops."
        )
        self.setTabChangesFocus(True)  # Tab moves on, as in a form; keyboard users need that

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return bool(_text_files(source)) or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        files = _text_files(source)
        if not files:
            super().insertFromMimeData(source)
            return
        for path in files:
            self._insert_file(path)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _text_files(event.mimeData()):
            event.acceptProposedAction()
            return
        super().dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        if _text_files(event.mimeData()):
            self.insertFromMimeData(event.mimeData())
            event.acceptProposedAction()
            return
        super().dropEvent(event)

    def _insert_file(self, path: Path) -> None:
        try:
            if path.stat().st_size > MAX_DROP_BYTES:
                self.file_rejected.emit(f"{path.name} is too large to read aloud.")
                return
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as error:
            self.file_rejected.emit(f"Could not open {path.name}: {error.strerror or error}.")
            return
        self.insertPlainText(text)


class SpeakPanel(QWidget):
    speak_requested = Signal(str)
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box = TextBox(self)
        self.speak_button = QPushButton("&Speak", self)
        self.speak_button.setToolTip("Speak the text (Ctrl+Enter)")
        self.speak_button.setAccessibleName("Speak")
        self.speak_button.setDefault(False)
        self.stop_button = QPushButton("S&top", self)
        self.stop_button.setToolTip("Stop speaking (Esc)")
        self.stop_button.setAccessibleName("Stop")
        self.stop_button.setEnabled(False)
        self.now_playing = ElidedLabel(self)
        self.now_playing.setAccessibleName("Now playing")
        self.part = QLabel(self)
        self.part.setAccessibleName("Part playing")
        self.part.setTextFormat(Qt.TextFormat.PlainText)
        self.part.setVisible(False)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Speaking progress")
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.setVisible(False)
        self._share = 0.0

        buttons = QHBoxLayout()
        buttons.addWidget(self.now_playing, 1)
        buttons.addWidget(self.part)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.speak_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.box, 1)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)

        self.speak_button.clicked.connect(self.request_speak)
        self.stop_button.clicked.connect(self.stop_requested)

    @property
    def text(self) -> str:
        return self.box.toPlainText()

    def follow(self, speech: SpeechSession) -> None:
        """Show what `speech` plays."""
        speech.now_playing_changed.connect(self.show_now)
        speech.part_changed.connect(self.show_part)
        speech.share_changed.connect(self.show_share)

    @Slot(str)
    def take_text(self, text: str) -> None:
        """`text` into the box, the box focused (to edit it or speak it)."""
        self.set_text(text)
        self.box.setFocus()

    def set_text(self, text: str) -> None:
        self.box.setPlainText(text)
        self.box.moveCursor(self.box.textCursor().MoveOperation.End)

    @Slot()
    def request_speak(self) -> None:
        # The selection if there is one (read a part), else everything.
        selected = self.box.textCursor().selectedText().replace("\u2029", "\n")
        self.speak_requested.emit(selected if selected.strip() else self.text)

    @Slot(object)
    def show_now(self, now: NowPlaying | None) -> None:
        """The speech session's utterance shown (None: nothing plays)."""
        if now is None:
            self.show_idle()
            return
        if now.new:
            self.new_utterance()
        self.show_playing(now.text, now.state, now.queued)

    def show_playing(self, text: str, state: str, queued: int = 0) -> None:
        """`state` is the speaker's: requesting, playing or buffering."""
        what = _STATES.get(state, "Speaking")
        more = f"  (+{queued} queued)" if queued else ""
        self.now_playing.set_text(f"{what}: {text}", more)
        self.now_playing.setToolTip(text[:500])
        self.now_playing.setAccessibleDescription(f"{what}{more}")
        # Busy while waiting for audio; the share played while it plays.
        if state == PLAYING:
            self.progress.setRange(0, _STEPS)
            self.progress.setValue(round(self._share * _STEPS))
        else:
            self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.stop_button.setEnabled(True)

    def show_part(self, index: int, count: int) -> None:
        """Piece `index` (0-based) of `count` is being heard; one piece needs no label."""
        text = f"Part {index + 1} of {count}" if count > 1 else ""
        self.part.setText(text)
        self.part.setAccessibleDescription(text)
        self.part.setVisible(bool(text))

    def show_share(self, share: float) -> None:
        """The share of the utterance played so far, 0.0-1.0."""
        self._share = min(1.0, max(0.0, share))
        if self.progress.maximum():  # not while it shows "busy"
            self.progress.setValue(round(self._share * _STEPS))

    def new_utterance(self) -> None:
        """Another utterance is shown from now on: forget the last one's part and share."""
        self._share = 0.0
        self.part.clear()
        self.part.setVisible(False)

    def show_idle(self) -> None:
        self.now_playing.clear()
        self.now_playing.setToolTip("")
        self.new_utterance()
        self.progress.setVisible(False)
        self.progress.setRange(0, _STEPS)
        self.progress.setValue(0)
        self.stop_button.setEnabled(False)
