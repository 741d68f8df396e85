"""Stress: short utterances back to back through the Player while the GUI thread waits 10 ms
at a time as pytest-qt's `qtbot.wait` does (a QEventLoop, a QTimer and a Python connection
made and dropped each time).

    .venv/bin/python bench/sink_churn.py [--utterances 5000] [--steady]

This is how the deadlock between PySide's GIL and Qt's signal-slot mutexes was reproduced and
then shown gone (`docs/architecture.md`, Threads): the audio thread opens and closes a sink per
utterance while the GUI thread lets go of connections, as pytest-qt's `qtbot.wait` did. Each
utterance is 50 ms of tone on a private PulseAudio server (as in the tests). A run that stops
moving for 60 s is a hang: it ends with every thread's Python stack on stderr; while it hangs,
`gdb -p PID -batch -ex "thread apply all bt"` shows the native ones. `--steady` waits with one
loop and timer made once (the suite's `tests/helpers/steady_wait.py`) instead.
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from voicedesk import early_init  # noqa: E402

early_init.apply()
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

HUNG_AFTER_SECONDS = 60


def _pytest_qt_wait() -> Callable[[int], None]:
    """pytest-qt's own `qtbot.wait(ms)` as it is: each call makes a blocker with its loop and
    timer, runs it once and drops it."""
    from pytestqt.qt_compat import qt_api
    from pytestqt.wait_signal import MultiSignalBlocker

    qt_api.set_qt_api("pyside6")  # what pytest-qt does when a session starts

    def wait(ms: int) -> None:
        MultiSignalBlocker(timeout=ms, raising=False).wait()

    return wait


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--utterances", type=int, default=5000)
    parser.add_argument("--steady", action="store_true", help="wait without making Qt objects")
    args = parser.parse_args()

    from tests.helpers.pulse import OUT_RATE, PulseServer
    from tests.helpers.sounds import tone_pcm

    server = PulseServer()
    server.start()
    os.environ.update(server.env)
    try:
        return _run(args.utterances, args.steady, tone_pcm(0.05), OUT_RATE)
    finally:
        server.stop()


def _run(utterances: int, steady: bool, pcm: bytes, rate: int) -> int:
    from PySide6.QtWidgets import QApplication

    from tests.helpers import steady_wait
    from voicedesk.audio.playback.pcm import PcmFormat
    from voicedesk.audio.playback.player import Player

    app = QApplication([])
    wait = steady_wait.wait if steady else _pytest_qt_wait()
    player = Player()
    finished: set[int] = set()
    player.finished.connect(lambda token, _when: finished.add(token))
    fmt = player.format_for(PcmFormat(rate, 1))
    started = time.monotonic()
    for n in range(1, utterances + 1):
        faulthandler.dump_traceback_later(HUNG_AFTER_SECONDS, exit=True)
        token = player.begin(fmt)
        player.write(token, pcm)
        player.end(token)
        while token not in finished:
            wait(10)
        if n % 250 == 0 or n == utterances:
            print(f"{n} utterances, {time.monotonic() - started:.0f} s", flush=True)
    faulthandler.cancel_dump_traceback_later()
    player.shutdown()
    del app
    print(f"no hang in {utterances} utterances")
    return 0


if __name__ == "__main__":
    sys.exit(main())
