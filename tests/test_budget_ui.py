"""Credits, concurrency and erase after use in the window: the real Speaker, Transcriber and
SDK against the emulator (issue 15, items 1-3)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator import Fault
from tests.emulator.server import Emulator
from voicedesk import limits
from voicedesk.ui.settings_dialog import SettingsDialog

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen's note on every show

PCM = b"\x00\x10\x00\xf0" * 8000  # a second of a square wave, 16 kHz mono s16le


@pytest.fixture(autouse=True)
def _no_plan_limit() -> Iterator[None]:
    yield
    limits.set_plan_limit(None)
    assert limits.API_SLOTS.available() == limits.MAX_CONCURRENT_API_CALLS, "a slot was kept"


def quota_fetches(emulator: Emulator) -> list[object]:
    return [r for r in emulator.requests("user") if "x-fern-language" in r.headers]


def speak(qtbot, window, text: str) -> None:
    with qtbot.waitSignal(window.speaker.utterance_finished, timeout=20_000):
        window.speak(text)


@pytest.mark.emulator(character_limit=10_000)
def test_characters_left_follow_each_response_without_asking_again(make_window, qtbot, emulator):
    window = make_window()
    qtbot.waitUntil(lambda: "10,000 of 10,000" in window.status.quota_label.text(), timeout=10_000)
    speak(qtbot, window, "Twenty characters ok")
    qtbot.waitUntil(lambda: "9,980 of 10,000" in window.status.quota_label.text(), timeout=10_000)
    speak(qtbot, window, "Ten chars.")
    qtbot.waitUntil(lambda: "9,970 of 10,000" in window.status.quota_label.text(), timeout=10_000)
    # One subscription fetch at start, none per utterance (the connection warm-up's GET,
    # sent without the SDK, is the warmer's business: its answer is not read for credits).
    assert len(quota_fetches(emulator)) == 1
    assert emulator.character_count == 30


@pytest.mark.emulator(character_limit=1_000)
def test_a_warning_at_ten_percent_left(make_window, qtbot, emulator):
    emulator.character_count = 880  # 12 % left: no warning yet
    window = make_window()
    qtbot.waitUntil(lambda: "120 of 1,000" in window.status.quota_label.text(), timeout=10_000)
    assert not window.banner.isVisible()
    speak(qtbot, window, "Thirty characters of speech...")
    qtbot.waitUntil(window.banner.isVisible, timeout=10_000)
    assert "running low" in window.banner.text and "90 characters left" in window.banner.text
    assert window.status.quota_level == "low"


def test_the_subscription_is_fetched_again_every_few_minutes(make_window, qtbot, emulator):
    window = make_window()
    qtbot.waitUntil(lambda: len(quota_fetches(emulator)) == 1, timeout=10_000)
    window.budget.account._timer.setInterval(50)  # minutes in real life
    window.budget.account._timer.start()
    qtbot.waitUntil(lambda: len(quota_fetches(emulator)) >= 3, timeout=10_000)


@pytest.mark.emulator(concurrency_limit=2)
def test_a_plan_of_two_lowers_the_slots_and_settings_says_so(make_window, qtbot, emulator):
    window = make_window()
    with qtbot.waitSignal(window.budget.account.slots_changed, timeout=20_000) as changed:
        window.speak("The plan says two.")
    assert changed.args == [2, 2]
    assert limits.app_slots() == 2
    qtbot.waitUntil(lambda: not window.speaker.is_busy(), timeout=20_000)
    assert limits.API_SLOTS.available() == 2
    dialog = SettingsDialog(window.settings, window.background, True, window)
    qtbot.addWidget(dialog)
    assert "allows 2 requests at once" in dialog.plan_note.text()
    assert not dialog.plan_note.isHidden()


def test_no_plan_note_while_the_plan_allows_three_or_more(window, qtbot):
    dialog = SettingsDialog(window.settings, window.background, True, window)
    qtbot.addWidget(dialog)
    assert dialog.plan_note.isHidden()


def test_erase_after_use_deletes_history_items_and_transcripts(make_window, qtbot, emulator):
    window = make_window(erase_after_use=True, live_transcript=False)
    speak(qtbot, window, "Forget me.")
    emulator.wait_done("history", timeout=10)
    with qtbot.waitSignal(window.transcriber.transcribed, timeout=10_000):
        window.transcriber.transcribe(PCM)
    emulator.wait_done("transcript", timeout=10)
    qtbot.waitUntil(lambda: window.budget.eraser.pending == 0, timeout=10_000)
    assert emulator.history_items == {} and emulator.transcripts == {}
    assert window.status.erase_label.text() == ""


def test_without_the_setting_nothing_is_deleted(window, qtbot, emulator):
    speak(qtbot, window, "Keep me.")
    assert len(emulator.history_items) == 1
    assert emulator.requests("history") == []


def test_a_failed_deletion_is_retried_later_and_never_blocks(make_window, qtbot, emulator):
    window = make_window(erase_after_use=True)
    eraser = window.budget.eraser
    eraser._retry.setInterval(24 * 3600 * 1000)  # retried when the test says so
    emulator.always("history", Fault.server_error())
    speak(qtbot, window, "First.")
    qtbot.waitUntil(lambda: "1 to erase" in window.status.erase_label.text(), timeout=10_000)
    qtbot.waitUntil(
        lambda: eraser.pending == 1 and not any(eraser._pending.values()), timeout=10_000
    )
    assert "Last failure:" in window.status.erase_label.toolTip()
    assert not window.banner.isVisible()  # no error in the user's way
    speak(qtbot, window, "Second.")  # speaking carries on meanwhile
    qtbot.waitUntil(lambda: "2 to erase" in window.status.erase_label.text(), timeout=10_000)
    assert len(emulator.history_items) == 2
    emulator.always("history", None)
    eraser.retry_now()
    qtbot.waitUntil(lambda: eraser.pending == 0, timeout=10_000)
    assert emulator.history_items == {}
    assert window.status.erase_label.text() == ""


def test_failed_deletions_come_back_on_the_retry_timer(make_window, qtbot, emulator):
    window = make_window(erase_after_use=True)
    window.budget.eraser._retry.setInterval(100)
    emulator.script("history", [Fault.server_error(), Fault.connection_reset()])
    speak(qtbot, window, "Try again.")
    qtbot.waitUntil(lambda: window.budget.eraser.pending == 0, timeout=20_000)
    assert emulator.history_items == {}
    assert len(emulator.requests("history")) >= 2


@pytest.mark.emulator(tier="enterprise", zero_retention=True)
def test_zero_retention_sends_enable_logging_false_and_deletes_nothing(
    make_window, qtbot, emulator
):
    window = make_window(erase_after_use=True, live_transcript=False)
    qtbot.waitUntil(lambda: window.engines.engine.zero_retention, timeout=10_000)
    speak(qtbot, window, "Never kept.")
    with qtbot.waitSignal(window.transcriber.transcribed, timeout=10_000):
        window.transcriber.transcribe(PCM)
    assert emulator.last("tts").param("enable_logging") == "false"
    assert emulator.last("stt").param("enable_logging") == "false"
    assert emulator.history_items == {} and emulator.transcripts == {}
    assert emulator.requests("history") == [] and emulator.requests("transcript") == []
    assert window.budget.eraser.pending == 0


def test_turning_erase_on_in_settings_applies_at_once(window, qtbot, emulator: Emulator):
    from dataclasses import replace

    window.app.apply(replace(window.settings, erase_after_use=True), key_changed=False)
    assert window.budget.eraser.enabled and window.engines.engine.erase_after_use
    speak(qtbot, window, "Now forget.")
    emulator.wait_done("history", timeout=10)
    qtbot.waitUntil(lambda: window.budget.eraser.pending == 0, timeout=10_000)
    assert emulator.history_items == {}


@pytest.mark.emulator(history_item_header=False)
def test_without_the_item_header_the_item_is_found_by_request_id(make_window, qtbot, emulator):
    window = make_window(erase_after_use=True)
    window.budget.eraser._retry.setInterval(100)
    emulator.script("history", [Fault.server_error()])  # the first lookup fails: tried again
    speak(qtbot, window, "Find me by my request.")
    qtbot.waitUntil(lambda: window.budget.eraser.pending == 0, timeout=20_000)
    assert emulator.history_items == {}
    methods = [r.method for r in emulator.requests("history")]
    assert methods.count("GET") == 2 and methods.count("DELETE") == 1
