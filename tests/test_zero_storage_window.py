"""No audio touches the disk in a whole window session (issue 10, item 7), traced at the
syscall level as `say` and `listen` are in tests/test_zero_storage.py.

The window runs as a user starts it (`python -m voicedesk`) under `strace -f`, on Xvfb, driven
with real keys through xdotool: type and Ctrl+Enter (heard at the sound server), hold F9 while
speech plays into the virtual microphone, Ctrl+, then change the speed and Save, Ctrl+Q.
Every file created or opened for writing must be a device, /proc, the sound server's runtime
files or the settings directory.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.emulator.config import TEST_API_KEY
from tests.emulator.server import Emulator
from tests.helpers.cli import cli_env
from tests.helpers.pulse import PulseServer
from tests.helpers.storage import disallowed_writes, strace_prefix, writes
from tests.helpers.xvfb import Desktop, speech_with_pauses, wait_for

pytestmark = [
    pytest.mark.gui,
    pytest.mark.audio,
    pytest.mark.timeout(180),
    pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed"),
]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def test_a_whole_window_session_writes_nothing_but_settings(
    display: str, pulse: PulseServer, emulator: Emulator, tmp_path: Path
) -> None:
    env = {
        **cli_env(tmp_path, TEST_API_KEY, emulator.base_url),
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "PYTHONDONTWRITEBYTECODE": "1",  # .pyc files are not ours to judge here
    }
    home = Path(env["HOME"])
    home.mkdir(parents=True, exist_ok=True)
    Path(env["XDG_CONFIG_HOME"]).mkdir()  # as ~/.config is there for a user
    settings_dir = Path(env["XDG_CONFIG_HOME"]) / "voicedesk"
    trace = tmp_path / "trace.txt"
    desk = Desktop(env, ARTIFACTS)
    app = subprocess.Popen(
        [*strace_prefix(trace), sys.executable, "-m", "voicedesk"],
        env=env, cwd=home, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,  # so a failure can end strace and the app it traces together
    )  # fmt: skip
    try:
        desk.find_window("^voicedesk$")
        emulator.wait_done("voices", timeout=30)

        # Speak.
        with pulse.record_output() as heard:
            desk.xdotool("type", "--delay", "20", "Nothing of this is kept.")
            desk.xdotool("key", "ctrl+Return")
            assert heard.wait_for_sound(30), "nothing was heard at the output"
        assert "Nothing of this is kept." in emulator.last("tts").body.decode()

        # Push to talk.
        desk.xdotool("keydown", "F9")
        wait_for(lambda: "Source Output #" in pulse.pactl("list", "source-outputs"), 20, "the mic")
        pulse.play_into_mic(speech_with_pauses("testing one two three")).wait(20)
        desk.xdotool("keyup", "F9")
        # Live words are on with a key: the take streams over the realtime WebSocket.
        live = emulator.wait_done("realtime", timeout=30)
        assert live.audio is not None and len(live.audio) > 16_000

        # Settings: change the speed (Alt+P is its label's mnemonic), Save with Enter.
        desk.xdotool("key", "ctrl+comma")
        desk.find_window("^voicedesk settings$")
        desk.xdotool("key", "alt+p", "Up", "Return")
        ini = settings_dir / "voicedesk.ini"
        wait_for(lambda: ini.is_file() and "speed=" in ini.read_text(), 20, "the settings saved")

        desk.find_window("^voicedesk$")
        desk.xdotool("key", "ctrl+q")
        assert app.wait(30) == 0
    finally:
        if app.poll() is None:
            os.killpg(app.pid, signal.SIGKILL)
        output = app.communicate(timeout=30)[0].decode(errors="replace")
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "window-session-output.txt").write_text(output)

    assert any(settings_dir.as_posix() in p for w in writes(trace) for p in w.paths)  # seen
    # The base URL came from the environment: used, never saved.
    assert emulator.base_url not in ini.read_text()
    assert disallowed_writes(trace, [pulse.runtime_dir, settings_dir]) == []
