"""The XDG desktop portal's GlobalShortcuts: a system-wide key on Wayland (GNOME 48+, KDE 5.27+).

Spec: https://flatpak.github.io/xdg-desktop-portal/docs/doc-org.freedesktop.portal.GlobalShortcuts.html
CreateSession, then BindShortcuts (the desktop may ask the user to confirm or pick a key);
`Activated` is the key going down and `Deactivated` going up. Each call answers through a
Request object's `Response` signal, whose path we know before calling (handle_token), so we
listen first and can't miss it.

The D-Bus side is jeepney (pure Python, already installed as keyring's dependency) on its own
thread: PySide6's QtDBus can't marshal `a(sa{sv})` (BindShortcuts' argument) from Python, as it
has no qDBusRegisterMetaType. The thread only emits signals; the GUI thread receives them.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import socket
import threading
from typing import Any

from voicedesk.hotkeys.source import HotkeySource

log = logging.getLogger(__name__)

BUS_NAME = "org.freedesktop.portal.Desktop"
OBJECT_PATH = "/org/freedesktop/portal/desktop"
INTERFACE = "org.freedesktop.portal.GlobalShortcuts"
REQUEST_INTERFACE = "org.freedesktop.portal.Request"
# GNOME's portal asks a non-sandboxed app to say which .desktop file it is first.
REGISTRY_INTERFACE = "org.freedesktop.host.portal.Registry"
SHORTCUT_ID = "push-to-talk"
SETUP_TIMEOUT = 10.0  # seconds for the portal to answer CreateSession
_tokens = itertools.count(1)


def portal_trigger(key_name: str) -> str:
    """A Qt key name ("Ctrl+F9") in the XDG shortcuts format ("CTRL+F9")."""
    parts = key_name.split("+")
    modifiers = {"ctrl": "CTRL", "alt": "ALT", "shift": "SHIFT", "meta": "LOGO"}
    return "+".join(modifiers.get(part.lower(), part) for part in parts)


def desktop_name() -> str:
    return os.environ.get("XDG_CURRENT_DESKTOP", "").split(":")[0] or "this desktop"


class PortalError(Exception):
    """Why the portal can't give us a key, as one line for Settings."""


class PortalSource(HotkeySource):
    kind = "portal"

    def __init__(self, key_name: str, app_id: str = "voicedesk") -> None:
        super().__init__()
        self._key_name = key_name
        self._app_id = app_id
        self._connection: Any = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="portal-shortcuts", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        connection = self._connection
        if connection is not None:
            # Wakes the thread from its blocking read; the portal closes our session when
            # the connection goes.
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    # -- the portal thread --------------------------------------------------------------

    def _run(self) -> None:
        try:
            from jeepney.io.blocking import open_dbus_connection

            try:
                self._connection = open_dbus_connection("SESSION")
            except Exception as error:
                raise PortalError(f"no D-Bus session bus ({type(error).__name__})") from error
            try:
                self._session = self._set_up()
                self.ready.emit(f"System-wide through the desktop portal ({desktop_name()})")
                self._listen()
            finally:
                self._connection.close()
        except PortalError as error:
            if not self._stopping.is_set():
                self.failed.emit(str(error))
        except Exception as error:  # a broken bus mid-way: one line, and the window goes on
            if not self._stopping.is_set():
                log.info("portal shortcuts ended: %r", error)
                self.failed.emit(f"the desktop portal stopped answering ({type(error).__name__})")

    def _address(self, interface: str) -> Any:
        from jeepney import DBusAddress

        return DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=interface)

    def _call(self, interface: str, method: str, signature: str, body: tuple) -> Any:
        from jeepney import MessageType, new_method_call

        message = new_method_call(self._address(interface), method, signature, body)
        reply = self._connection.send_and_get_reply(message, timeout=SETUP_TIMEOUT)
        if reply.header.message_type == MessageType.error:
            raise PortalError(f"{method}: {reply.body[0] if reply.body else 'refused'}")
        return reply.body

    def _set_up(self) -> str:
        try:
            (version,) = self._call(
                "org.freedesktop.DBus.Properties", "Get", "ss", (INTERFACE, "version")
            )
        except PortalError as error:
            raise PortalError(f"no GlobalShortcuts portal on {desktop_name()}") from error
        log.info("GlobalShortcuts portal version %s", version[1])
        with contextlib.suppress(PortalError):  # only GNOME has (and needs) the registry
            self._call(REGISTRY_INTERFACE, "Register", "sa{sv}", (self._app_id, {}))
        results = self._request(
            "CreateSession",
            "a{sv}",
            lambda token: ({"handle_token": ("s", token), "session_handle_token": ("s", token)},),
            SETUP_TIMEOUT,
        )
        session = str(results["session_handle"][1])
        shortcut = {
            "description": ("s", "Hold to talk (voicedesk)"),
            "preferred_trigger": ("s", portal_trigger(self._key_name)),
        }
        # No timeout: the desktop may show the user a dialog to confirm the key.
        self._request(
            "BindShortcuts",
            "oa(sa{sv})sa{sv}",
            lambda token: (session, [(SHORTCUT_ID, shortcut)], "", {"handle_token": ("s", token)}),
            None,
        )
        return session

    def _request(
        self, method: str, signature: str, body: Any, timeout: float | None
    ) -> dict[str, Any]:
        """Call a portal method that answers through a Request's Response signal."""
        from jeepney import MatchRule, message_bus, new_method_call

        token = f"voicedesk{os.getpid()}_{next(_tokens)}"
        sender = self._connection.unique_name.lstrip(":").replace(".", "_")
        path = f"{OBJECT_PATH}/request/{sender}/{token}"
        rule = MatchRule(type="signal", interface=REQUEST_INTERFACE, member="Response", path=path)
        self._connection.send_and_get_reply(
            new_method_call(message_bus, "AddMatch", "s", (rule.serialise(),)),
            timeout=SETUP_TIMEOUT,
        )
        with self._connection.filter(rule) as queue:
            self._call(INTERFACE, method, signature, body(token))
            try:
                answer = self._connection.recv_until_filtered(queue, timeout=timeout)
            except TimeoutError as error:
                raise PortalError(f"the desktop portal did not answer {method}") from error
        response, results = answer.body
        if response == 1:
            raise PortalError("the push-to-talk shortcut was declined in the desktop's dialog")
        if response != 0:
            raise PortalError(f"the desktop portal refused {method}")
        return dict(results)

    def _listen(self) -> None:
        from jeepney import HeaderFields, MatchRule, message_bus, new_method_call

        rule = MatchRule(type="signal", interface=INTERFACE, path=OBJECT_PATH)
        self._connection.send_and_get_reply(
            new_method_call(message_bus, "AddMatch", "s", (rule.serialise(),)),
            timeout=SETUP_TIMEOUT,
        )
        with self._connection.filter(rule, bufsize=64) as queue:
            while not self._stopping.is_set():
                try:
                    message = self._connection.recv_until_filtered(queue)
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
