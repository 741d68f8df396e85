"""An inline, non-modal message above the text box, with an optional action (e.g. Retry)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from voicedesk.errors import VoiceDeskError


class Banner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setAccessibleName("Message")
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton(self)
        self.action_button.setAccessibleName("Message action")
        self.action_button.setVisible(False)
        self.second_button = QPushButton(self)  # a second choice, e.g. "Retry offline"
        self.second_button.setAccessibleName("Second message action")
        self.second_button.setVisible(False)
        self.close_button = QPushButton("Dismiss", self)
        self.close_button.setAccessibleName("Dismiss message")
        self.close_button.setFlat(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(self.second_button)
        layout.addWidget(self.close_button)
        self.close_button.clicked.connect(self.dismiss)
        self.action_button.clicked.connect(self._act)
        self.second_button.clicked.connect(self._act_second)
        self._action: Callable[[], object] | None = None
        self._second: Callable[[], object] | None = None
        self.kind = ""
        self.setVisible(False)

    @property
    def text(self) -> str:
        parent = self.parentWidget()
        visible = self.isVisibleTo(parent) if parent is not None else self.isVisible()
        return self.label.text() if visible else ""

    def show_message(
        self,
        text: str,
        kind: str = "error",
        action: str = "",
        on_action: Callable[[], object] | None = None,
        second: tuple[str, Callable[[], object]] | None = None,
    ) -> None:
        self.kind = kind
        self.label.setText(text)
        self.label.setAccessibleName(text)
        self._action = on_action
        self.action_button.setText(action)
        self.action_button.setAccessibleName(action.replace("&", ""))
        self.action_button.setVisible(bool(action and on_action))
        second_text, self._second = second if second is not None else ("", None)
        self.second_button.setText(second_text)
        self.second_button.setAccessibleName(second_text.replace("&", ""))
        self.second_button.setVisible(second is not None)
        # Tinted from the palette, so it reads in light and dark themes.
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Window)
        tint = palette.color(QPalette.ColorRole.Highlight) if kind == "info" else Qt.GlobalColor.red
        mixed = _mix(base, tint, 0.18)
        palette.setColor(QPalette.ColorRole.Window, mixed)
        self.setPalette(palette)
        self.setVisible(True)

    def report(self, error: VoiceDeskError, gentle: bool = False) -> None:
        """An error from any part of the app (`gentle`: a slip, not a fault, tinted as a note).
        Connected to signals with and without the flag, so no single @Slot signature."""
        self.show_message(error.message, "info" if gentle else "error")

    @Slot(str)
    def note(self, text: str) -> None:
        """A line that is not an error."""
        self.show_message(text, "info")

    @Slot()
    def dismiss(self) -> None:
        self.setVisible(False)
        self._action = self._second = None

    @Slot()
    def _act(self) -> None:
        action = self._action
        self.dismiss()
        if action is not None:
            action()

    @Slot()
    def _act_second(self) -> None:
        action = self._second
        self.dismiss()
        if action is not None:
            action()


def _mix(first: QColor | Qt.GlobalColor, second: QColor | Qt.GlobalColor, share: float) -> QColor:
    a, b = QColor(first), QColor(second)
    return QColor(
        round(a.red() * (1 - share) + b.red() * share),
        round(a.green() * (1 - share) + b.green() * share),
        round(a.blue() * (1 - share) + b.blue() * share),
    )
