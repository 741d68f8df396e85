"""The bundle's window under Xvfb: it opens with its icon, speaks offline, and Ctrl+Q exits 0."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers.pulse import PulseServer

pytestmark = [pytest.mark.package, pytest.mark.gui, pytest.mark.timeout(300)]


def test_window_opens_speaks_and_quits(
    bundle: Path, bundle_env: dict[str, str], pulse: PulseServer, display: str
) -> None:
    env = {**bundle_env, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}

    def x11(*args: str) -> str:
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    app = subprocess.Popen(
        [str(bundle / "voicedesk")],
        env=env, cwd=env["HOME"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        window = x11("xdotool", "search", "--sync", "--onlyvisible", "--name", "^voicedesk$")
        window = window.splitlines()[0]
        # The icon came from the bundle's resources (Qt sets it on the window for the WM).
        assert "_NET_WM_ICON(CARDINAL) =" in x11("xprop", "-id", window, "_NET_WM_ICON")
        x11("xdotool", "windowfocus", "--sync", window)
        with pulse.record_output() as heard:
            x11("xdotool", "type", "--delay", "20", "Hello from the packaged window.")
            x11("xdotool", "key", "ctrl+Return")
            assert heard.wait_for_sound(120), "nothing was heard at the output"
        x11("xdotool", "key", "ctrl+q")
        assert app.wait(30) == 0
    finally:
        if app.poll() is None:
            app.kill()
        output = app.communicate(timeout=10)[0].decode(errors="replace")
        print(output)  # shown by pytest when the test fails
