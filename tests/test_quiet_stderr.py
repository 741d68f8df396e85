"""Native libraries' chatter during device probing stays off the user's terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers.cli import cli_env


def test_c_level_writes_to_fd_2_are_silenced_and_python_errors_still_show(
    tmp_path: Path,
) -> None:
    script = (
        "import os, sys\n"
        "from voicedesk.audio.capture.quiet_stderr import quiet_native_stderr\n"
        "with quiet_native_stderr():\n"
        "    os.write(2, b'ALSA lib pcm.c: Unknown PCM\\n')\n"
        "print('after', file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=cli_env(tmp_path), capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stderr == "after\n"


def test_listen_without_a_sound_server_prints_one_clean_line(tmp_path: Path) -> None:
    env = {**cli_env(tmp_path), "PULSE_SERVER": f"unix:{tmp_path}/no-such-socket"}
    result = subprocess.run(
        [sys.executable, "-m", "voicedesk", "listen", "--seconds", "1", "--engine", "local"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("voicedesk: ")
