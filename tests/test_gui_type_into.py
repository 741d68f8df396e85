"""Hold F9 in another application and the words land there (Xvfb, real keys through xdotool).

The other application is a small Qt program (tests/helpers/text_target.py) whose text field
has the focus and who put text, HTML and a PNG on the clipboard. voicedesk hears the key
system-wide (pynput on X11), records the virtual microphone, and inserts the emulator's
transcript: pasting (the clipboard is put back as it was) or typing through XTest (Unicode
through remapped spare keycodes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.processes import LineProcess
from tests.helpers.xvfb import speech_with_pauses
from tests.helpers.xvfb import wait_for as _wait

pytestmark = [pytest.mark.gui, pytest.mark.audio, pytest.mark.timeout(360)]
ROOT = Path(__file__).resolve().parent.parent
TRANSCRIPT = "Grüße aus Köln, ça va? Ωμέγα — 日本語 OK"


def _config(tmp_path: Path, method: str) -> Path:
    folder = tmp_path / "config" / "voicedesk"
    folder.mkdir(parents=True)
    (folder / "voicedesk.ini").write_text(
        # Batch: this test counts the scribe_v2 request (live words are test_live.py's).
        f"[ptt]\ntype_into_focused=true\ninsert_method={method}\nlive_transcript=false\n"
    )
    return tmp_path / "config"


@pytest.mark.parametrize("method", ["paste", "type"])
@pytest.mark.emulator(transcript=TRANSCRIPT)
def test_words_land_in_the_focused_application(display, pulse, emulator, tmp_path, method):
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {
        **os.environ,
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "ELEVENLABS_API_KEY": "sk_test_0123456789abcdef",
        "ELEVENLABS_BASE_URL": emulator.base_url,
        "XDG_CONFIG_HOME": str(_config(tmp_path, method)),
        "XDG_RUNTIME_DIR": str(runtime),
        "PYTHONPATH": str(ROOT),
    }
    for name in ("VOICEDESK_ENGINE", "VOICEDESK_HOTKEY_SOURCE", "WAYLAND_DISPLAY"):
        env.pop(name, None)
    env["XDG_SESSION_TYPE"] = "x11"

    def xdotool(*args: str, timeout: float = 20) -> str:
        done = subprocess.run(
            ["xdotool", *args], env=env, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    app = LineProcess([sys.executable, "-m", "voicedesk"], env)
    target = LineProcess([sys.executable, "-m", "tests.helpers.text_target"], env)
    try:
        # Upper bounds for start-up, generous: a loaded machine takes a minute to start Python+Qt.
        xdotool("search", "--sync", "--onlyvisible", "--name", "^voicedesk$", timeout=150)
        before = json.loads(target.expect("ready", timeout=150).removeprefix("ready "))
        assert set(before) == {"text/plain", "text/html", "image/png"}
        window = xdotool("search", "--sync", "--onlyvisible", "--name", "^text target$", timeout=60)
        xdotool("windowfocus", "--sync", window)
        emulator.wait_done("voices", timeout=60)

        xdotool("keydown", "F9")
        _wait(lambda: "Source Output #" in pulse.pactl("list", "source-outputs"), 15, "the mic")
        pulse.play_into_mic(speech_with_pauses("testing one two three")).wait(15)
        xdotool("keyup", "F9")
        emulator.wait_done("stt", timeout=20)

        def state() -> dict:
            target.send("dump")
            return json.loads(target.expect("{"))

        _wait(lambda: state()["text"] == TRANSCRIPT, 20, "the transcript in the other app")
        assert len(emulator.requests("stt")) == 1
        # The user's clipboard is back, every format of it (pasting borrowed it).
        _wait(lambda: state()["clipboard"] == before, 10, "the clipboard put back")
        # No modifier left down: a plain key now types a plain letter.
        xdotool("key", "x")
        _wait(lambda: state()["text"] == TRANSCRIPT + "x", 10, "a plain x after")
    finally:
        target.close()
        app.close()
        print("\n".join(app.output()[-40:]))
