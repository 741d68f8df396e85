"""`qtbot.wait` (and so `qtbot.waitUntil`, which polls with it) without making Qt objects.

pytest-qt's `wait(ms)` makes a QEventLoop and a QTimer in Python, connects them, runs the loop
and drops both: `waitUntil` does that every 10 ms. Each QObject made in Python and destroyed
on the GUI thread runs Qt's signal-slot bookkeeping there: `~QObject` holds one of Qt's shared
signal-slot mutexes (a pool picked by object address) while it calls the sender's
`disconnectNotify`, and for an object made in Python PySide takes the GIL inside that call.
The audio thread meanwhile holds the GIL while Qt closes or makes a QAudioSink (PySide does
not release it around those calls), and that also takes signal-slot mutexes. When the two
pick the same mutex, each waits for what the other holds: a hung test (seen once in a
fresh-clone run, the audio thread in `QAudioSink.reset()` and the GUI thread in `waitUntil`).

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
