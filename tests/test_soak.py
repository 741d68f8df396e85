"""The soak, short (issue 10, item 5): utterances back to back in one window, through the
emulator and offline; afterwards the process holds no more memory (under 10 MB of growth; 64 MB
offline), file descriptors or threads than after the warm-up. The full run (300 + 50) is
`make bench` (bench/soak.py), which writes its numbers to docs/reliability.md.
"""

from __future__ import annotations

import pytest

from tests.emulator.audio import AudioSpec
from tests.helpers.soak import MB, SoakResult, emulator_ports, soak
from tests.helpers.vitals import wait_settled

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
pytestmark = [
    pytest.mark.qt_log_ignore("propagateSizeHints"),  # offscreen's note on every show
    pytest.mark.audio,
    pytest.mark.timeout(300),
]

RSS_GROWTH = 10 * MB
# Offline, a pool thread that runs Piper for the first time gets a glibc malloc arena of its own
# (up to 64 MB, `mallopt(3)` M_ARENA_MAX): on a loaded machine a second pool thread joins in and
# one run showed +38 MB that was no leak. What this catches is a model, session or decoder made
# again per utterance (Piper's voice alone is ~60 MB); fds and threads are checked exactly.
OFFLINE_RSS_GROWTH = 64 * MB
FROZEN = 1.0  # a freeze detector only (see tests/test_ui_spam.py)


def _check(result: SoakResult, window, qtbot, rss_growth: int = RSS_GROWTH) -> None:
    print(result.row())  # -s shows the numbers
    assert result.failed == 0
    assert result.rss_growth < rss_growth, result.row()
    assert result.worst_own < FROZEN, f"{result.row()}\n{result.stuck_in}"
    # Threads end and descriptors close a moment after the last signal: wait for that, bounded.
    wait_settled(qtbot, result.before, emulator_ports(window), timeout_ms=10_000)


@pytest.mark.emulator(audio=AudioSpec(seconds_per_char=0.0, min_seconds=0.05))
def test_soak_with_the_emulator(window, qtbot, emulator):
    qtbot.waitUntil(window.picker.combo.isEnabled, timeout=10_000)
    result = soak(window, 30, lambda c, s: qtbot.waitUntil(c, timeout=int(s * 1000)), "ElevenLabs")
    _check(result, window, qtbot)
    assert len(emulator.requests("tts")) == 30 + 10  # the warm-up's ten, then the soak's


@pytest.mark.slow
def test_soak_offline(make_window, qtbot):
    window = make_window(api_key=None, api_key_source="", engine="local", base_url=None)
    qtbot.waitUntil(window.picker.combo.isEnabled, timeout=60_000)
    wait = lambda c, s: qtbot.waitUntil(c, timeout=int(s * 1000))  # noqa: E731
    result = soak(window, 5, wait, "offline", warm_up=3, timeout=60)
    _check(result, window, qtbot, OFFLINE_RSS_GROWTH)
