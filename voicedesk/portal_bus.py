"""Calls to the XDG desktop portal on the session bus (jeepney, blocking; for a worker thread).

A portal method that needs the user or the desktop answers later, through the `Response`
signal of a Request object whose path is known before the call (our `handle_token`), so the
match is added first and the answer can't be missed:
https://flatpak.github.io/xdg-desktop-portal/docs/doc-org.freedesktop.portal.Request.html

jeepney rather than QtDBus: PySide6's QtDBus can't marshal nested types such as `a(sa{sv})`
from Python (it has no qDBusRegisterMetaType); jeepney is pure Python and already installed
(keyring needs it). Plain Python: no Qt here.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
from typing import Any

BUS_NAME = "org.freedesktop.portal.Desktop"
OBJECT_PATH = "/org/freedesktop/portal/desktop"
REQUEST_INTERFACE = "org.freedesktop.portal.Request"
CALL_TIMEOUT = 10.0  # seconds for a method's own reply (not for the user's answer)
_tokens = itertools.count(1)


class PortalError(Exception):
    """Why the portal can't do it, as one line for the user."""


def desktop_name() -> str:
    return os.environ.get("XDG_CURRENT_DESKTOP", "").split(":")[0] or "this desktop"


class PortalConnection:
    def __init__(self) -> None:
        from jeepney.io.blocking import open_dbus_connection

        try:
            self.connection = open_dbus_connection("SESSION")
        except Exception as error:
            raise PortalError(f"no D-Bus session bus ({type(error).__name__})") from error

    def close(self) -> None:
        self.connection.close()

    def interrupt(self) -> None:
        """From another thread: wake a blocking read (it then raises), ending the session."""
        with contextlib.suppress(OSError):
            self.connection.sock.shutdown(socket.SHUT_RDWR)

    def call(self, interface: str, method: str, signature: str, body: tuple) -> Any:
        from jeepney import DBusAddress, MessageType, new_method_call

        address = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=interface)
        message = new_method_call(address, method, signature, body)
        reply = self.connection.send_and_get_reply(message, timeout=CALL_TIMEOUT)
        if reply.header.message_type == MessageType.error:
            raise PortalError(f"{method}: {reply.body[0] if reply.body else 'refused'}")
        return reply.body

    def version(self, interface: str) -> int:
        try:
            (value,) = self.call(
                "org.freedesktop.DBus.Properties", "Get", "ss", (interface, "version")
            )
        except PortalError as error:
            short = interface.rsplit(".", 1)[-1]
            raise PortalError(f"no {short} portal on {desktop_name()}") from error
        return int(value[1])

    def add_match(self, rule: Any) -> None:
        from jeepney import message_bus, new_method_call

        self.connection.send_and_get_reply(
            new_method_call(message_bus, "AddMatch", "s", (rule.serialise(),)),
            timeout=CALL_TIMEOUT,
        )

    def request(
        self,
        interface: str,
        method: str,
        signature: str,
        body: Any,
        timeout: float | None,
    ) -> dict[str, Any]:
        """Call `method` (body: token -> arguments) and wait for its Response's results."""
        from jeepney import MatchRule

        token = f"voicedesk{os.getpid()}_{next(_tokens)}"
        sender = self.connection.unique_name.lstrip(":").replace(".", "_")
        path = f"{OBJECT_PATH}/request/{sender}/{token}"
        rule = MatchRule(type="signal", interface=REQUEST_INTERFACE, member="Response", path=path)
        self.add_match(rule)
        with self.connection.filter(rule) as queue:
            self.call(interface, method, signature, body(token))
            try:
                answer = self.connection.recv_until_filtered(queue, timeout=timeout)
            except TimeoutError as error:
                raise PortalError(f"the desktop portal did not answer {method}") from error
        response, results = answer.body
        if response == 1:
            raise PortalError(f"{method} was declined in the desktop's dialog")
        if response != 0:
            raise PortalError(f"the desktop portal refused {method}")
        return dict(results)
