"""Icons shipped as SVG in voicedesk/resources (no Qt resource compiler step needed)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def icon(name: str) -> QIcon:
    path = RESOURCES / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


def app_icon() -> QIcon:
    return icon("voicedesk")
