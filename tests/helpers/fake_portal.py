"""A fake `org.freedesktop.portal.Desktop` with GlobalShortcuts, for tests (run as a process).

    python -m tests.helpers.fake_portal      (DBUS_SESSION_BUS_ADDRESS: the private bus)

It owns the portal's name on the bus, answers CreateSession and BindShortcuts through Request
objects' `Response` signals as the real portal does, accepts GNOME's host Registry `Register`,
and prints one line per event on stdout ("ready", "register <app id>", "session <path>",
"bound <id> <trigger>"). It also plays RemoteDesktop for a keyboard: "devices <types>",
"started", then "key <keysym> <state>" for each NotifyKeyboardKeysym.

Commands on stdin: "activate", "deactivate" (the bound shortcut), "repeat N" (N Activated
signals in a row, as key auto-repeat may give), "quit".

Spec: https://flatpak.github.io/xdg-desktop-portal/docs/doc-org.freedesktop.portal.GlobalShortcuts.html
"""

from __future__ import annotations

import sys
import threading
import time

from jeepney import (
    DBusAddress,
    HeaderFields,
    MessageType,
    new_error,
    new_method_call,
    new_method_return,
    new_signal,
)
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

PATH = "/org/freedesktop/portal/desktop"
NAME = "org.freedesktop.portal.Desktop"
SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"
REMOTE = "org.freedesktop.portal.RemoteDesktop"


class FakePortal:
    def __init__(self) -> None:
        self.connection = open_dbus_connection("SESSION")
        self.lock = threading.Lock()
        self.session = ""
        self.client = ""
        self.shortcut_id = ""

    def send(self, message) -> None:  # type: ignore[no-untyped-def]
        with self.lock:
            self.connection.send(message)

    def say(self, line: str) -> None:
        print(line, flush=True)

    def own_name(self) -> None:
        reply = self.connection.send_and_get_reply(
            new_method_call(message_bus, "RequestName", "su", (NAME, 4))
        )
        assert reply.body[0] == 1, reply.body  # primary owner

    def respond(self, caller: str, token: str, results: dict) -> None:
        sender = caller.lstrip(":").replace(".", "_")
        request = f"{PATH}/request/{sender}/{token}"
        emitter = DBusAddress(request, interface="org.freedesktop.portal.Request")
        signal = new_signal(emitter, "Response", "ua{sv}", (0, results))
        signal.header.fields[HeaderFields.destination] = caller
        self.send(signal)

    def handle(self, message) -> None:  # type: ignore[no-untyped-def]
        fields = message.header.fields
        interface = fields.get(HeaderFields.interface)
        member = fields.get(HeaderFields.member)
        caller = fields.get(HeaderFields.sender, "")
        if interface == "org.freedesktop.DBus.Properties" and member == "Get":
            if message.body in ((SHORTCUTS, "version"), (REMOTE, "version")):
                self.send(new_method_return(message, "v", (("u", 2),)))
            else:
                self.send(new_error(message, "org.freedesktop.DBus.Error.UnknownProperty"))
        elif interface == "org.freedesktop.host.portal.Registry" and member == "Register":
            self.say(f"register {message.body[0]}")
            self.send(new_method_return(message))
        elif interface in (SHORTCUTS, REMOTE) and member == "CreateSession":
            options = message.body[0]
            token = options["handle_token"][1]
            sender = caller.lstrip(":").replace(".", "_")
            self.session = f"{PATH}/session/{sender}/{options['session_handle_token'][1]}"
            self.client = caller
            request = f"{PATH}/request/{sender}/{token}"
            self.send(new_method_return(message, "o", (request,)))
            self.respond(caller, token, {"session_handle": ("s", self.session)})
            self.say(f"session {self.session}")
        elif interface == SHORTCUTS and member == "BindShortcuts":
            session, shortcuts, _parent, options = message.body
            if session != self.session:
                self.send(new_error(message, "org.freedesktop.portal.Error.NotFound"))
                return
            token = options["handle_token"][1]
            sender = caller.lstrip(":").replace(".", "_")
            self.send(new_method_return(message, "o", (f"{PATH}/request/{sender}/{token}",)))
            self.shortcut_id, info = shortcuts[0]
            trigger = info.get("preferred_trigger", ("s", ""))[1]
            bound = [(self.shortcut_id, {"trigger_description": ("s", trigger)})]
            self.respond(caller, token, {"shortcuts": ("a(sa{sv})", bound)})
            self.say(f"bound {self.shortcut_id} {trigger}")
        elif interface == REMOTE and member in ("SelectDevices", "Start"):
            session, *_rest, options = message.body
            token = options["handle_token"][1]
            sender = caller.lstrip(":").replace(".", "_")
            self.send(new_method_return(message, "o", (f"{PATH}/request/{sender}/{token}",)))
            if member == "SelectDevices":
                self.say(f"devices {options['types'][1]}")
                self.respond(caller, token, {})
            else:
                self.respond(caller, token, {"devices": ("u", 1)})
                self.say("started")
        elif interface == REMOTE and member == "NotifyKeyboardKeysym":
            session, _options, keysym, state = message.body
            self.say(f"key {keysym:#x} {state}" if session == self.session else "key wrong session")
            self.send(new_method_return(message))
        elif message.header.message_type == MessageType.method_call:
            self.send(new_error(message, "org.freedesktop.DBus.Error.UnknownMethod"))

    def emit(self, member: str) -> None:
        emitter = DBusAddress(PATH, interface=SHORTCUTS)
        body = (self.session, self.shortcut_id, int(time.monotonic() * 1000), {})
        self.send(new_signal(emitter, member, "osta{sv}", body))

    def commands(self) -> None:
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            if words[0] == "activate":
                self.emit("Activated")
            elif words[0] == "deactivate":
                self.emit("Deactivated")
            elif words[0] == "repeat":
                for _ in range(int(words[1])):
                    self.emit("Activated")
            elif words[0] == "quit":
                break
            self.say(f"sent {words[0]}")
        self.connection.close()

    def serve(self) -> None:
        while True:
            try:
                message = self.connection.receive()
            except (OSError, EOFError, ValueError):
                return
            if message.header.message_type == MessageType.method_call:
                self.handle(message)


def main() -> None:
    portal = FakePortal()
    portal.own_name()
    threading.Thread(target=portal.serve, daemon=True).start()
    portal.say("ready")
    portal.commands()


if __name__ == "__main__":
    main()
