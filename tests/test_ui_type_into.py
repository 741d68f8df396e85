"""The window's side of typing into other applications: the Settings controls, and a
transcript heard while voicedesk itself is focused stays in voicedesk."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from tests.emulator import DEFAULT_TRANSCRIPT
from voicedesk.config import load_settings
from voicedesk.hotkeys.ptt_socket import PttServer, _peer_uid

pytest_plugins = ["tests.helpers.ui_fixtures"]
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def test_settings_turn_typing_on_and_pick_the_method(window, qtbot, store):
    dialog = window.open_settings()
    assert not dialog.type_into.isChecked()  # off by default
    assert not dialog.insert_method.isEnabled()
    dialog.type_into.setChecked(True)
    assert dialog.insert_method.isEnabled()
    dialog.insert_method.setCurrentIndex(dialog.insert_method.findData("type"))
    dialog.accept()
    assert window.settings.type_into_focused
    assert window.settings.insert_method == "type"
    store.sync()
    loaded = load_settings(store)
    assert (loaded.type_into_focused, loaded.insert_method) == (True, "type")


def test_heard_in_our_own_window_stays_here(make_window, qtbot):
    window = make_window(type_into_focused=True, live_transcript=False)
    window.activateWindow()
    qtbot.waitUntil(
        lambda: QGuiApplication.applicationState().name == "ApplicationActive", timeout=5000
    )
    QApplication.clipboard().setText("mine")
    with qtbot.waitSignal(window.transcriber.transcribed, timeout=10000):
        window.ptt.press()
        window.ptt.release()
    assert window.history.entries()[0].text == DEFAULT_TRANSCRIPT
    assert not window.inserter.busy
    assert QApplication.clipboard().text() == "mine"


def test_ptt_socket_is_the_users_only(tmp_path: Path, qtbot):
    server = PttServer(name=str(tmp_path / "ptt"))
    assert server.listen()
    try:
        mode = stat.S_IMODE(os.stat(tmp_path / "ptt").st_mode)
        assert mode & 0o077 == 0  # nobody else may connect
        left, right = socket.socketpair()
        with left, right:
            assert _peer_uid(left.fileno()) == os.getuid()  # what the window checks
    finally:
        server.close()


def test_a_second_window_leaves_the_first_ones_socket(tmp_path: Path, qtbot):
    first = PttServer(name=str(tmp_path / "ptt"))
    assert first.listen()
    second = PttServer(name=str(tmp_path / "ptt"))
    try:
        assert not second.listen()
        assert second.error == "another voicedesk window already answers `voicedesk ptt`"
    finally:
        first.close()
    # A socket file left by a crashed window (nobody answers) is taken over.
    (tmp_path / "stale").touch()
    stale = PttServer(name=str(tmp_path / "stale"))
    try:
        assert stale.listen()
    finally:
        stale.close()
