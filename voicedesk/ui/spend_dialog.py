"""Asking before a costly send: the text's size against the characters left (workers/spend).

Window-modal but opened with `open()`, never `exec()`: the window's event loop keeps running
(speech already playing carries on). The text stays in the box whatever the answer.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget


class SpendDialog(QMessageBox):
    send = Signal(str)  # the text, to send to ElevenLabs as asked
    offline = Signal(str)  # the text, to speak with the offline voice instead

    def __init__(self, text: str, question: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = text
        self.setWindowTitle("Send a long text?")
        self.setIcon(QMessageBox.Icon.Question)
        self.setText(question)
        self.send_button: QPushButton = self.addButton("&Send", QMessageBox.ButtonRole.AcceptRole)
        self.offline_button: QPushButton = self.addButton(
            "Speak &offline", QMessageBox.ButtonRole.ActionRole
        )
        self.cancel_button: QPushButton = self.addButton(QMessageBox.StandardButton.Cancel)
        self.setDefaultButton(self.cancel_button)  # Enter must not spend by accident
        self.setEscapeButton(self.cancel_button)
        self.buttonClicked.connect(self._clicked)

    @Slot(object)
    def _clicked(self, button: object) -> None:
        if button is self.send_button:
            self.send.emit(self._text)
        elif button is self.offline_button:
            self.offline.emit(self._text)
