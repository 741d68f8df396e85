"""No surprise spending and one-click offline (issue 15, items 4 and 5): the real window,
Speaker and Transcriber against the emulator."""

from __future__ import annotations

import pytest

from tests.emulator import Fault
from voicedesk.engines.base import Quota
from voicedesk.workers.speaker import MAX_QUEUED
from voicedesk.workers.spend import CONFIRM_ABOVE, spend_question

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen's note on every show

PCM = b"\x00\x10\x00\xf0" * 8000  # a second of a square wave, 16 kHz mono s16le


def test_the_question_shows_size_against_what_is_left() -> None:
    plenty = Quota(used=0, limit=100_000)
    assert spend_question(CONFIRM_ABOVE, plenty) is None
    asked = spend_question(3_000_000, plenty)
    assert asked and "3,000,000 characters" in asked and "100,000 of 100,000" in asked
    over = spend_question(50, Quota(used=990, limit=1000))
    assert over and "more than your plan has left" in over and "10 of 1,000" in over
    assert "not known" in (spend_question(CONFIRM_ABOVE + 1, None) or "")


def test_many_presses_queue_a_few_requests(window, qtbot, emulator):
    emulator.always("tts", Fault.stall(after=0))  # the first keeps the speaker busy
    window.speak("The first one.")
    emulator.wait_stalled("tts", timeout=10)
    for _ in range(80):
        window.speak("Again and again.")  # merged into one waiting utterance
    assert len(window.speaker._queue) == 1
    for n in range(MAX_QUEUED - 1):
        window.speak(f"Different text {n}.")
    assert len(window.speaker._queue) == MAX_QUEUED
    assert window.speak("One too many.") is None
    assert "already waiting" in window.banner.text
    window.stop()
    emulator.release()
    assert len(emulator.requests("tts")) == 1
    # Nothing was heard: the history has no "Spoke" for any of them.
    assert window.history.entries() == []


@pytest.mark.emulator(pacing=0.05, chunk_size=512)
def test_history_records_what_was_heard_and_marks_what_was_stopped(window, qtbot, emulator):
    with qtbot.waitSignal(window.speaker.utterance_started, timeout=20_000):
        window.speak("A long paced answer that takes a while to arrive. " * 3)
    window.speak("Queued but never heard.")
    (entry,) = window.history.entries()
    assert entry.kind == "spoken"
    window.stop()
    (entry,) = window.history.entries()
    assert entry.kind == "stopped" and entry.label.split("  ", 1)[1].startswith("Stopped: ")
    emulator.configure(pacing=0.0, chunk_size=4096)
    with qtbot.waitSignal(window.speaker.utterance_finished, timeout=20_000):
        window.speak("Short.")
    assert [e.kind for e in window.history.entries()] == ["spoken", "stopped"]


@pytest.mark.emulator(character_limit=1_000)
def test_more_than_is_left_asks_first_and_no_keeps_the_text(make_window, qtbot, emulator):
    emulator.character_count = 990
    window = make_window()
    qtbot.waitUntil(lambda: window.budget.account.quota is not None, timeout=10_000)
    text = "Twenty characters ok"
    window.panel.set_text(text)
    assert window.speak(text) is None
    dialog = window.prompts.spend_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5_000)
    assert "20 characters" in dialog.text() and "10 of 1,000" in dialog.text()
    dialog.cancel_button.click()
    assert emulator.requests("tts") == []
    assert window.panel.text == text  # the box keeps it
    # Send anyway: the service refuses it, and the failure offers the offline voice.
    window.speak(text)
    with qtbot.waitSignal(window.speaker.utterance_failed, timeout=10_000):
        window.prompts.spend_dialog.send_button.click()
    assert len(emulator.requests("tts")) == 1
    qtbot.waitUntil(lambda: window.banner.action_button.isVisible(), timeout=5_000)
    assert window.banner.action_button.text() == "Speak &offline"
    with qtbot.waitSignal(window.speaker.utterance_finished, timeout=60_000):
        window.banner.action_button.click()
    assert len(emulator.requests("tts")) == 1  # spoken offline, from memory
    assert window.panel.text == text


@pytest.mark.emulator(character_limit=1_000)
def test_the_question_offers_the_offline_voice(make_window, qtbot, emulator):
    emulator.character_count = 995
    window = make_window()
    qtbot.waitUntil(lambda: window.budget.account.quota is not None, timeout=10_000)
    window.speak("More than five.")
    with qtbot.waitSignal(window.speaker.utterance_finished, timeout=60_000):
        window.prompts.spend_dialog.offline_button.click()
    assert emulator.requests("tts") == []


def test_a_failed_utterance_offers_speak_offline(window, qtbot, emulator):
    emulator.always("tts", Fault.server_error())
    with qtbot.waitSignal(window.speaker.utterance_failed, timeout=20_000):
        window.speak("Say it anyway.")
    assert window.banner.action_button.isVisible()
    with qtbot.waitSignal(window.speaker.utterance_finished, timeout=60_000):
        window.banner.action_button.click()
    assert window.speaker._engine is window.engines.engine  # ElevenLabs again for the next one


def test_a_failed_transcription_offers_retry_and_retry_offline(make_window, qtbot, emulator):
    window = make_window(live_transcript=False)
    emulator.always("stt", Fault.server_error())
    with qtbot.waitSignal(window.transcriber.failed, timeout=20_000):
        window.transcriber.transcribe(PCM)
    banner = window.banner
    assert banner.action_button.isVisible() and banner.second_button.isVisible()
    assert banner.action_button.text() == "&Retry"
    assert banner.second_button.text() == "Retry &offline"
    sent = len(emulator.requests("stt"))
    with qtbot.waitSignal(window.transcriber.transcribed, timeout=120_000):
        banner.second_button.click()
    assert len(emulator.requests("stt")) == sent  # offline: the kept recording, from memory
    assert window.transcriber.last_recording == PCM
