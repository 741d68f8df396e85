"""Suite-wide set-up: headless Qt, the private sound server, the ElevenLabs emulator."""

from __future__ import annotations

import faulthandler
import gc
import os
import sys
from collections.abc import Iterator

import pytest

# Before anything imports Qt: no display here, and no stray platform plugins.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The SDK reads this at import time; the tests always pass keys explicitly.
os.environ.pop("ELEVENLABS_API_KEY", None)
os.environ.pop("ELEVENLABS_BASE_URL", None)

from voicedesk import early_init

early_init.apply()  # the process settings the app makes first (telemetry off, switch interval)

from tests.helpers import steady_wait  # noqa: E402 (Qt is imported after the settings above)

steady_wait.install()  # qtbot.wait / waitUntil without making Qt objects (see the module)

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
        _delete_what_was_left_to_delete_later()
        gc.collect()
        gc.enable()


def _delete_what_was_left_to_delete_later() -> None:
    """Destroy, now, the widgets pytest-qt closed with `deleteLater` at teardown.

    No event loop runs between tests, so Qt would destroy them in the next test's first
    `waitSignal`, while that test's own threads run. PySide releases the GIL around a C++
    destructor, and `~QObject` calls each sender's `disconnectNotify` while it holds one of
    Qt's shared signal-slot mutexes; for a sender made in Python, PySide takes the GIL there.
    A worker that holds the GIL and waits for the same mutex (making a QAudioSink, which
    connects its signals) then deadlocks with the GUI thread: seen as a window test that hung
    until CI's time ran out, its `timeout` never firing. Here, the test's threads are joined.
    """
    from PySide6.QtCore import QCoreApplication, QEvent

    if QCoreApplication.instance() is not None:
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


# A test still running this long after its own `timeout` is hung, not slow: a deadlock on the
# GIL keeps pytest-timeout's signal handler from ever running. Then print every thread's stack
# and end the run, so the report says where, instead of CI's own time limit saying nothing.
_HUNG_AFTER_TIMEOUT_SECONDS = 60
_stderr: int | None = None  # the terminal's stderr: a test's own is captured, and lost on exit


def pytest_configure(config: pytest.Config) -> None:
    global _stderr
    _stderr = os.dup(sys.stderr.fileno())  # capture is suspended while pytest configures


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    assert _stderr is not None
    marker = item.get_closest_marker("timeout")
    timeout = (
        float(marker.args[0]) if marker and marker.args else float(item.config.getini("timeout"))
    )
    faulthandler.dump_traceback_later(
        timeout + _HUNG_AFTER_TIMEOUT_SECONDS, exit=True, file=_stderr
    )
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.fixture(autouse=True)
def _no_plan_limit_left_over() -> Iterator[None]:
    """A window that read a plan's `maximum-concurrent-requests` lowers the process-wide slot
    count (`limits.set_plan_limit`); the next test starts with all of them again."""
    yield
    from voicedesk import limits

    limits.set_plan_limit(None)
