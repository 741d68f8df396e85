"""`voicedesk ptt press|release|toggle`: a compositor key binding reaches the running window.

Where no system-wide key is possible (sway, Hyprland, niri, any desktop without the
GlobalShortcuts portal), the user binds `voicedesk ptt press` to a key's press and
`voicedesk ptt release` to its release. The window listens on a local socket in the user's
runtime directory (mode 0700, one per user) and, on Linux, also checks the peer's uid.

One line each way: the client sends the command, the window answers "ok" or "error: …".
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

COMMANDS = ("press", "release", "toggle")
_MAX_LINE = 64  # bytes: every command fits; anything longer is not ours
CONNECT_TIMEOUT_MS = 5000


def server_name() -> str:
    """Per user: in XDG_RUNTIME_DIR (only the user can enter it), else a uid-named socket."""
    if sys.platform == "win32":
        return f"voicedesk-ptt-{os.environ.get('USERNAME', 'user')}"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return str(Path(runtime) / "voicedesk-ptt")
    return str(Path(tempfile.gettempdir()) / f"voicedesk-ptt-{os.getuid()}")


def _peer_uid(descriptor: int) -> int | None:
    """The connecting process's uid (Linux SO_PEERCRED), or None where it can't be asked."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    peer = socket.socket(fileno=os.dup(descriptor))
    try:
        raw = peer.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    finally:
        peer.close()
    _pid, uid, _gid = struct.unpack("3i", raw)
    return uid


class PttServer(QObject):
    """Listens for commands; emits `command(name)` on the GUI thread."""

    command = Signal(str)

    def __init__(self, parent: QObject | None = None, name: str | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        self.error = ""

    def listen(self) -> bool:
        # Qt may replace a socket file that is there: ask first whether a window answers on
        # it (then it's theirs), else it is left by a crashed one and can go.
        probe = QLocalSocket()
        probe.connectToServer(self.name)
        if probe.waitForConnected(500):
            probe.disconnectFromServer()
            self.error = "another voicedesk window already answers `voicedesk ptt`"
            return False
        QLocalServer.removeServer(self.name)
        if self._server.listen(self.name):
            return True
        self.error = self._server.errorString()
        return False

    def close(self) -> None:
        self._server.close()

    @Slot()
    def _accept(self) -> None:
        while (client := self._server.nextPendingConnection()) is not None:
            uid = _peer_uid(int(client.socketDescriptor())) if hasattr(os, "getuid") else None
            if uid is not None and uid != os.getuid():
                log.warning("refused a ptt command from uid %d", uid)
                client.abort()
                client.deleteLater()
                continue
            client.readyRead.connect(self._read)
            client.disconnected.connect(client.deleteLater)

    @Slot()
    def _read(self) -> None:
        client = self.sender()
        assert isinstance(client, QLocalSocket)
        if not client.canReadLine():
            if client.bytesAvailable() > _MAX_LINE:
                client.abort()
            return
        line = bytes(client.readLine(_MAX_LINE).data()).decode("ascii", "replace").strip()
        if line in COMMANDS:
            client.write(b"ok\n")
            client.flush()
            self.command.emit(line)
        else:
            client.write(b"error: unknown command\n")
            client.flush()
        client.disconnectFromServer()


def send_command(command: str, name: str | None = None) -> str:
    """Send one command to the running window; "" when done, else why not (one line)."""
    client = QLocalSocket()
    client.connectToServer(name or server_name())
    if not client.waitForConnected(CONNECT_TIMEOUT_MS):
        return "no voicedesk window is running (start it with `voicedesk`)"
    client.write(f"{command}\n".encode())
    client.flush()
    answer = b""
    while b"\n" not in answer and len(answer) < _MAX_LINE:
        if not client.waitForReadyRead(CONNECT_TIMEOUT_MS):
            break
        answer += bytes(client.readAll().data())
    client.disconnectFromServer()
    text = answer.decode("ascii", "replace").strip()
    if text == "ok":
        return ""
    return text.removeprefix("error: ") or "the voicedesk window did not answer"
