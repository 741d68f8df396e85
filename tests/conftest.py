"""Suite-wide set-up: headless Qt, the private sound server, the ElevenLabs emulator."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator

import pytest

# Before anything imports Qt: no display here, and no stray platform plugins.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The SDK reads this at import time; the tests always pass keys explicitly.
os.environ.pop("ELEVENLABS_API_KEY", None)
os.environ.pop("ELEVENLABS_BASE_URL", None)

from voicedesk import early_init

early_init.apply()  # the process settings the app makes first (telemetry off, switch interval)

pytest_plugins = ["tests.helpers.pulse", "tests.helpers.xvfb", "tests.emulator.plugin"]

# Tests that make QObjects: the Qt ones (`qtbot`) and the sound ones (`pulse`: a Player, a
# Speaker, whose audio threads run timers), with or without a `qtbot`.
_QT_FIXTURES = frozenset({"qtbot", "qapp", "pulse"})
_made_qt_objects = False  # the test now running is one of those


def pytest_runtest_setup(item: pytest.Item) -> None:
    global _made_qt_objects
    _made_qt_objects = not _QT_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """After a Qt test, once pytest has let go of its fixtures: collect, here, on the GUI thread.

    Left to Python's automatic collector, the cyclic garbage of a test's QObjects (a window, a
    Player and its audio thread's timers) is freed in whichever thread allocates next: a worker
    (a quota job, a speaking worker) or, in a later test that makes no Qt objects at all,
    PortAudio's callback thread. PySide then deletes QObjects from that thread: "QObject::
    killTimer: Timers cannot be stopped from another thread" (which failed a microphone test
    that ran after the player's), or a deadlock under Qt's signal-slot locks (seen as a hung
    test: ~QAction on the GUI thread against ~QObject in the GC of a "quota" job). Window tests
    also turn the automatic collector off while they run (`ui_fixtures.make_window`); it is
    turned back on here.
    """
    global _made_qt_objects
    if _made_qt_objects:
        _made_qt_objects = False
        gc.collect()
        gc.enable()


@pytest.fixture(autouse=True)
def _no_plan_limit_left_over() -> Iterator[None]:
    """A window that read a plan's `maximum-concurrent-requests` lowers the process-wide slot
    count (`limits.set_plan_limit`); the next test starts with all of them again."""
    yield
    from voicedesk import limits

    limits.set_plan_limit(None)
