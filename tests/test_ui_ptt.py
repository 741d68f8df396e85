"""Push to talk: the in-window key (auto-repeat ignored), the button, transcripts and Retry."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from tests.emulator import DEFAULT_TRANSCRIPT, Fault
from voicedesk.errors import NoInputDeviceError, RecordingTooShortError

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen's note on every show


def key(kind: QEvent.Type, key: Qt.Key, repeat: bool = False) -> QKeyEvent:
    return QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, "", repeat)


def test_f9_held_records_and_release_transcribes(make_window, qtbot, emulator):
    window = make_window(live_transcript=False)  # batch: live words are tests/test_live.py's
    box = window.panel.box
    QApplication.sendEvent(box, key(QEvent.Type.KeyPress, Qt.Key.Key_F9))
    assert window.recorder.recording
    assert window.ptt_bar.meter.isVisible()
    # Holding the key repeats it: still one recording, and the box got no text.
    for _ in range(3):
        QApplication.sendEvent(box, key(QEvent.Type.KeyPress, Qt.Key.Key_F9, repeat=True))
        QApplication.sendEvent(box, key(QEvent.Type.KeyRelease, Qt.Key.Key_F9, repeat=True))
    assert window.recorder.starts == 1
    assert window.recorder.recording
    with qtbot.waitSignal(window.transcriber.transcribed, timeout=5000):
        QApplication.sendEvent(box, key(QEvent.Type.KeyRelease, Qt.Key.Key_F9))
    assert window.transcriber.last_recording == window.recorder.pcm
    assert len(emulator.requests("stt")) == 1
    entry = window.history.entries()[0]
    assert (entry.kind, entry.text) == ("heard", DEFAULT_TRANSCRIPT)
    assert box.toPlainText() == ""
    assert not window.ptt_bar.meter.isVisible()


def test_hold_to_talk_button(window, qtbot):
    button = window.ptt_bar.button
    qtbot.mousePress(button, Qt.MouseButton.LeftButton)
    assert window.recorder.recording
    with qtbot.waitSignal(window.transcriber.transcribed, timeout=5000):
        qtbot.mouseRelease(button, Qt.MouseButton.LeftButton)
    assert window.history.entries()[0].kind == "heard"


def test_ptt_stops_speech_first(window, qtbot):
    window.speak("Talking over me.")
    with qtbot.waitSignal(window.speaker.idle, timeout=5000):
        window.ptt.press()
    assert not window.speaker.is_busy()
    window.ptt.release()


def test_failed_transcription_offers_retry_with_the_same_recording(make_window, qtbot, emulator):
    window = make_window(live_transcript=False)
    emulator.always("stt", Fault.server_error())
    with qtbot.waitSignal(window.transcriber.failed, timeout=10000):
        window.ptt.press()
        window.ptt.release()
    assert window.banner.isVisible()
    assert window.banner.action_button.isVisible()
    assert window.banner.action_button.text() == "&Retry"
    kept = window.transcriber.last_recording
    assert window.transcriber.can_retry
    emulator.always("stt", None)
    tries = len(emulator.requests("stt"))
    with qtbot.waitSignal(window.transcriber.transcribed, timeout=5000):
        window.banner.action_button.click()
    assert len(emulator.requests("stt")) == tries + 1
    assert window.transcriber.last_recording is kept  # the kept recording, not a new one
    assert window.recorder.starts == 1
    assert window.history.entries()[0].text == DEFAULT_TRANSCRIPT


def test_microphone_error_shows_a_message(window, qtbot):
    window.recorder.fail_with = NoInputDeviceError("No microphone was found.")
    window.ptt.press()
    assert "No microphone" in window.banner.text
    assert not window.ptt.is_down


def test_release_press_pairs_are_one_hold(window, qtbot):
    """X servers without detectable auto-repeat send release+press pairs while a key is held."""
    box = window.panel.box
    QApplication.sendEvent(box, key(QEvent.Type.KeyPress, Qt.Key.Key_F9))
    for _ in range(3):
        QApplication.sendEvent(box, key(QEvent.Type.KeyRelease, Qt.Key.Key_F9))
        QApplication.sendEvent(box, key(QEvent.Type.KeyPress, Qt.Key.Key_F9))
    assert window.recorder.starts == 1
    with qtbot.waitSignal(window.ptt.released, timeout=2000):
        QApplication.sendEvent(box, key(QEvent.Type.KeyRelease, Qt.Key.Key_F9))
    assert window.recorder.starts == 1
    assert not window.recorder.recording


def test_other_keys_pass_through(window, qtbot):
    qtbot.keyClicks(window.panel.box, "abc")
    QApplication.sendEvent(window.panel.box, key(QEvent.Type.KeyPress, Qt.Key.Key_F8))
    assert window.recorder.starts == 0
    assert window.panel.text == "abc"


def test_too_short_a_hold_says_so_gently(window, qtbot, emulator):
    window.recorder.too_short = True
    window.ptt.press()
    window.ptt.release()
    assert window.banner.text == RecordingTooShortError().message
    assert window.banner.kind == "info"  # a slip of the key, not an error
    assert QApplication.activeModalWidget() is None  # and nothing to click away
    assert not window.ptt.is_down
    assert emulator.requests("stt") == []
