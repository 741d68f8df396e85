"""Looking for the API key wherever a user or a log could see it."""

from __future__ import annotations

import logging

from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

# Everything that logs on the way to ElevenLabs, at DEBUG for these tests.
LOGGERS = ("", "httpx", "httpcore", "elevenlabs", "voicedesk", "urllib3")


def widget_texts(root: QWidget) -> list[str]:
    """Every text a user can see or a screen reader reads, in `root` and all it holds."""
    found: list[str] = []
    for widget in [root, *root.findChildren(QWidget)]:
        found += [widget.windowTitle(), widget.toolTip(), widget.statusTip()]
        found += [widget.accessibleName(), widget.accessibleDescription()]
        if isinstance(widget, (QLabel, QAbstractButton, QLineEdit)):
            found.append(widget.text())
        if isinstance(widget, (QPlainTextEdit, QTextEdit)):
            found.append(widget.toPlainText())
        if isinstance(widget, QComboBox):
            found += [widget.itemText(i) for i in range(widget.count())]
    for action in root.findChildren(QAction):
        found += [action.text(), action.toolTip(), action.statusTip()]
    status = getattr(root, "statusBar", None)
    if callable(status):
        found.append(status().currentMessage())
    return [text for text in found if text]


def leaks(secret: str, *texts: str, records: list[logging.LogRecord] = ()) -> list[str]:  # type: ignore[assignment]
    """Where `secret` shows up: in the texts, or in a log record's message or traceback."""
    found = [text for text in texts if secret in text]
    formatter = logging.Formatter("%(name)s %(message)s")
    for record in records:
        line = formatter.format(record)
        if secret in line:
            found.append(line)
    return found
