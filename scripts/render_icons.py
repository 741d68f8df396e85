"""Render resources/voicedesk.svg to the PNG sizes desktops look up (hicolor theme sizes).

The PNGs are committed, so neither installing nor packaging needs this; rerun it after editing
the SVG: `QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/render_icons.py`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def main() -> int:
    app = QGuiApplication(sys.argv)  # QImage text/raster needs an application object
    renderer = QSvgRenderer(str(RESOURCES / "voicedesk.svg"))
    if not renderer.isValid():
        print("scripts/render_icons.py: resources/voicedesk.svg did not parse", file=sys.stderr)
        return 1
    out = RESOURCES / "icons"
    out.mkdir(exist_ok=True)
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(out / f"voicedesk-{size}.png"))
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
