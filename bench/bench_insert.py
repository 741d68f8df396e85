"""Typing into another application: transcript ready → words visible in that application.

    .venv/bin/python bench/bench_insert.py [--runs 5]

Under a private Xvfb, with another Qt program's text field focused (tests/helpers/text_target.py,
which reports its text on request). For each method (paste: clipboard saved, Ctrl+V, clipboard
put back; type: XTest key by key, spare keycodes remapped for characters the layout lacks):

- visible: `Inserter.insert()` → the whole text in the other program's field (its report's
  round trip included, a few ms);
- done: `Inserter.insert()` → `inserted` (for paste, after the bounded wait before the user's
  clipboard goes back).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TEXTS = {
    "ascii, 120 chars": ("The quick brown fox jumps over the lazy dog while the five boxing "
                         "wizards jump quickly; pack my box with liquor jugs."),
    "unicode, 40 chars": "Grüße aus Köln, ça va? Ωμέγα — 日本語 OK!",
}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("Xvfb") is None:
        print("Xvfb is not installed")
        return 1
    from tests.helpers.processes import LineProcess

    number = next(n for n in range(150, 250) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    xvfb = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.environ.update(DISPLAY=f":{number}", QT_QPA_PLATFORM="xcb", XDG_SESSION_TYPE="x11")
    os.environ.pop("WAYLAND_DISPLAY", None)
    target = None
    try:
        while not Path(f"/tmp/.X11-unix/X{number}").exists():
            time.sleep(0.05)  # a benchmark's start-up, not a test's wait
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        target = LineProcess([sys.executable, "-m", "tests.helpers.text_target"], env)
        target.expect("ready", timeout=120)
        search = ["xdotool", "search", "--sync", "--onlyvisible", "--name", "^text target$"]
        found = subprocess.run(search, capture_output=True, text=True, env=env, timeout=30)
        window = found.stdout.split()[0]
        subprocess.run(["xdotool", "windowfocus", "--sync", window], env=env, check=True)

        from PySide6.QtCore import QEventLoop
        from PySide6.QtWidgets import QApplication

        from voicedesk.insert.inserter import Inserter

        app = QApplication([])
        inserter = Inserter()
        done: list[float] = []
        inserter.inserted.connect(lambda _how: done.append(time.monotonic()))
        expected = ""

        def visible() -> str:
            # Our event loop keeps running while we wait: the target reads the clipboard from
            # us (paste) before it can answer.
            target.send("text")
            while True:
                app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
                try:
                    line = target.lines.get_nowait()
                except queue.Empty:
                    continue
                if line.startswith("{"):
                    return json.loads(line)["text"]

        print(f"Xvfb, {args.runs} runs each, median (min–max) in ms")
        print(f"{'method':<7} {'text':<18} {'visible':>22} {'done':>22}")
        for method in ("paste", "type"):
            for label, text in TEXTS.items():
                seen, finished = [], []
                for _ in range(args.runs):
                    expected += text
                    done.clear()
                    start = time.monotonic()
                    inserter.insert(text, method)
                    while visible() != expected:
                        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
                    seen.append((time.monotonic() - start) * 1000)
                    while not done:
                        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
                    finished.append((done[0] - start) * 1000)

                def cell(values: list[float]) -> str:
                    return (f"{statistics.median(values):.0f} "
                            f"({min(values):.0f}–{max(values):.0f})")  # fmt: skip

                print(f"{method:<7} {label:<18} {cell(seen):>22} {cell(finished):>22}")
        return 0
    finally:
        if target is not None:
            target.close()
        xvfb.terminate()
        try:
            xvfb.wait(10)
        except subprocess.TimeoutExpired:
            xvfb.kill()
            xvfb.wait(10)


if __name__ == "__main__":
    sys.exit(main())
