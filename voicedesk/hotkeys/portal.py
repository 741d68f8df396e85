"""The XDG desktop portal's GlobalShortcuts: a system-wide key on Wayland (GNOME 48+, KDE 5.27+).

Spec: https://flatpak.github.io/xdg-desktop-portal/docs/doc-org.freedesktop.portal.GlobalShortcuts.html
CreateSession, then BindShortcuts (the desktop may ask the user to confirm or pick a key);
`Activated` is the key going down and `Deactivated` going up. GNOME wants a non-sandboxed app
to say which .desktop file it is first (`org.freedesktop.host.portal.Registry.Register`).

The session lives on its own thread (blocking jeepney, see `voicedesk.portal_bus`), which only
emits signals; the GUI thread receives them.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from voicedesk.hotkeys.source import HotkeySource
from voicedesk.portal_bus import OBJECT_PATH, PortalConnection, PortalError, desktop_name

log = logging.getLogger(__name__)

INTERFACE = "org.freedesktop.portal.GlobalShortcuts"
REGISTRY_INTERFACE = "org.freedesktop.host.portal.Registry"
SHORTCUT_ID = "push-to-talk"
SETUP_TIMEOUT = 10.0  # seconds for the portal to answer CreateSession


def portal_trigger(key_name: str) -> str:
    """A Qt key name ("Ctrl+F9") in the XDG shortcuts format ("CTRL+F9")."""
    modifiers = {"ctrl": "CTRL", "alt": "ALT", "shift": "SHIFT", "meta": "LOGO"}
    return "+".join(modifiers.get(part.lower(), part) for part in key_name.split("+"))


class PortalSource(HotkeySource):
    kind = "portal"

    def __init__(self, key_name: str, app_id: str = "voicedesk") -> None:
        super().__init__()
        self._key_name = key_name
        self._app_id = app_id
        self._portal: PortalConnection | None = None
        self._session = ""
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="portal-shortcuts", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._portal is not None:
            self._portal.interrupt()  # the portal closes our session with the connection
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    # -- the portal thread --------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._portal = PortalConnection()
            try:
                self._set_up(self._portal)
                self.ready.emit(f"System-wide through the desktop portal ({desktop_name()})")
                self._listen(self._portal)
            finally:
                self._portal.close()
        except PortalError as error:
            if not self._stopping.is_set():
                self.failed.emit(str(error))
        except Exception as error:  # a broken bus mid-way: one line, and the window goes on
            if not self._stopping.is_set():
                log.info("portal shortcuts ended: %r", error)
                self.failed.emit(f"the desktop portal stopped answering ({type(error).__name__})")

    def _set_up(self, portal: PortalConnection) -> None:
        log.info("GlobalShortcuts portal version %s", portal.version(INTERFACE))
        with contextlib.suppress(PortalError):  # only GNOME has (and needs) the registry
            portal.call(REGISTRY_INTERFACE, "Register", "sa{sv}", (self._app_id, {}))
        results = portal.request(
            INTERFACE,
            "CreateSession",
            "a{sv}",
            lambda token: ({"handle_token": ("s", token), "session_handle_token": ("s", token)},),
            SETUP_TIMEOUT,
        )
        self._session = session = str(results["session_handle"][1])
        shortcut = {
            "description": ("s", "Hold to talk (voicedesk)"),
            "preferred_trigger": ("s", portal_trigger(self._key_name)),
        }
        # No timeout: the desktop may show the user a dialog to confirm the key.
        portal.request(
            INTERFACE,
            "BindShortcuts",
            "oa(sa{sv})sa{sv}",
            lambda token: (session, [(SHORTCUT_ID, shortcut)], "", {"handle_token": ("s", token)}),
            None,
        )

    def _listen(self, portal: PortalConnection) -> None:
        from jeepney import HeaderFields, MatchRule

        rule = MatchRule(type="signal", interface=INTERFACE, path=OBJECT_PATH)
        portal.add_match(rule)
        with portal.connection.filter(rule, bufsize=64) as queue:
            while not self._stopping.is_set():
                try:
                    message = portal.connection.recv_until_filtered(queue)
                except (OSError, EOFError, ConnectionError):
                    if self._stopping.is_set():
                        return
                    raise
                session, shortcut_id = message.body[0], message.body[1]
                if session != self._session or shortcut_id != SHORTCUT_ID:
                    continue
                member = message.header.fields.get(HeaderFields.member)
                if member == "Activated":
                    self.down.emit()
                elif member == "Deactivated":
                    self.up.emit()
