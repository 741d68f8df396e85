"""A button that, once clicked, takes the next key pressed as the push-to-talk key."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFocusEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QPushButton, QWidget

# Keys that can't serve alone: they only change other keys, or belong to the dialog.
_UNUSABLE = {
    Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta,
    Qt.Key.Key_AltGr, Qt.Key.Key_CapsLock, Qt.Key.Key_Tab, Qt.Key.Key_Backtab,
    Qt.Key.Key_unknown,
}  # fmt: skip


def key_name(key: int) -> str:
    """Portable text for a key ("F9", "Pause"), as QKeySequence writes it."""
    return QKeySequence(key).toString(QKeySequence.SequenceFormat.PortableText)


class KeyCaptureButton(QPushButton):
    """The dialog reads `key` when it is accepted."""

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._key = key
        self._capturing = False
        self.setAccessibleName("Push-to-talk key")
        self.setToolTip("Click, then press the key to hold while you talk (Esc cancels)")
        self.clicked.connect(self._begin)
        self._show()

    @property
    def key(self) -> str:
        return self._key

    def _show(self) -> None:
        self.setText("Press a key…" if self._capturing else self._key)
        self.setAccessibleDescription(f"Currently {self._key}")

    @Slot()
    def _begin(self) -> None:
        self._capturing = True
        self._show()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._capturing:
            super().keyPressEvent(event)
            return
        key = Qt.Key(event.key())
        if key in _UNUSABLE:
            return
        self._capturing = False
        if key != Qt.Key.Key_Escape:
            self._key = key_name(key)
        self._show()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self._capturing = False
        self._show()
        super().focusOutEvent(event)
