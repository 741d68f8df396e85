"""Another application for the Xvfb tests: a window with a text field, owning a rich clipboard.

    python -m tests.helpers.text_target

At start it puts text, HTML and a PNG on the clipboard and prints "ready". On stdin, "dump"
prints one JSON line: the field's text and the clipboard's formats with their bytes' SHA-256
(read back through the X server, from whichever client owns the clipboard by then); "text"
the field's text only.
"""

from __future__ import annotations

import hashlib
import json
import sys

from PySide6.QtCore import QBuffer, QMimeData, QSocketNotifier, Slot
from PySide6.QtGui import QColor, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QMainWindow, QPlainTextEdit

CHECKED_FORMATS = ("text/plain", "text/html", "image/png")


def png() -> bytes:
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    image.fill(QColor("teal"))
    buffer = QBuffer()
    buffer.open(QBuffer.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data().data())


def rich_clipboard() -> QMimeData:
    mime = QMimeData()
    mime.setText("what the user copied")
    mime.setHtml("<b>what the user copied</b>")
    mime.setData("image/png", png())
    return mime


def clipboard_hashes() -> dict[str, str]:
    data = QGuiApplication.clipboard().mimeData()
    if data is None:
        return {}
    return {
        name: hashlib.sha256(bytes(data.data(name).data())).hexdigest()
        for name in CHECKED_FORMATS
        if data.hasFormat(name)
    }


class Target(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("text target")
        self.field = QPlainTextEdit()
        self.setCentralWidget(self.field)
        self.resize(500, 200)
        self._stdin = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read, self)
        self._stdin.activated.connect(self._command)

    @Slot()
    def _command(self) -> None:
        line = sys.stdin.readline()
        if not line:
            QApplication.quit()
            return
        if line.strip() == "dump":
            state = {"text": self.field.toPlainText(), "clipboard": clipboard_hashes()}
            print(json.dumps(state), flush=True)
        elif line.strip() == "text":  # without the clipboard, which may be the asker's own
            print(json.dumps({"text": self.field.toPlainText()}), flush=True)


def main() -> int:
    app = QApplication(sys.argv[:1])
    window = Target()
    window.show()
    QGuiApplication.clipboard().setMimeData(rich_clipboard())
    print("ready " + json.dumps(clipboard_hashes()), flush=True)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
