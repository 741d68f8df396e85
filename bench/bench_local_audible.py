"""Offline voice: Speak in the window → first audible sample at the sound server, model warm.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_local_audible.py [--runs 5]

The app's own window, built as `voicedesk` builds it, with no API key (so it speaks offline),
a private PulseAudio server with null sinks, and no config or keyring of the user's. Each
utterance: the text is put in the box, Ctrl+Enter is sent to it, and the time runs from that
key press to the first sample above 0.02 of full scale at the output's monitor, on one
`time.monotonic()` clock. Three ways to speak a text:

- **in the box, then Speak**: typed or pasted a while before the key press (the window has
  prepared its first words: after a paste at once, after typing in the first pause);
- **pasted, Speak 0.3 s later**: about as quick as a person goes from Ctrl+V to Ctrl+Enter;
- **pasted and spoken at once**: in the same instant, before the window could prepare anything
  (only a script does this; the worst case).

Before each of the last two, the engine's prepared words are another text's.

First sentences of 5 to 220 characters without a comma (as in `bench_local.py`). Prints a
Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from voicedesk import early_init  # noqa: E402

early_init.apply()  # as the app does first: telemetry off, switch interval
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench.bench_local import LONG_FIRST, OTHER_TEXT  # noqa: E402
from bench.sound import private_sound_server  # noqa: E402
from tests.helpers.pulse import PulseServer  # noqa: E402

TARGET_MS = 150
LOUD = 0.02
MODES = ("in the box, then Speak", "pasted, Speak 0.3 s later", "pasted and spoken at once")
QUICK_PERSON = 0.3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["XDG_CONFIG_HOME"] = home  # a first run: no settings, no key
        os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
        for name in ("ELEVENLABS_API_KEY", "ELEVENLABS_BASE_URL", "VOICEDESK_ENGINE"):
            os.environ.pop(name, None)
        os.chdir(home)  # no .env of the working directory's
        with private_sound_server() as pulse:
            return _run(pulse, args.runs)


def _run(pulse: PulseServer, runs: int) -> int:
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from voicedesk.audio.capture.recorder import Recorder
    from voicedesk.config import load_settings
    from voicedesk.engines.factory import create_engine
    from voicedesk.ui.main_window import MainWindow
    from voicedesk.workers import threads
    from voicedesk.workers.speaker import Speaker
    from voicedesk.workers.transcribe import Transcriber

    app = QApplication.instance() or QApplication([])
    settings = load_settings()
    start = create_engine(settings, "local")  # as `voicedesk` starts: the window then
    window = MainWindow(settings, Speaker(start), Transcriber(start), Recorder(None))
    window.show()
    engine = window.engines.engine  # ... makes the engine it speaks with (no key: offline)
    assert engine is not None and engine.name == "local", "no key: the window speaks offline"
    box = window.panel.box
    plan = [("Warm up.", MODES[0])] + [
        (text, mode) for text in LONG_FIRST for _ in range(runs) for mode in MODES
    ]
    times: dict[tuple[int, str], list[float]] = {}
    state: dict[str, float] = {}

    def step() -> None:
        now = time.monotonic()
        if "pressed" in state:  # an utterance under way: wait for its first sound, then stop
            heard = capture.first_sound_time(LOUD, since=state["pressed"])
            if heard is None and now < state["pressed"] + 20:
                return
            text, mode = plan.pop(0)
            if text != "Warm up.":
                found = (heard - state["pressed"]) * 1000 if heard is not None else float("nan")
                times.setdefault((len(text), mode), []).append(found)
            window.stop()
            state.clear()
            state["calm"] = now + 0.3
            return
        busy = "pasted" not in state and (
            threads.pool().activeThreadCount()
            or window.first_words.pending
            or not engine.tts_loaded  # type: ignore[attr-defined]  # the start-up's preload
        )
        if busy or now < state.get("calm", 0.0):
            if busy:  # the last utterance's synthesis is still ending: let it, idle
                state["calm"] = now + 0.3
            return
        if not plan:
            app.exit(0)
            return
        text, mode = plan[0]
        if mode == MODES[0] and box.toPlainText() != text:
            box.setPlainText(text)  # prepared (at once: a paste) before the next step
            return
        if mode == MODES[1] and "pasted" not in state:
            engine.prepare_first_words(OTHER_TEXT)  # type: ignore[attr-defined]
            box.setPlainText(text)
            state["pasted"] = time.monotonic()
            return
        if mode == MODES[1] and now < state["pasted"] + QUICK_PERSON:
            return
        if mode == MODES[2]:
            engine.prepare_first_words(OTHER_TEXT)  # type: ignore[attr-defined]
            box.setPlainText(text)
        state["pressed"] = time.monotonic()
        QTest.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    ticker = QTimer()
    ticker.timeout.connect(step)
    with pulse.record_output() as capture:  # one recording for the whole run
        ticker.start(20)
        app.exec()
        ticker.stop()
    window.shutdown()
    window.deleteLater()
    threads.shutdown_pool()
    load = os.getloadavg()[0]
    print(f"`QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_local_audible.py --runs {runs}`"
          f", load average {load:.1f}. Median (range) of {runs} runs.\n")  # fmt: skip
    print("| first sentence (chars) | " + " | ".join(MODES) + " | target |")
    print("|---|" + "---|" * len(MODES) + "---|")
    for text in LONG_FIRST:
        cells = []
        for mode in MODES:
            found = [t for t in times.get((len(text), mode), []) if t == t]
            if found:
                cells.append(f"**{statistics.median(found):.0f} ms** "
                             f"({min(found):.0f}–{max(found):.0f})")  # fmt: skip
            else:
                cells.append("no sound within 20 s")
        print(f"| {len(text)} | " + " | ".join(cells) + f" | ≤ {TARGET_MS} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
