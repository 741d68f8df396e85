"""The voice picker: filled from the emulator in a worker, remembered, previewed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from tests.emulator import DEFAULT_VOICES
from voicedesk.config import Key
from voicedesk.ui.voice_picker import PREVIEW_TEXT

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen's note on every show


def test_voices_come_from_the_engine(window, qtbot, emulator):
    qtbot.waitUntil(lambda: window.picker.combo.isEnabled(), timeout=5000)
    ids = {voice_id for voice_id, _ in window.picker.voices()}
    assert ids == {v.voice_id for v in DEFAULT_VOICES}
    assert emulator.requests("voices")
    assert window.picker.voice_id == window.settings.voice_id  # the saved one is selected


def test_choice_is_used_and_remembered(window, qtbot, store: QSettings, emulator):
    qtbot.waitUntil(lambda: window.picker.combo.isEnabled(), timeout=5000)
    rachel = "21m00Tcm4TlvDq8ikWAM"
    window.picker.select(rachel)
    window.speak("In Rachel's voice.")
    assert rachel in emulator.wait_request("tts", timeout=5).path
    store.sync()
    assert store.value(Key.VOICE_ID) == rachel
    assert "Rachel" in window.status.engine_label.text()


def test_preview_goes_through_the_speaker(window, qtbot, emulator):
    qtbot.waitUntil(lambda: window.picker.preview_button.isEnabled(), timeout=5000)
    window.picker.preview_button.click()
    request = emulator.wait_request("tts", timeout=5)
    assert request.json["text"] == PREVIEW_TEXT
    assert window.picker.voice_id in request.path
    assert window.panel.now_playing.text().startswith("Starting: Voice preview")
    assert window.history.entries() == []  # a preview is not something the user said


def test_voices_failing_shows_a_message(make_window, qtbot, emulator):
    from tests.emulator import Fault

    emulator.always("voices", Fault.invalid_key())
    window = make_window()
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=5000)
    assert "rejected" in window.banner.text
    assert not window.picker.combo.isEnabled()
