"""Typing and speaking through the real Speaker, the emulator and the private sound server."""

from __future__ import annotations

import functools

import pytest
from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtMultimedia import QAudioDevice

from tests.emulator import Fault
from tests.emulator.audio import AudioSpec
from voicedesk.audio.playback import player as player_module
from voicedesk.engines import elevenlabs as elevenlabs_module
from voicedesk.errors import NoOutputDeviceError
from voicedesk.text import split_text

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen's note on every show


def type_text(qtbot, window, text: str) -> None:
    window.panel.box.setFocus()
    qtbot.keyClicks(window.panel.box, text)


def ctrl_enter(qtbot, window) -> None:
    qtbot.keyClick(window.panel.box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


@pytest.mark.audio
def test_ctrl_enter_speaks_and_is_heard(window, qtbot, emulator, pulse):
    qtbot.waitUntil(lambda: window.picker.combo.isEnabled())
    type_text(qtbot, window, "Hello there.")
    with pulse.record_output() as heard:
        with qtbot.waitSignal(window.speaker.utterance_finished, timeout=15000):
            ctrl_enter(qtbot, window)
        assert heard.wait_for_sound(5)
    request = emulator.last("tts")
    assert request.json["text"] == "Hello there."
    assert window.settings.voice_id in request.path
    assert window.panel.text == "Hello there."  # the box keeps the text for another go
    assert window.history.entries()[0].text == "Hello there."
    assert window.status.latency_label.text().startswith("First sound ")
    tip = window.status.latency_label.toolTip()  # the parts of the wait
    assert "connect " in tip and "request → first byte" in tip and "first byte → audible" in tip
    assert not window.panel.stop_button.isEnabled()


@pytest.mark.emulator(pacing=0.05, chunk_size=512)
def test_esc_stops(window, qtbot, emulator):
    type_text(qtbot, window, "A long paced answer that takes a while to arrive. " * 4)
    with qtbot.waitSignal(window.speaker.utterance_started, timeout=10000):
        ctrl_enter(qtbot, window)
    assert window.panel.stop_button.isEnabled()
    assert ": A long paced answer" in window.panel.now_playing.text()  # speaking or waiting
    with qtbot.waitSignal(window.speaker.idle, timeout=5000):
        qtbot.keyClick(window.panel.box, Qt.Key.Key_Escape)
    assert not window.panel.stop_button.isEnabled()
    emulator.wait_idle(5)  # the request was ended, not left to run
    assert not window.banner.isVisible()  # stopping is not an error


def test_queue_plays_in_order_and_ends_idle(window, qtbot, emulator):
    started: list[int] = []
    window.speaker.utterance_started.connect(started.append)
    first = window.speak("First in line.")
    second = window.speak("And then this.")
    assert "(+1 queued)" in window.panel.now_playing.text()
    with qtbot.waitSignal(window.speaker.idle, timeout=20000):
        pass
    assert started == [first, second]
    texts = [r.json["text"] for r in emulator.requests("tts")]
    assert texts == ["First in line.", "And then this."]
    assert not window.panel.progress.isVisible()


def test_empty_text_says_so_and_sends_nothing(window, qtbot, emulator):
    type_text(qtbot, window, "   ")
    ctrl_enter(qtbot, window)
    assert "nothing to speak" in window.banner.text
    assert emulator.requests("tts") == []


def test_an_error_keeps_the_typed_text(window, qtbot, emulator):
    emulator.always("tts", Fault.quota_exceeded())
    type_text(qtbot, window, "Keep me.")
    with qtbot.waitSignal(window.speaker.utterance_failed, timeout=10000):
        window.panel.speak_button.click()
    assert "quota" in window.banner.text.lower()
    assert window.panel.text == "Keep me."
    assert window.isEnabled()


def test_offline_fallback_is_opt_in(make_window, qtbot, emulator):
    emulator.always("tts", Fault.invalid_key())
    window = make_window(offline_fallback=True)
    with qtbot.waitSignal(window.speaker.utterance_finished, timeout=30000):
        window.speak("Fall back.")
    assert "offline voice instead" in window.banner.text
    assert window.speaker._engine is window.engines.engine  # back to ElevenLabs for the next one


def test_dropping_a_text_file_inserts_it(window, tmp_path):
    path = tmp_path / "story.txt"
    path.write_text("Once upon a time.", encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    assert window.panel.box.canInsertFromMimeData(mime)
    window.panel.box.insertFromMimeData(mime)
    assert window.panel.text == "Once upon a time."


def test_speak_clipboard(window, qtbot, emulator):
    QGuiApplication.clipboard().setText("From the clipboard.")
    window.speak_clipboard()
    assert emulator.wait_request("tts", timeout=5).json["text"] == "From the clipboard."


def _no_output(device_id: bytes) -> QAudioDevice:
    return QAudioDevice()  # what QMediaDevices gives when there is no output at all


def test_no_output_device_says_so_and_keeps_the_text(window, qtbot, emulator, monkeypatch):
    monkeypatch.setattr(player_module, "device_by_id", _no_output)
    type_text(qtbot, window, "Keep me too.")
    with qtbot.waitSignal(window.speaker.idle, timeout=10000):
        ctrl_enter(qtbot, window)
    assert window.banner.text == NoOutputDeviceError().message
    assert window.panel.text == "Keep me too."
    assert not window.panel.stop_button.isEnabled()
    assert emulator.requests("tts") == []  # found out before any (paid) request


# Splits into three pieces with these limits (the real ones would need minutes of audio); the
# emulator speaks 20 ms of tone a character, downloaded ~6x faster than it plays.
LONG_TEXT = (
    "A first short piece to start. "
    "Then the second piece, which is a little longer. "
    "And the third piece closes this long text now."
)


@pytest.mark.audio
@pytest.mark.emulator(
    audio=AudioSpec(seconds_per_char=0.02), ttfb=0.2, pacing=0.02, chunk_size=2048
)
def test_long_text_shows_the_part_playing_and_progress(window, qtbot, emulator, monkeypatch):
    split = functools.partial(split_text, first_limit=40, limit=60)
    monkeypatch.setattr(elevenlabs_module, "split_text", split)
    assert len(split(LONG_TEXT)) == 3
    panel = window.panel
    window.speak(LONG_TEXT)
    seen: list[tuple[str, int]] = []

    def part_is(text: str) -> bool:
        seen.append((panel.part.text(), panel.progress.value()))
        return panel.part.text() == text

    qtbot.waitUntil(lambda: part_is("Part 1 of 3"), timeout=10000)
    qtbot.waitUntil(lambda: part_is("Part 2 of 3"), timeout=10000)
    # All three pieces are downloaded long before the third plays: the label follows the sound.
    qtbot.waitUntil(lambda: len(emulator.requests("tts")) == 3, timeout=10000)
    assert panel.part.text() == "Part 2 of 3"
    qtbot.waitUntil(lambda: part_is("Part 3 of 3"), timeout=10000)
    assert panel.progress.maximum() > 0 and panel.progress.value() > panel.progress.maximum() // 2
    with qtbot.waitSignal(window.speaker.idle, timeout=10000):
        pass
    assert not panel.part.isVisible() and not panel.progress.isVisible()
    values = [value for _, value in seen]
    assert values == sorted(values)  # the bar only moves forwards
