"""Icons shipped as SVG in the top-level `resources/` (no Qt resource compiler step needed).

One source, found in one of two places: an installed wheel and the PyInstaller bundle carry
`resources/` inside the package as `voicedesk/resources/` (see setup.py and
packaging/voicedesk.spec); a source checkout or an editable install has it beside the package.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

_PACKAGE = Path(__file__).resolve().parent.parent


def _resources() -> Path:
    for folder in (_PACKAGE / "resources", _PACKAGE.parent / "resources"):
        if (folder / "voicedesk.svg").is_file():
            return folder
    return _PACKAGE / "resources"  # not found: icon() then gives an empty QIcon


RESOURCES = _resources()


def icon(name: str) -> QIcon:
    path = RESOURCES / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


def app_icon() -> QIcon:
    return icon("voicedesk")
