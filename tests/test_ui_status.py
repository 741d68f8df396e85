"""Status bar (engine, voice, quota — credits low and used up said plainly) and quitting."""

from __future__ import annotations

import pytest

from voicedesk.engines.base import Quota
from voicedesk.ui.status import quota_text

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen's note on every show


def test_quota_from_the_emulator(window, qtbot, emulator):
    qtbot.waitUntil(lambda: "characters left" in window.status.quota_label.text(), timeout=5000)
    assert emulator.requests("user")
    assert window.status.quota_level == ""
    assert window.status.engine_label.text().startswith("ElevenLabs")


@pytest.mark.emulator(character_limit=10_000)
def test_credits_low_and_used_up(make_window, qtbot, emulator):
    emulator.character_count = 9_990
    window = make_window()
    qtbot.waitUntil(lambda: window.status.quota_level == "low", timeout=5000)
    assert window.status.quota_label.text().startswith("Credits low")
    emulator.character_count = 10_000
    window.engines.refresh_quota()
    qtbot.waitUntil(lambda: window.status.quota_level == "out", timeout=5000)
    assert window.status.quota_label.text() == "Credits used up"


def test_quota_text():
    assert quota_text(None) == ("", "")
    assert quota_text(Quota(used=0, limit=100_000)) == ("100,000 of 100,000 characters left", "")
    assert quota_text(Quota(used=100, limit=100))[1] == "out"


def test_offline_engine_shows_no_quota(make_window, qtbot):
    window = make_window(engine="local")
    assert window.engines.engine.name == "local"
    assert window.status.quota_label.text() == ""
    assert window.status.engine_label.text().startswith("Offline voice")


def test_missing_key_says_so_and_works_offline(make_window, qtbot):
    window = make_window(api_key=None, api_key_source="")
    assert window.engines.engine.name == "local"
    assert "No ElevenLabs API key" in window.banner.text
    assert window.banner.action_button.isVisible()  # "Settings…"


def test_quit_stops_and_joins_everything(window, qtbot):
    window.speak("Something long.")
    window.quit()
    assert not window.speaker.is_busy()
    assert window.transcriber._thread.isFinished()
    assert window.recorder.closed
    assert window.background.busy == 0
    assert not window.isVisible()


def test_no_tray_headless_is_fine(window):
    # The offscreen platform has no system tray: the window works without one.
    assert not window.tray.available
    assert window.tray.speak_action.text() == "Speak clipboard"
