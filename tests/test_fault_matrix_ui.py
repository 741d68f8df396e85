"""The fault matrix through the window: Speak and push-to-talk against a misbehaving service.

For every fault, with logging at DEBUG: one clear message in the banner, the typed text and
earlier transcripts kept, all API slots back, no thread left running, the key nowhere (widgets,
log records), and the next Speak and the retried transcription work.
"""

from __future__ import annotations

import logging

import pytest

from tests.emulator import DEFAULT_TRANSCRIPT, TEST_API_KEY
from tests.emulator.server import Emulator
from tests.helpers.fault_cases import CASES, READ_TIMEOUT, Case
from tests.helpers.secrets import LOGGERS, leaks, widget_texts
from tests.helpers.threads import app_threads
from voicedesk import limits

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
pytestmark = [pytest.mark.qt_log_ignore("propagateSizeHints"), pytest.mark.timeout(90)]

TYPED = "Please keep what I typed."


def slots_back() -> bool:
    return limits.API_SLOTS.available() == limits.MAX_CONCURRENT_API_CALLS


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_window(case: Case, make_window, qtbot, emulator: Emulator, caplog) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    window = make_window(read_timeout=READ_TIMEOUT, live_transcript=False)
    speaker, transcriber = window.speaker, window.transcriber
    # A first utterance and transcript: threads that live as long as the window start now,
    # and there is a transcript in the history that no fault may lose.
    with qtbot.waitSignal(speaker.utterance_finished, timeout=20000):
        window.speak("Warm up.")
    with qtbot.waitSignal(transcriber.transcribed, timeout=20000):
        window.ptt.press()
        window.ptt.release()
    threads = app_threads()
    window.panel.set_text(TYPED)

    if case.tts is not None:
        emulator.always("tts", case.tts)
        ends = speaker.utterance_finished if case.tts_says is None else speaker.utterance_failed
        with qtbot.waitSignal(ends, timeout=30000):
            window.panel.speak_button.click()
        if case.tts_says is not None:
            assert case.tts_says in window.banner.text
            assert "\n" not in window.banner.text
        assert window.panel.text == TYPED
        qtbot.waitUntil(slots_back, timeout=5000)

    if case.stt is not None:
        emulator.always("stt", case.stt)
        done = transcriber.transcribed if case.stt_says is None else transcriber.failed
        with qtbot.waitSignal(done, timeout=30000):
            window.ptt.press()
            window.ptt.release()
        if case.stt_says is not None:
            assert case.stt_says in window.banner.text
            assert transcriber.can_retry  # the recording is kept for Retry
        qtbot.waitUntil(slots_back, timeout=5000)

    heard = [e.text for e in window.history.entries() if e.kind == "heard"]
    assert DEFAULT_TRANSCRIPT in heard
    assert not leaks(TEST_API_KEY, *widget_texts(window), records=caplog.records)

    # The service is well again: the window works as before.
    emulator.faults.clear()
    with qtbot.waitSignal(speaker.utterance_finished, timeout=20000):
        window.panel.speak_button.click()
    assert emulator.last("tts").json["text"] == TYPED
    if case.stt_says is not None:
        with qtbot.waitSignal(transcriber.transcribed, timeout=20000):
            window.talk.retry()
    qtbot.waitUntil(slots_back, timeout=5000)
    qtbot.waitUntil(lambda: app_threads() <= threads, timeout=10000)
    assert window.panel.text == TYPED
