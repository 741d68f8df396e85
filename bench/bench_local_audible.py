"""Offline voice: Speak → first audible sample at the sound server, model warm.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_local_audible.py [--runs 5]

The window's path below the widgets: `Speaker.speak(text)` → `SpeakWorker` → `LocalEngine` →
`Player` (QAudioSink) → the private PulseAudio server's null sink, whose monitor is recorded;
the time is from the `speak` call to the first sample above 0.02 at the monitor, on one
`time.monotonic()` clock. First sentences of 5 to 200 characters without a comma (as in
`bench_local.py`). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from voicedesk import early_init  # noqa: E402

early_init.apply()  # as the app does first: telemetry off, switch interval
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench.bench_local import LONG_FIRST  # noqa: E402
from bench.sound import private_sound_server  # noqa: E402
from tests.helpers.pulse import PulseServer  # noqa: E402

TARGET_MS = 150


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with private_sound_server() as pulse:
        return _run(pulse, args.runs)


def _run(pulse: PulseServer, runs: int) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication

    from voicedesk.engines.local import LocalEngine
    from voicedesk.workers.speaker import Speaker

    app = QGuiApplication.instance() or QGuiApplication([])
    engine = LocalEngine()
    engine.preload(stt=False)
    speaker = Speaker(engine)
    # One event loop for the whole run, as the app has: leaving `app.exec()` between utterances
    # and entering it again left the second utterance's sink silent (the Speaker stayed busy).
    plan = [("Warm up.", None)] + [(text, len(text)) for text in LONG_FIRST for _ in range(runs)]
    times: dict[int, list[float]] = {len(text): [] for text in LONG_FIRST}
    state: dict[str, object] = {}

    def step() -> None:
        heard = state.get("heard")
        if heard is not None:  # an utterance under way: wait for its first sound, then stop
            first = heard.first_sound_time()  # type: ignore[attr-defined]
            if first is None and time.monotonic() < state["deadline"]:  # type: ignore[operator]
                return
            if state["length"] is not None and first is not None:
                times[state["length"]].append((first - state["started"]) * 1000)  # type: ignore[index,operator]
            speaker.stop()
            state["recording"].__exit__(None, None, None)  # type: ignore[attr-defined]
            state.clear()
            return
        if speaker.is_busy():
            return
        if not plan:
            app.exit(0)
            return
        text, length = plan.pop(0)
        recording = pulse.record_output()
        state.update(recording=recording, heard=recording.__enter__(), length=length)
        state["started"] = time.monotonic()
        state["deadline"] = state["started"] + 20  # type: ignore[operator]
        speaker.speak(text)

    ticker = QTimer()
    ticker.timeout.connect(step)
    ticker.start(5)
    app.exec()
    ticker.stop()
    rows = [(length, found) for length, found in times.items()]
    speaker.shutdown()
    engine.close()
    load = os.getloadavg()[0]
    print(f"`QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_local_audible.py --runs {runs}`"
          f", load average {load:.1f}.\n")  # fmt: skip
    print("| first sentence (chars) | Speak → first audible sample, median | range | target |")
    print("|---|---|---|---|")
    for length, times in rows:
        if times:
            print(f"| {length} | **{statistics.median(times):.0f} ms** | "
                  f"{min(times):.0f}–{max(times):.0f} ms | ≤ {TARGET_MS} ms |")  # fmt: skip
        else:
            print(f"| {length} | no sound within 20 s | | ≤ {TARGET_MS} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
