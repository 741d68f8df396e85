"""Saving every format on the clipboard and putting them back (rich text, images, files…)."""

from __future__ import annotations

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QClipboard

# Bounded: a huge clipboard (a screenshot, a big file list) is kept up to this much in total;
# past it, the formats that don't fit are left out rather than holding hundreds of MB.
MAX_SAVED_BYTES = 64 * 1024 * 1024


def save(clipboard: QClipboard) -> dict[str, bytes]:
    """Every MIME format the clipboard offers, with its bytes (empty ones left out)."""
    data = clipboard.mimeData()
    if data is None:
        return {}
    saved: dict[str, bytes] = {}
    total = 0
    for name in data.formats():
        value = bytes(data.data(name).data())
        if not value or total + len(value) > MAX_SAVED_BYTES:
            continue
        saved[name] = value
        total += len(value)
    return saved


def as_mime(saved: dict[str, bytes]) -> QMimeData:
    mime = QMimeData()
    for name, value in saved.items():
        mime.setData(name, value)
    return mime


def text_mime(text: str) -> QMimeData:
    mime = QMimeData()
    mime.setText(text)
    return mime
