"""Typing and speaking: Ctrl+Enter, Esc, the queue, errors and empty text, dropped files."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, Qt, QUrl

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen's note on every show


def type_text(qtbot, window, text: str) -> None:
    window.panel.box.setFocus()
    qtbot.keyClicks(window.panel.box, text)


def test_ctrl_enter_speaks_the_box_with_the_chosen_voice(window, qtbot):
    qtbot.waitUntil(lambda: window.picker.combo.isEnabled())
    type_text(qtbot, window, "Hello there.")
    qtbot.keyClick(window.panel.box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    [call] = window.speaker.calls
    assert call.text == "Hello there."
    assert call.voice_id == window.settings.voice_id
    assert window.panel.text == "Hello there."  # the box keeps the text for another go
    assert window.history.entries()[0].text == "Hello there."


def test_speak_reaches_the_engine(window, qtbot, emulator):
    """The fake speaker runs the real ElevenLabsEngine: the request is what the emulator sees."""
    type_text(qtbot, window, "Through the wire.")
    window.panel.speak_button.click()
    audio = window.speaker.fetch(window.speaker.calls[0])
    assert audio[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3") or audio[0] == 0xFF
    assert "Through the wire." in emulator.last("tts").body.decode()


def test_esc_stops(window, qtbot):
    type_text(qtbot, window, "Stop me.")
    window.panel.speak_button.click()
    uid = window.speaker.calls[0].uid
    window.speaker.started.emit(uid)
    assert window.panel.stop_button.isEnabled()
    qtbot.keyClick(window.panel.box, Qt.Key.Key_Escape)
    assert window.speaker.stops == 1
    assert not window.panel.stop_button.isEnabled()


def test_queue_shows_the_piece_playing_and_ends_idle(window, qtbot):
    long_text = " ".join(f"Sentence number {i} is here." for i in range(200))
    first = window.speak(long_text)
    second = window.speak("And then this.")
    assert [c.uid for c in window.speaker.calls] == [first, second]
    window.speaker.started.emit(first)
    window.speaker.progress.emit(first, 2, 4)
    assert window.panel.now_playing.text().startswith("Part 2 of 4: ")
    assert window.panel.progress.isVisible()
    assert window.panel.progress.value() == 1
    window.speaker.finished.emit(first)
    assert window.panel.stop_button.isEnabled()  # the second is still queued
    window.speaker.started.emit(second)
    assert "And then this." in window.panel.now_playing.text()
    window.speaker.finished.emit(second)
    assert not window.panel.progress.isVisible()
    assert not window.panel.stop_button.isEnabled()


def test_empty_text_says_so_and_sends_nothing(window, qtbot):
    type_text(qtbot, window, "   ")
    qtbot.keyClick(window.panel.box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert window.speaker.calls == []
    assert "nothing to speak" in window.banner.text


def test_an_error_keeps_the_typed_text(window, qtbot):
    type_text(qtbot, window, "Keep me.")
    window.panel.speak_button.click()
    uid = window.speaker.calls[0].uid
    window.speaker.failed.emit(uid, "Could not reach ElevenLabs. Check your network connection.")
    assert window.banner.isVisible()
    assert "Could not reach ElevenLabs" in window.banner.text
    assert window.panel.text == "Keep me."
    assert window.isEnabled()


def test_offline_fallback_is_opt_in(make_window, qtbot):
    window = make_window(offline_fallback=True)
    uid = window.speak("Fall back.")
    window.speaker.failed.emit(uid, "ElevenLabs returned an error.")
    assert window.speaker.engine.name == "local"
    assert window.speaker.calls[-1].text == "Fall back."
    window.speaker.finished.emit(window.speaker.calls[-1].uid)
    assert window.speaker.engine.name == "elevenlabs"  # back to ElevenLabs for the next one


def test_dropping_a_text_file_inserts_it(window, qtbot, tmp_path):
    path = tmp_path / "story.txt"
    path.write_text("Once upon a time.", encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    assert window.panel.box.canInsertFromMimeData(mime)
    window.panel.box.insertFromMimeData(mime)
    assert window.panel.text == "Once upon a time."


def test_speak_clipboard(window, qtbot):
    from PySide6.QtGui import QGuiApplication

    QGuiApplication.clipboard().setText("From the clipboard.")
    window.speak_clipboard()
    assert window.speaker.calls[-1].text == "From the clipboard."


def test_stopped_utterances_say_nothing_later(window, qtbot):
    uid = window.speak("Stop me before I start.")
    window.stop()
    window.speaker.started.emit(uid)
    window.speaker.failed.emit(uid, "Stopped.")
    assert not window.banner.isVisible()
    assert not window.panel.stop_button.isEnabled()
