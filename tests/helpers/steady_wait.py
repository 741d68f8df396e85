"""`qtbot.wait` (and so `qtbot.waitUntil`, which polls with it) without making Qt objects.

pytest-qt's `wait(ms)` makes a QEventLoop and a QTimer in Python, connects the timer to a
Python method, runs the loop and drops all three: `waitUntil` does that every 10 ms. Dropping
them lets go of the connection on the GUI thread: PySide's disconnect releases the GIL, and Qt,
holding one of its shared signal-slot mutexes (a pool picked by object address), calls the
sender's `disconnectNotify`, for which PySide takes the GIL again. An audio thread that holds
the GIL in a Qt call needing the same mutex (making or closing a QAudioSink) never gets it: a
hung test. gdb showed it on the stress that waits as pytest-qt does (`bench/sink_churn.py`).

Here each nesting depth of `wait` gets one loop and one timer, made once and kept: a wait
only starts a timer and runs a loop, which touches no signal-slot mutex.
"""

from __future__ import annotations

from PySide6.QtCore import QEventLoop, QTimer

_loops: list[tuple[QEventLoop, QTimer]] = []
_depth = 0


def _pair(depth: int) -> tuple[QEventLoop, QTimer]:
    while len(_loops) <= depth:
        loop = QEventLoop()
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        _loops.append((loop, timer))
    return _loops[depth]


def wait(ms: int) -> None:
    """Process events for `ms` milliseconds (GUI thread; a wait inside a wait is fine)."""
    global _depth
    loop, timer = _pair(_depth)
    _depth += 1
    try:
        timer.start(max(0, int(ms)))
        loop.exec()
    finally:
        _depth -= 1
        timer.stop()


def install() -> None:
    """Make every `QtBot.wait` (and `waitUntil`) of this session use `wait`."""
    from pytestqt.qtbot import QtBot

    def steady(self: QtBot, ms: int) -> None:
        wait(ms)

    QtBot.wait = steady  # type: ignore[method-assign]
