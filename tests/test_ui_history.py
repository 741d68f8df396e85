"""History: in memory only; Copy, Speak again, and a transcript to the box."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen's note on every show


def test_copy_speak_again_and_to_box(window, qtbot, emulator):
    with qtbot.waitSignal(window.speaker.utterance_started, timeout=10000):
        window.speak("First thing said.")  # in the history once heard, not when queued
    window.transcriber.transcribed.emit("something I dictated")
    assert [e.kind for e in window.history.entries()] == ["heard", "spoken"]

    window.history.list.setCurrentRow(0)
    window.history.copy_button.click()
    assert QGuiApplication.clipboard().text() == "something I dictated"

    window.history.box_button.click()
    assert window.panel.text == "something I dictated"
    assert window.panel.box.hasFocus()

    window.history.list.setCurrentRow(1)
    window.history.again_button.click()
    qtbot.waitUntil(lambda: len(emulator.requests("tts")) == 2, timeout=10000)
    assert [r.json["text"] for r in emulator.requests("tts")] == ["First thing said."] * 2


def test_keyboard_on_the_list(window, qtbot):
    window.transcriber.transcribed.emit("dictated words")
    window.history.list.setFocus()
    window.history.list.setCurrentRow(0)
    qtbot.keyClick(window.history.list, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "dictated words"
    qtbot.keyClick(window.history.list, Qt.Key.Key_Return)
    assert window.panel.text == "dictated words"


def test_buttons_wait_for_an_entry(window, qtbot):
    assert not window.history.copy_button.isEnabled()
    with qtbot.waitSignal(window.speaker.utterance_started, timeout=10000):
        window.speak("Now there is one.")
    assert window.history.copy_button.isEnabled()
