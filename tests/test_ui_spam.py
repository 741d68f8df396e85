"""Hammering the window (issue 10, item 4): Speak, Stop and push to talk pressed as fast as
events go, through the real Speaker, the emulator and the private sound server.

After each storm the app still works, the typed text is still in the box, all 3 API slots are
back, no thread is left running, and the GUI thread never stalled (a heartbeat timer; the
bound is a freeze detector, not a timing).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication
from pytestqt.exceptions import TimeoutError as WaitTimedOut

from tests.emulator.audio import AudioSpec
from tests.helpers.vitals import Heartbeat, Vitals, wait_settled
from voicedesk import limits

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
pytestmark = [
    pytest.mark.qt_log_ignore("propagateSizeHints"),  # offscreen's note on every show
    pytest.mark.audio,
    pytest.mark.timeout(240),
]

# Short clips: the storms are about the app, not about listening.
SHORT = pytest.mark.emulator(audio=AudioSpec(seconds_per_char=0.0, min_seconds=0.05))
# Seconds without a GUI-thread tick, less the time the machine gave the thread no CPU, that
# would mean the window froze (a freeze detector, not a timing).
FROZEN = 1.0
TYPED = "Keep this text."


def _settled(window, qtbot) -> Vitals:
    """The baseline: the window with its start-up jobs done (voices, quota), and warm: one
    utterance played (the sound server's connection and Qt's audio threads are made then)."""
    qtbot.waitUntil(window.picker.combo.isEnabled, timeout=10_000)
    with qtbot.waitSignal(window.speaker.idle, timeout=15_000):
        window.speak("Warm up.")
    qtbot.waitUntil(lambda: window.background.busy == window.budget.busy == 0, timeout=10_000)
    return Vitals.now(ignore_ports=baseline_ports(window))


def baseline_ports(window) -> tuple[int, ...]:
    """The emulator's port: connections to it are the engine's keep-alive pool."""
    port = urlsplit(window.settings.base_url or "").port
    return (port,) if port else ()


def _quiet(window, qtbot) -> None:
    """Everything asked for has been done."""
    try:
        qtbot.waitUntil(lambda: not window.speaker.is_busy(), timeout=120_000)
    except WaitTimedOut:  # pytest-qt's TimeoutError, not an AssertionError
        speaker = window.speaker
        raise AssertionError(
            f"still speaking: current {speaker._current}, {len(speaker._queue)} queued, "
            f"{len(speaker._threads)} threads, slots free {limits.API_SLOTS.available()}"
        ) from None
    qtbot.waitUntil(lambda: not window.transcriber.busy, timeout=60_000)
    qtbot.waitUntil(lambda: window.background.busy == window.budget.busy == 0, timeout=10_000)


def _all_back(window, qtbot, baseline: Vitals) -> None:
    qtbot.waitUntil(lambda: limits.API_SLOTS.available() == 3, timeout=5_000)
    wait_settled(qtbot, baseline, baseline_ports(window), timeout_ms=10_000)


def _not_frozen(beat: Heartbeat) -> None:
    beat.stop()
    assert beat.worst_own < FROZEN, (
        f"the GUI thread stalled for {beat.worst_own:.2f} s of its own "
        f"({beat.worst:.2f} s in all), {beat.stuck_in}"
    )


def _still_speaks(window, qtbot, pulse) -> None:
    with pulse.record_output() as heard:
        qtbot.waitUntil(lambda: bool(heard.pcm), timeout=10_000)  # the recorder is listening
        with qtbot.waitSignal(window.speaker.utterance_finished, timeout=15_000):
            window.panel.request_speak()
        assert heard.wait_for_sound(5)


def _ctrl_enter(qtbot, window) -> None:
    qtbot.keyClick(window.panel.box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    # QTest delivers the key straight to the widget; a user's keys come through the event
    # loop, which runs between them (and so does the heartbeat).
    QApplication.processEvents()


def _esc(qtbot, window) -> None:
    qtbot.keyClick(window.panel.box, Qt.Key.Key_Escape)
    QApplication.processEvents()


def _type(qtbot, window) -> None:
    window.panel.box.setFocus()
    qtbot.keyClicks(window.panel.box, TYPED)


@SHORT
def test_a_hundred_rapid_speak_presses(window, qtbot, emulator, pulse):
    baseline = _settled(window, qtbot)
    before = len(emulator.requests("tts"))
    _type(qtbot, window)
    beat = Heartbeat()
    beat.start()
    for _ in range(100):
        _ctrl_enter(qtbot, window)
    assert "queued)" in window.panel.now_playing.text()
    _quiet(window, qtbot)
    _not_frozen(beat)
    _all_back(window, qtbot, baseline)
    # The same text pressed again while it waits is merged (issue 15): the one playing and
    # one waiting, not a paid request for each press (a few more if one ends mid-spam).
    assert 2 <= len(emulator.requests("tts")) - before <= 25
    assert window.panel.text == TYPED
    assert not window.banner.isVisible()
    _still_speaks(window, qtbot, pulse)


@pytest.mark.emulator(pacing=0.02, chunk_size=1024)
def test_stop_spam_between_speak_presses(window, qtbot, emulator, pulse):
    baseline = _settled(window, qtbot)
    _type(qtbot, window)
    beat = Heartbeat()
    beat.start()
    for round_ in range(50):
        if round_ % 5 == 0:  # now and then let one be heard before stopping it
            with qtbot.waitSignal(window.speaker.utterance_started, timeout=10_000):
                _ctrl_enter(qtbot, window)
        else:
            _ctrl_enter(qtbot, window)
        _esc(qtbot, window)
    for _ in range(50):  # Esc with nothing playing
        _esc(qtbot, window)
    _quiet(window, qtbot)
    _not_frozen(beat)
    _all_back(window, qtbot, baseline)
    assert not window.panel.stop_button.isEnabled()
    assert window.panel.now_playing.text() == ""
    assert not window.banner.isVisible()  # stopping is not an error
    assert window.panel.text == TYPED
    emulator.wait_idle(5)  # every stopped request was ended, not left to run
    _still_speaks(window, qtbot, pulse)


def _f9(kind: QEvent.Type) -> QKeyEvent:
    return QKeyEvent(kind, Qt.Key.Key_F9, Qt.KeyboardModifier.NoModifier)


@SHORT
def test_push_to_talk_spam(make_window, qtbot, emulator, pulse):
    window = make_window(live_transcript=False)  # counts scribe_v2 requests (live: test_live.py)
    baseline = _settled(window, qtbot)
    _type(qtbot, window)
    box = window.panel.box
    beat = Heartbeat()
    beat.start()
    window.speak(TYPED)  # pressing the key stops speech first: mixed in
    for press in range(50):
        QApplication.sendEvent(box, _f9(QEvent.Type.KeyPress))
        QApplication.sendEvent(box, _f9(QEvent.Type.KeyRelease))
        # A press within 30 ms of a release is the key's auto-repeat: let the release land.
        qtbot.waitUntil(lambda: not window.ptt.is_down, timeout=2_000)
        if press % 10 == 0:
            window.speak(TYPED)
    for _ in range(10):  # and the on-screen button
        qtbot.mousePress(window.ptt_bar.button, Qt.MouseButton.LeftButton)
        qtbot.mouseRelease(window.ptt_bar.button, Qt.MouseButton.LeftButton)
        QApplication.processEvents()
    _quiet(window, qtbot)
    _not_frozen(beat)
    _all_back(window, qtbot, baseline)
    assert window.recorder.starts == 60
    assert not window.recorder.recording
    assert len(emulator.requests("stt")) == 60  # every recording went out, none dropped
    heard = [e for e in window.history.entries() if e.kind == "heard"]
    assert len(heard) == 60  # and every transcript is kept
    assert box.toPlainText() == TYPED
    assert not window.ptt_bar.meter.isVisible()
    _still_speaks(window, qtbot, pulse)
