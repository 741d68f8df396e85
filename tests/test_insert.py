"""Inserting the transcript where the user types, on Wayland through the RemoteDesktop portal
(a fake one on a private session bus) and, where nothing can type, onto the clipboard.

The X11 paths (paste with the clipboard put back, XTest typing) run against a real second
application in tests/test_gui_type_into.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication

from tests.helpers.processes import LineProcess
from tests.helpers.session_bus import fake_portal, private_session_bus
from voicedesk.insert.inserter import Inserter, backend_for

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def no_wtype(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH without wtype: GNOME and KDE, where the portal is the way."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with private_session_bus() as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield address


@pytest.fixture
def portal(bus: str) -> Iterator[LineProcess]:
    with fake_portal() as fake:
        yield fake


def test_wayland_types_through_remote_desktop(portal, no_wtype, qtbot):
    assert backend_for("wayland") == "remote-desktop"
    inserter = Inserter(platform="wayland")
    try:
        with qtbot.waitSignal(inserter.inserted, timeout=10000) as typed:
            inserter.insert("Hé 日\n", "paste")  # no paste chord there: typed instead
        assert typed.args == ["type"]
        assert portal.expect("devices") == "devices 1"  # the keyboard only
        portal.expect("started")
        keys = [portal.expect("key") for _ in range(10)]
        assert keys == [
            f"key {keysym:#x} {state}"
            for keysym in (0x48, 0xE9, 0x20, 0x10065E5, 0xFF0D)
            for state in (1, 0)  # each key pressed and released
        ]
        # The session stays open: a second transcript is typed without asking again.
        with qtbot.waitSignal(inserter.inserted, timeout=10000):
            inserter.insert("x")
        assert [portal.expect("key"), portal.expect("key")] == ["key 0x78 1", "key 0x78 0"]
        assert "started" not in portal.seen[-3:]
    finally:
        inserter.shutdown()


def test_where_nothing_can_type_the_transcript_waits_on_the_clipboard(bus, no_wtype, qtbot):
    inserter = Inserter(platform="wayland")  # a bus with no portal on it
    try:
        with qtbot.waitSignal(inserter.failed, timeout=10000) as failed:
            inserter.insert("keep me")
        assert failed.args[0].message.startswith(
            "The transcript is on the clipboard: no RemoteDesktop"
        )
        assert QGuiApplication.clipboard().text() == "keep me"
    finally:
        inserter.shutdown()
