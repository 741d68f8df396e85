"""No audio ever touches the disk: `say` and `listen` traced at the syscall level.

Each command runs under `strace -f`; every file it (or any thread or child) creates, opens
for writing, renames or links must be a device, /proc, PulseAudio's runtime files or the
settings directory. A temporary WAV, a cache or a saved recording would show up here.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.emulator.config import TEST_API_KEY
from tests.emulator.server import Emulator
from tests.helpers.cli import cli_env, run_cli
from tests.helpers.pulse import PulseServer
from tests.helpers.storage import disallowed_writes, strace_prefix

pytestmark = [
    pytest.mark.audio,
    pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed"),
]


def _traced(tmp_path: Path, pulse: PulseServer, *args: str, env: dict[str, str], **kw: object):
    trace = tmp_path / "trace.txt"
    env = {**env, "PYTHONDONTWRITEBYTECODE": "1"}  # .pyc files are not ours to judge here
    result = run_cli(*args, env=env, prefix=strace_prefix(trace), **kw)  # type: ignore[arg-type]
    allowed = [pulse.runtime_dir, Path(env["XDG_CONFIG_HOME"]) / "voicedesk"]
    return result, disallowed_writes(trace, allowed)


def test_say_with_elevenlabs_writes_nothing(
    tmp_path: Path, pulse: PulseServer, emulator: Emulator
) -> None:
    env = cli_env(tmp_path, TEST_API_KEY, emulator.base_url)
    result, bad = _traced(tmp_path, pulse, "say", "Nothing of this is kept.", env=env)
    assert result.returncode == 0, result.stderr
    assert emulator.requests("tts"), "the speech came from the emulator"
    assert bad == []


def test_say_offline_writes_nothing(tmp_path: Path, pulse: PulseServer) -> None:
    result, bad = _traced(tmp_path, pulse, "say", "Offline and private.", env=cli_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert bad == []


def test_listen_with_elevenlabs_writes_nothing(
    tmp_path: Path, pulse: PulseServer, emulator: Emulator
) -> None:
    env = cli_env(tmp_path, TEST_API_KEY, emulator.base_url)
    tone = (b"\x00\x40\x00\xc0" * 4000) * 4  # 1 s of a loud square wave at 16 kHz
    player = pulse.play_into_mic(tone)
    result, bad = _traced(tmp_path, pulse, "listen", "--seconds", "1.5", env=env)
    player.wait(10)
    assert result.returncode == 0, result.stderr
    assert emulator.requests("stt"), "the recording went to the emulator"
    assert bad == []


def test_listen_live_writes_nothing(tmp_path: Path, pulse: PulseServer, emulator: Emulator) -> None:
    """Live words: the audio goes over the WebSocket as it is recorded, and stays in RAM."""
    env = cli_env(tmp_path, TEST_API_KEY, emulator.base_url)
    tone = (b"\x00\x40\x00\xc0" * 4000) * 4  # 1 s of a loud square wave at 16 kHz
    player = pulse.play_into_mic(tone)
    result, bad = _traced(tmp_path, pulse, "listen", "--live", "--seconds", "1.5", env=env)
    player.wait(10)
    assert result.returncode == 0, result.stderr
    (session,) = emulator.requests("realtime")
    assert session.audio, "the recording streamed to the emulator"
    assert emulator.requests("stt") == []  # the live transcript, no batch fallback
    assert bad == []


def test_the_checker_sees_a_temporary_file(tmp_path: Path, pulse: PulseServer) -> None:
    """The trace really catches what we forbid: a program that writes a temp WAV fails it."""
    trace = tmp_path / "trace.txt"
    script = "import tempfile; tempfile.NamedTemporaryFile(suffix='.wav').write(b'RIFF')"
    import subprocess
    import sys

    subprocess.run([*strace_prefix(trace), sys.executable, "-c", script], check=True,
                   env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})  # fmt: skip
    bad = disallowed_writes(trace, [pulse.runtime_dir])
    assert any(".wav" in line for line in bad)
