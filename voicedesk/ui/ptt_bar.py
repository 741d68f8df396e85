"""The push-to-talk row: a hold-to-talk button, the level meter, a note on the hotkey, and
the live words of the take (partial transcripts while the key is held)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from voicedesk.ui.level_meter import LevelMeter

if TYPE_CHECKING:
    from voicedesk.workers.talk_session import TalkSession


class PushToTalkBar(QWidget):
    def __init__(self, key_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.button = QPushButton(self)
        self.button.setAccessibleName("Hold to talk")
        self.button.setCheckable(False)
        self.button.setAutoDefault(False)
        self.meter = LevelMeter(self)
        self.meter.setVisible(False)
        self.state = QLabel(self)
        self.state.setAccessibleName("Microphone state")
        self.note = QLabel(self)
        self.note.setAccessibleName("Push-to-talk note")
        self.note.setWordWrap(True)
        self.note.setEnabled(False)  # the palette's quiet text colour
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.live = QLabel(self)
        self.live.setAccessibleName("Live words")
        self.live.setTextFormat(Qt.TextFormat.PlainText)
        self.live.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.live.setVisible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)
        layout.addWidget(self.state)
        layout.addWidget(self.meter, 1)
        layout.addWidget(self.note, 2)
        layout.addWidget(self.live, 2)
        self.set_key(key_name)

    def follow(self, talk: TalkSession) -> None:
        """Show what `talk` does: recording, transcribing, the live words."""
        talk.recording_changed.connect(self.show_recording)
        talk.transcribing_changed.connect(self.show_transcribing)
        talk.live_words_changed.connect(self.show_live)

    def set_key(self, key_name: str) -> None:
        self.button.setText(f"Hold to talk ({key_name})")
        self.button.setToolTip(
            f"Hold this button, or the {key_name} key, while you speak; release to transcribe"
        )

    def set_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setToolTip(text)

    def show_recording(self, recording: bool) -> None:
        self.button.setDown(recording)
        self.meter.setVisible(recording)
        self.note.setVisible(not recording and not self.live.text())
        self.state.setText("Listening…" if recording else "")
        if not recording:
            self.meter.reset()

    @Slot(bool)
    def show_transcribing(self, busy: bool) -> None:
        self.state.setText("Transcribing…" if busy else "")

    def show_live(self, text: str, quiet: bool = False) -> None:
        """The take's words so far (the end shown when they don't fit); `quiet` for a note."""
        self.live.setEnabled(not quiet)
        self.live.setText(text)
        self.live.setToolTip(text)
        self.live.setVisible(bool(text))
        self.note.setVisible(not text and not self.button.isDown())
        if text:
            # Right-aligned: a long take's newest words are the ones to see.
            self.live.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def clear_live(self) -> None:
        self.show_live("")
