"""The window prepares the offline voice's first words before Speak (`workers.first_words`):
after a pause in typing, at once after a paste, never for ElevenLabs."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from tests.helpers.counted_voice import CountedVoice
from tests.helpers.pulse import PulseServer
from voicedesk.engines.local import LocalEngine

pytest_plugins = ["tests.helpers.ui_fixtures"]
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform's note

TEXT = "Hello from the offline voice, with its first words ready."


def _offline(make_window, qtbot, monkeypatch) -> tuple[object, LocalEngine, CountedVoice]:  # type: ignore[no-untyped-def]
    window = make_window(api_key=None, api_key_source="", engine="auto", base_url=None)
    engine = window.engines.engine
    assert isinstance(engine, LocalEngine)
    qtbot.waitUntil(lambda: engine.tts_loaded, timeout=60_000)  # the start-up's preload
    return window, engine, CountedVoice(engine, monkeypatch)


def test_typed_text_is_spoken_from_its_prepared_words(
    make_window, qtbot, monkeypatch, pulse: PulseServer
) -> None:
    window, _engine, voice = _offline(make_window, qtbot, monkeypatch)
    box = window.panel.box
    box.setFocus()
    qtbot.keyClicks(box, TEXT[:-1])
    with qtbot.waitSignal(window.first_words.prepared, timeout=30_000) as prepared:
        qtbot.keyClick(box, TEXT[-1])
        assert window.first_words.due_in_ms > 0  # typing: after a pause (coarse: ~PAUSE_MS)
    assert prepared.args == [True]
    made = len(voice.calls)
    first_run = voice.calls[-1]
    with qtbot.waitSignal(window.speaker.utterance_started, timeout=30_000):
        qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    window.stop()
    assert first_run not in voice.calls[made:]  # Speak did not make the first words again
    assert window.panel.text == TEXT


def test_a_paste_is_prepared_at_once(make_window, qtbot, monkeypatch) -> None:
    window, _engine, voice = _offline(make_window, qtbot, monkeypatch)
    QGuiApplication.clipboard().setText(TEXT)
    with qtbot.waitSignal(window.first_words.prepared, timeout=30_000) as prepared:
        window.panel.box.paste()
        assert window.first_words.due_in_ms == 0  # no pause to wait for
    assert prepared.args == [True] and len(voice.calls) == 1


def test_nothing_is_prepared_for_elevenlabs(make_window, qtbot) -> None:
    window = make_window()  # ElevenLabs: its first bytes are the server's to make
    qtbot.keyClicks(window.panel.box, TEXT)
    assert not window.first_words.pending
