"""Soak benchmark (issue 10, item 5): 300 utterances back to back in one window through the
ElevenLabs emulator, then 50 with the offline voice; what the process holds after.

    .venv/bin/python bench/soak.py [--utterances 300] [--offline 50]

The window is the real one (offscreen) with the real Speaker, on a private PulseAudio server,
the emulator serving a short clip (50 ms) so the run measures the app, not the listening. Each
run warms up first (10 utterances: the sound server's connection, Qt's audio threads, the
engine's connection pool), collects garbage on the GUI thread, measures, speaks, lets
everything end, collects and measures again: resident memory (VmRSS), open descriptors,
Python threads and kernel tasks (the emulator's own threads and sockets left out).

Writes the table into docs/reliability.md between the soak markers.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from voicedesk import early_init  # noqa: E402

early_init.apply()  # as the app does first: telemetry off, switch interval
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DOC = REPO / "docs" / "reliability.md"
BEGIN, END = "<!-- soak:begin -->", "<!-- soak:end -->"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--utterances", type=int, default=300)
    parser.add_argument("--offline", type=int, default=50)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()

    from bench.sound import private_sound_server

    with private_sound_server():
        rows = _run(args.utterances, args.offline)
    table = _table(rows, args)
    print(table)
    if not args.no_write:
        _write(table)
    return 0 if all(_ok(r) for r in rows) else 1


def _ok(result) -> bool:  # type: ignore[no-untyped-def]
    b, a = result.before, result.after
    return (
        result.failed == 0
        and result.rss_growth < 10_000_000
        and a.fds <= b.fds
        and a.threads <= b.threads
        and a.tasks <= b.tasks
    )


def _run(utterances: int, offline: int) -> list:  # type: ignore[type-arg]
    import keyring
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from bench.tts import wait_until
    from tests.emulator.audio import AudioSpec
    from tests.emulator.config import TEST_API_KEY
    from tests.emulator.server import Emulator
    from tests.helpers.memory_keyring import MemoryKeyring
    from tests.helpers.soak import soak
    from tests.helpers.ui_fakes import StubRecorder
    from voicedesk.config import Settings
    from voicedesk.engines.factory import create_engine
    from voicedesk.ui.main_window import MainWindow
    from voicedesk.workers.collector import GuiThreadCollector
    from voicedesk.workers.speaker import Speaker
    from voicedesk.workers.transcribe import Transcriber

    app = QApplication.instance() or QApplication(sys.argv[:1])
    collector = GuiThreadCollector()  # as the app runs: collection on the GUI thread only
    keyring.set_keyring(MemoryKeyring())
    scratch = Path(tempfile.mkdtemp(prefix="vd-soak-"))
    store = QSettings(str(scratch / "voicedesk.ini"), QSettings.Format.IniFormat)

    def wait(condition: Callable[[], bool], seconds: float) -> None:
        wait_until(condition, seconds)

    def window_for(settings: Settings) -> MainWindow:
        engine = create_engine(settings)
        window = MainWindow(
            settings, Speaker(engine), Transcriber(engine), StubRecorder(),
            engine=engine, store=store, system_wide_hotkey=False, keyring_ok=True,
        )  # fmt: skip
        window.show()
        wait(window.picker.combo.isEnabled, 120)
        return window

    rows = []
    clip = AudioSpec(seconds_per_char=0.0, min_seconds=0.05)
    with Emulator(audio=clip) as emulator:
        settings = Settings(
            api_key=TEST_API_KEY, api_key_source="keyring",
            base_url=emulator.base_url, engine="elevenlabs",
        )  # fmt: skip
        window = window_for(settings)
        try:
            rows.append(soak(window, utterances, wait, "ElevenLabs (emulator)"))
        finally:
            window.shutdown()
            window.deleteLater()
    if offline:
        window = window_for(Settings(engine="local"))
        try:
            rows.append(soak(window, offline, wait, "offline (Piper)", timeout=120))
        finally:
            window.shutdown()
            window.deleteLater()
    collector.stop()
    del app
    return rows


def _table(rows: list, args: argparse.Namespace) -> str:  # type: ignore[type-arg]
    from tests.helpers.soak import HEADER

    load = os.getloadavg()[0]
    lines = [
        f"`.venv/bin/python bench/soak.py --utterances {args.utterances} --offline {args.offline}`"
        f" ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}, load average "
        f"{load:.1f} at the end)",
        "",
        HEADER,
        *(r.row() for r in rows),
        "",
        "Limits: RSS growth under 10 MB, no more descriptors, Python threads or kernel tasks "
        "than after the warm-up. The GUI stall is the longest gap between 20 ms heartbeat "
        'ticks on the GUI thread; "own" leaves out the time the machine gave the thread no '
        "CPU (schedstat run-queue wait), the wall figure is in brackets.",
    ]
    return "\n".join(lines)


def _write(table: str) -> None:
    text = DOC.read_text() if DOC.exists() else f"# Reliability\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n## Soak\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    DOC.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}")


if __name__ == "__main__":
    sys.exit(main())
