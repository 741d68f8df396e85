"""Typing on GNOME and KDE Wayland through the XDG desktop portal's RemoteDesktop.

Spec: https://flatpak.github.io/xdg-desktop-portal/docs/doc-org.freedesktop.portal.RemoteDesktop.html
CreateSession, SelectDevices (keyboard only), Start (the desktop asks the user once), then one
NotifyKeyboardKeysym press and release per character; the compositor finds the key and level.
The session is opened on the first insertion and kept while the window runs, so the user is
asked once a run. All D-Bus work is on this object's thread; it only emits signals.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading

from PySide6.QtCore import QObject, Signal

from voicedesk.insert.x11 import keysym_for
from voicedesk.portal_bus import PortalConnection, PortalError

log = logging.getLogger(__name__)

INTERFACE = "org.freedesktop.portal.RemoteDesktop"
KEYBOARD = 1  # SelectDevices `types` bit
PRESSED, RELEASED = 1, 0
SETUP_TIMEOUT = 10.0


class RemoteDesktopTyper(QObject):
    typed = Signal()
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: queue.Queue[str | None] = queue.Queue()
        self._portal: PortalConnection | None = None
        self._session = ""
        self._thread = threading.Thread(target=self._run, name="remote-desktop", daemon=True)
        self._started = False

    def type_text(self, text: str) -> None:
        if not self._started:
            self._started = True
            self._thread.start()
        self._jobs.put(text)

    def shutdown(self) -> None:
        if self._started:
            self._jobs.put(None)
            if self._portal is not None:
                self._portal.interrupt()
            self._thread.join(5)

    def _run(self) -> None:
        while (text := self._jobs.get()) is not None:
            try:
                if self._portal is None:
                    self._open()
                self._type(text)
            except Exception as error:  # one line; the next insertion tries a new session
                log.info("RemoteDesktop typing failed: %r", error)
                self._drop()
                message = str(error) if isinstance(error, PortalError) else type(error).__name__
                self.failed.emit(message)
            else:
                self.typed.emit()
        self._drop()

    def _drop(self) -> None:
        portal, self._portal = self._portal, None
        if portal is not None:
            portal.close()

    def _open(self) -> None:
        portal = PortalConnection()
        try:
            portal.version(INTERFACE)
            results = portal.request(
                INTERFACE,
                "CreateSession",
                "a{sv}",
                lambda token: (
                    {"handle_token": ("s", token), "session_handle_token": ("s", token)},
                ),
                SETUP_TIMEOUT,
            )
            session = str(results["session_handle"][1])
            portal.request(
                INTERFACE,
                "SelectDevices",
                "oa{sv}",
                lambda token: (
                    session,
                    {"handle_token": ("s", token), "types": ("u", KEYBOARD)},
                ),
                SETUP_TIMEOUT,
            )
            # No timeout: the user answers the desktop's dialog.
            started = portal.request(
                INTERFACE,
                "Start",
                "osa{sv}",
                lambda token: (session, "", {"handle_token": ("s", token)}),
                None,
            )
            if not int(started.get("devices", ("u", KEYBOARD))[1]) & KEYBOARD:
                raise PortalError("the desktop did not allow keyboard input")
        except BaseException:
            portal.close()
            raise
        self._portal, self._session = portal, session

    def _key(self, keysym: int, state: int) -> None:
        assert self._portal is not None
        self._portal.call(
            INTERFACE, "NotifyKeyboardKeysym", "oa{sv}iu", (self._session, {}, keysym, state)
        )

    def _type(self, text: str) -> None:
        down: int | None = None
        try:
            for char in text:
                down = keysym_for(char)
                self._key(down, PRESSED)
                self._key(down, RELEASED)
                down = None
        finally:
            if down is not None:  # never leave a key down, whatever failed
                with contextlib.suppress(Exception):
                    self._key(down, RELEASED)
