"""The real window under Xvfb, driven with xdotool: type and hear it, hold F9 and be heard.

Screenshots go to test-artifacts/ (gitignored) for a human look at the layout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.emulator import TEST_API_KEY
from tests.helpers.xvfb import Desktop, speech_with_pauses, wait_for

pytestmark = [pytest.mark.gui, pytest.mark.audio, pytest.mark.timeout(90)]

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


def test_type_speak_and_push_to_talk(display, pulse, emulator, tmp_path):
    env = {
        **os.environ,
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "ELEVENLABS_API_KEY": TEST_API_KEY,
        "ELEVENLABS_BASE_URL": emulator.base_url,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("VOICEDESK_ENGINE", None)
    desk = Desktop(env, ARTIFACTS)

    app = subprocess.Popen(
        [sys.executable, "-m", "voicedesk"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        window = desk.find_window("^voicedesk$")
        emulator.wait_done("voices", timeout=10)

        with pulse.record_output() as heard:
            desk.xdotool("type", "--delay", "20", "Hello from the desktop.")
            desk.xdotool("key", "ctrl+Return")
            assert heard.wait_for_sound(15), "nothing was heard at the output"
            desk.screenshot("gui-speaking.png")
        assert "Hello from the desktop." in emulator.last("tts").body.decode()

        pcm = speech_with_pauses("testing one two three")
        desk.xdotool("keydown", "F9")
        wait_for(lambda: "Source Output #" in pulse.pactl("list", "source-outputs"), 10, "the mic")
        desk.screenshot("gui-listening.png")
        pulse.play_into_mic(pcm).wait(15)
        desk.xdotool("keyup", "F9")
        # Live words are on with a key: the take streamed over the realtime WebSocket.
        live = emulator.wait_done("realtime", timeout=15)
        assert live.audio is not None and len(live.audio) > 16_000  # a real recording, not a click
        assert live.commits == 1 and emulator.requests("stt") == []
        # The transcript itself is checked offscreen; here, wait for the window to repaint
        # with it (the history grows) before the screenshot.
        before = desk.grab(window)
        wait_for(lambda: desk.grab(window) != before, 10, "the window to show the transcript")
        desk.screenshot("gui-transcribed.png")

        desk.xdotool("key", "ctrl+q")
        assert app.wait(15) == 0
    finally:
        if app.poll() is None:
            app.kill()
        output = app.communicate(timeout=10)[0].decode(errors="replace")
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "gui-app-output.txt").write_text(output)
