"""This session's history: what was spoken and what was heard. In memory only, never saved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from PySide6.QtCore import QPoint, Qt, Signal, Slot
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from voicedesk.workers.speech_session import SpeechSession
    from voicedesk.workers.talk_session import TalkSession

# "spoken": played to the end or until it failed; "stopped": the user stopped it while it played.
Kind = Literal["spoken", "stopped", "heard"]
_VERBS = {"spoken": "Spoke", "stopped": "Stopped", "heard": "Heard"}
MAX_ENTRIES = 200  # a long session must not grow without bound
_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True, slots=True)
class Entry:
    kind: Kind
    text: str
    at: datetime

    @property
    def label(self) -> str:
        what = _VERBS[self.kind]
        flat = " ".join(self.text.split())
        short = flat if len(flat) <= 120 else flat[:117] + "…"
        return f"{self.at:%H:%M}  {what}: {short}"


class HistoryPanel(QWidget):
    speak_again = Signal(str)
    to_box = Signal(str)
    copied = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._playing: tuple[int, Entry] | None = None  # the utterance heard last, its entry
        self.list = QListWidget(self)
        self.list.setAccessibleName("History")
        self.list.setAccessibleDescription("What was spoken and transcribed in this session")
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.copy_button = self._button("&Copy", "Copy to the clipboard (Ctrl+C)")
        self.again_button = self._button("Speak &again", "Speak this again")
        self.box_button = self._button("To &box", "Put this text in the box")

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.box_button, self.copy_button, self.again_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

        self.copy_button.clicked.connect(self.copy_current)
        self.again_button.clicked.connect(self.speak_current)
        self.box_button.clicked.connect(self.current_to_box)
        self.list.currentRowChanged.connect(self._update_buttons)
        self.list.itemActivated.connect(self._activated)
        self.list.customContextMenuRequested.connect(self._menu)
        # The list's own Ctrl+C would copy the shortened label; ours copies the whole text.
        copy = QAction("Copy", self.list)
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self.copy_current)
        self.list.addAction(copy)
        self._update_buttons()

    def _button(self, text: str, tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setToolTip(tip)
        button.setAccessibleName(text.replace("&", ""))
        return button

    def follow(self, speech: SpeechSession, talk: TalkSession) -> None:
        """Keep what was heard of speech (from its first sound; marked when the user cut it)
        and what the microphone heard."""
        speech.played.connect(self._played)
        speech.cut.connect(self._cut)
        talk.transcribed.connect(self.add_heard)

    @Slot(int, str)
    def _played(self, uid: int, text: str) -> None:
        # Utterances play one after another: the one heard last is the one a Stop cuts.
        self._playing = (uid, self.add("spoken", text))

    @Slot(int)
    def _cut(self, uid: int) -> None:
        if self._playing is not None and self._playing[0] == uid:
            self.mark_stopped(self._playing[1])
            self._playing = None

    @Slot(str)
    def add_heard(self, text: str) -> None:
        self.add("heard", text)

    def add(self, kind: Kind, text: str) -> Entry:
        entry = Entry(kind, text, datetime.now())
        item = QListWidgetItem(entry.label)
        item.setData(_ROLE, entry)
        item.setToolTip(text[:1000])
        self.list.insertItem(0, item)  # newest on top, where the eye is
        while self.list.count() > MAX_ENTRIES:
            self.list.takeItem(self.list.count() - 1)
        self.list.setCurrentRow(0)
        return entry

    def mark_stopped(self, entry: Entry) -> None:
        """`entry` (from `add`) was stopped while it played: say so in its line."""
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(_ROLE) == entry:
                stopped = Entry("stopped", entry.text, entry.at)
                item.setData(_ROLE, stopped)
                item.setText(stopped.label)
                return

    def entries(self) -> list[Entry]:
        return [self.list.item(i).data(_ROLE) for i in range(self.list.count())]

    def current(self) -> Entry | None:
        item = self.list.currentItem()
        return item.data(_ROLE) if item is not None else None

    @Slot()
    def copy_current(self) -> None:
        if entry := self.current():
            QGuiApplication.clipboard().setText(entry.text)
            self.copied.emit(entry.text)

    @Slot()
    def speak_current(self) -> None:
        if entry := self.current():
            self.speak_again.emit(entry.text)

    @Slot()
    def current_to_box(self) -> None:
        if entry := self.current():
            self.to_box.emit(entry.text)

    @Slot()
    def _update_buttons(self) -> None:
        has = self.current() is not None
        for button in (self.copy_button, self.again_button, self.box_button):
            button.setEnabled(has)

    @Slot(QListWidgetItem)
    def _activated(self, item: QListWidgetItem) -> None:
        # Enter on a transcript puts it in the box (the likely next step); on speech, replays it.
        entry: Entry = item.data(_ROLE)
        (self.to_box if entry.kind == "heard" else self.speak_again).emit(entry.text)

    @Slot(QPoint)
    def _menu(self, pos: QPoint) -> None:
        if self.current() is None:
            return
        menu = QMenu(self)
        menu.addAction("Copy", self.copy_current)
        menu.addAction("Speak again", self.speak_current)
        menu.addAction("Put in the box", self.current_to_box)
        menu.exec(self.list.viewport().mapToGlobal(pos))
