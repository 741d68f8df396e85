"""Text over the limit in the window: refused before any work, and the text stays in the box."""

from __future__ import annotations

import pytest

from voicedesk.text import MAX_TEXT_CHARS

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen's note on every show


@pytest.mark.parametrize("engine", ["elevenlabs", "local"])
def test_text_over_the_limit_says_so_and_stays_in_the_box(make_window, qtbot, emulator, engine):
    window = make_window(engine=engine)
    text = "All work and no play. " * (MAX_TEXT_CHARS // 22 + 1)
    assert len(text) > MAX_TEXT_CHARS
    window.panel.set_text(text)
    window.panel.speak_button.click()
    assert f"{len(text):,} characters" in window.banner.text
    assert f"{MAX_TEXT_CHARS:,}" in window.banner.text
    assert window.panel.text == text  # every character still there, to cut down and retry
    assert not window.speaker.is_busy()  # nothing was started
    assert window.history.entries() == [] or window.history.entries()[0].text != text
    assert emulator.requests("tts") == []
    # At the limit exactly, it is spoken (the limit is inclusive).
    window.panel.set_text(text[:MAX_TEXT_CHARS])
    window.panel.speak_button.click()
    if engine == "elevenlabs":  # that many paid characters are confirmed first (issue 15)
        assert window.prompts.spend_dialog is not None and not window.speaker.is_busy()
        window.prompts.spend_dialog.send_button.click()
    assert window.speaker.is_busy()
    window.stop()
