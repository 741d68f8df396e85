"""Insert a transcript into the focused application: paste or type, per desktop.

Paste: every clipboard format is saved, the transcript set, the paste chord sent (Ctrl+V;
Ctrl+Shift+V in a terminal), and after a bounded wait for the target to read it the saved
clipboard goes back, unless something else changed the clipboard meanwhile (then theirs wins).
Type: XTest on X11, `wtype` on Wayland compositors with the virtual-keyboard protocol (sway,
Hyprland, niri…), the RemoteDesktop portal on GNOME and KDE Wayland. Where none works, the
transcript is left on the clipboard and the user is told to paste it. Insertions queue: a
transcript that arrives mid-insertion waits.
"""

from __future__ import annotations

import logging
import shutil
from collections import deque
from typing import Any

from PySide6.QtCore import QObject, QProcess, QTimer, Signal, Slot
from PySide6.QtGui import QClipboard, QGuiApplication

from voicedesk.errors import InsertFailedError
from voicedesk.hotkeys.choose import is_wayland_session
from voicedesk.insert import clipboard as saved_clipboard

log = logging.getLogger(__name__)

# How long the target gets to read the clipboard after the paste chord before the user's own
# clipboard goes back. There is no signal for "read" on X11 or Wayland; slow apps (Electron,
# a remote terminal) need a few hundred ms.
RESTORE_DELAY_MS = 600
# After typing through remapped keycodes, before the keyboard map is put back (see x11.py).
TYPE_SETTLE_MS = 150
WTYPE_TIMEOUT_MS = 15_000


def backend_for(platform: str) -> str:
    """What reaches other applications here: "x11", "wtype", "remote-desktop", "pynput",
    or "" for nothing."""
    if platform == "xcb" and not is_wayland_session(platform):
        return "x11"
    if platform in ("windows", "cocoa"):
        return "pynput"
    if is_wayland_session(platform):
        # wtype needs the virtual-keyboard protocol (wlroots: sway, Hyprland…); GNOME and KDE
        # lack it but offer the RemoteDesktop portal.
        return "wtype" if shutil.which("wtype") else "remote-desktop"
    return ""


def describe(platform: str) -> str:
    """One line for Settings: how the transcript would be inserted here."""
    backend = backend_for(platform)
    if backend == "x11":
        return "Paste (X11, Ctrl+Shift+V in terminals) or type through XTest."
    if backend == "wtype":
        return "Typed with wtype (or pasted with its Ctrl+V)."
    if backend == "pynput":
        return "Paste or type through the system keyboard."
    if backend == "remote-desktop":
        return (
            "Typed through the desktop portal's remote desktop (the desktop asks you once a "
            "run); where that fails, the transcript is left on the clipboard."
        )
    return "Not possible here: the transcript is left on the clipboard for you to paste."


class Inserter(QObject):
    inserted = Signal(str)  # "paste" or "type"
    failed = Signal(object)  # InsertFailedError: one line

    def __init__(self, parent: QObject | None = None, platform: str | None = None) -> None:
        super().__init__(parent)
        self._platform = platform or QGuiApplication.platformName()
        self._queue: deque[tuple[str, str]] = deque()
        self._busy = False
        self._clipboard: QClipboard = QGuiApplication.clipboard()
        self._saved: dict[str, bytes] = {}
        self._pasted = ""
        self._changed = False
        self._keyboard: Any = None
        self._rest = ""
        self._process: QProcess | None = None
        self._remote: Any = None  # RemoteDesktopTyper, made on first use
        self._remote_text = ""
        self.restore_delay_ms = RESTORE_DELAY_MS

    @property
    def busy(self) -> bool:
        return self._busy

    def insert(self, text: str, method: str = "auto") -> None:
        self._queue.append((text, method))
        if not self._busy:
            self._next()

    def _next(self) -> None:
        if not self._queue:
            self._busy = False
            return
        self._busy = True
        text, method = self._queue.popleft()
        backend = backend_for(self._platform)
        if not backend:
            self._fall_back(text, "nothing can type into other applications on this desktop")
            return
        if method == "auto" or backend == "remote-desktop":  # no paste chord through it
            method = "type" if backend in ("wtype", "remote-desktop") else "paste"
        log.info("inserting %d characters: %s through %s", len(text), method, backend)
        try:
            if method == "paste":
                self._paste(text, backend)
            else:
                self._type(text, backend)
        except Exception as error:  # no X server, no XTEST, a key missing from the map…
            log.warning("inserting the transcript failed: %r", error)
            self._close_keyboard()
            self._fall_back(text, f"couldn't type into the focused application ({error})")

    def _fall_back(self, text: str, why: str) -> None:
        log.warning("inserting the transcript failed: %s", why)
        self._clipboard.setMimeData(saved_clipboard.text_mime(text))
        self.failed.emit(InsertFailedError(f"The transcript is on the clipboard: {why}."))
        self._finish()

    def _finish(self) -> None:
        QTimer.singleShot(0, self._next)

    # -- paste ---------------------------------------------------------------------------

    def _paste(self, text: str, backend: str) -> None:
        self._saved = saved_clipboard.save(self._clipboard)
        self._clipboard.setMimeData(saved_clipboard.text_mime(text))
        self._pasted = text
        self._changed = False
        self._clipboard.dataChanged.connect(self._clipboard_changed)
        try:
            self._send_paste_chord(backend)
        except Exception:
            self._clipboard.dataChanged.disconnect(self._clipboard_changed)
            raise
        QTimer.singleShot(self.restore_delay_ms, self._restore)

    def _send_paste_chord(self, backend: str) -> None:
        if backend == "x11":
            from voicedesk.insert.x11 import X11Keyboard

            keyboard = X11Keyboard()
            try:
                terminal = keyboard.is_terminal()
                keyboard.chord(["Control_L", "Shift_L"] if terminal else ["Control_L"], "v")
            finally:
                keyboard.close()
        elif backend == "wtype":
            self._run_wtype(["-M", "ctrl", "v", "-m", "ctrl"], then=None)
        else:
            from pynput.keyboard import Controller, Key

            keys = Controller()
            with keys.pressed(Key.cmd if self._platform == "cocoa" else Key.ctrl):  # released
                keys.tap("v")

    @Slot()
    def _clipboard_changed(self) -> None:
        self._changed = True

    @Slot()
    def _restore(self) -> None:
        self._clipboard.dataChanged.disconnect(self._clipboard_changed)
        ours = self._clipboard.text() == self._pasted
        if self._platform == "xcb":
            ours = ours and self._clipboard.ownsClipboard()
        if ours and not self._changed:
            if self._saved:
                self._clipboard.setMimeData(saved_clipboard.as_mime(self._saved))
            else:
                self._clipboard.clear()
        else:
            log.info("the clipboard changed while pasting: left as it is")
        self._saved = {}
        self._pasted = ""
        self.inserted.emit("paste")
        self._finish()

    # -- type ----------------------------------------------------------------------------

    def _type(self, text: str, backend: str) -> None:
        if backend == "x11":
            from voicedesk.insert.x11 import X11Keyboard

            self._keyboard = X11Keyboard()
            self._rest = text
            self._type_some()
        elif backend == "wtype":
            # A Shift tap first: the client that has just been sent wtype's keymap drops the
            # first key after it (https://github.com/peteonrails/voxtype/issues/202; seen here
            # with Qt under sway), so the dropped one is a key that types nothing.
            self._run_wtype(["-P", "Shift_L", "-p", "Shift_L", "--", text], then="type")
        elif backend == "remote-desktop":
            if self._remote is None:
                from voicedesk.insert.remote_desktop import RemoteDesktopTyper

                self._remote = RemoteDesktopTyper(self)
                self._remote.typed.connect(self._remote_typed)
                self._remote.failed.connect(self._remote_failed)
            self._remote_text = text
            self._remote.type_text(text)
        else:
            from pynput.keyboard import Controller

            Controller().type(text)
            self.inserted.emit("type")
            self._finish()

    def _type_some(self) -> None:
        self._rest = self._keyboard.type_text(self._rest)
        QTimer.singleShot(TYPE_SETTLE_MS, self._settled)

    @Slot()
    def _settled(self) -> None:
        try:
            self._keyboard.restore_map()
            if self._rest:
                self._type_some()
                return
        except Exception as error:
            log.warning("typing failed: %r", error)
            self._close_keyboard()
            self.failed.emit(InsertFailedError(f"Typing the transcript stopped: {error}"))
            self._finish()
            return
        self._close_keyboard()
        self.inserted.emit("type")
        self._finish()

    @Slot()
    def _remote_typed(self) -> None:
        self.inserted.emit("type")
        self._finish()

    @Slot(str)
    def _remote_failed(self, why: str) -> None:
        self._fall_back(self._remote_text, why)

    def shutdown(self) -> None:
        """Join the remote-desktop thread (if one runs)."""
        if self._remote is not None:
            self._remote.shutdown()

    def _close_keyboard(self) -> None:
        keyboard, self._keyboard = self._keyboard, None
        if keyboard is not None:
            try:
                keyboard.close()
            except Exception as error:  # the X server went away: nothing left to release
                log.info("closing the X connection: %r", error)

    # -- wtype ---------------------------------------------------------------------------

    def _run_wtype(self, arguments: list[str], then: str | None) -> None:
        process = QProcess(self)
        process.setProgram(shutil.which("wtype") or "wtype")
        process.setArguments(arguments)
        process.setProperty("then", then or "")
        process.finished.connect(self._wtype_done)
        process.errorOccurred.connect(self._wtype_error)
        self._process = process
        limit = QTimer(process)  # goes with the process
        limit.setSingleShot(True)
        limit.timeout.connect(process.kill)
        limit.start(WTYPE_TIMEOUT_MS)
        process.start()

    @Slot(int, QProcess.ExitStatus)
    def _wtype_done(self, code: int, status: QProcess.ExitStatus) -> None:
        process = self.sender()
        assert isinstance(process, QProcess)
        then = str(process.property("then"))
        error = bytes(process.readAllStandardError().data()).decode(errors="replace").strip()
        self._process = None
        process.deleteLater()  # owned by its parent (self), not by Python
        if code != 0 or status != QProcess.ExitStatus.NormalExit:
            log.warning("wtype failed (%s): %s", code, error)
            why = error.splitlines()[-1] if error else code
            self.failed.emit(InsertFailedError(f"wtype failed: {why}"))
        if then == "type":
            if code == 0:
                self.inserted.emit("type")
            self._finish()

    @Slot(QProcess.ProcessError)
    def _wtype_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            process = self.sender()
            then = str(process.property("then")) if process else ""
            self.failed.emit(InsertFailedError("wtype could not be started"))
            if then == "type":
                self._finish()
