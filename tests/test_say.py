"""`voicedesk say` end to end: the CLI process against the emulator, heard at the monitor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.emulator.config import TEST_API_KEY
from tests.emulator.faults import Fault
from tests.emulator.server import Emulator
from tests.helpers.cli import cli_env, run_cli
from tests.helpers.heard import audible_seconds
from tests.helpers.pulse import OUT_RATE, PulseServer
from voicedesk.errors import EmptyTextError, NoOutputDeviceError, StreamInterruptedError

pytestmark = [pytest.mark.audio, pytest.mark.timeout(60)]

TEXT = "Hello from the command line."  # 60 ms of tone a character


def say(emulator: Emulator, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ELEVENLABS_API_KEY": TEST_API_KEY,
        "ELEVENLABS_BASE_URL": emulator.base_url,
        "QT_QPA_PLATFORM": "offscreen",
    }
    return subprocess.run(
        [sys.executable, "-m", "voicedesk", "say", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=45,
    )


def test_speaks_and_exits_0_after_the_last_sample(pulse: PulseServer, emulator: Emulator) -> None:
    with pulse.record_output() as capture:
        result = say(emulator, TEXT, "--stats")
        heard_at_exit = audible_seconds(capture.samples(), OUT_RATE)
    assert result.returncode == 0, result.stderr
    expected = len(TEXT) * 0.06
    # Everything had been played (and heard, give or take the monitor's lag) by the exit.
    assert abs(heard_at_exit - expected) < 0.05 * expected
    stats = json.loads(result.stderr.strip().splitlines()[-1])
    marks = ["request_sent", "first_byte", "first_pcm", "first_sample", "last_played"]
    assert [stats[m] for m in marks] == sorted(stats[m] for m in marks)
    # The wait split in parts: say opens a fresh connection, so connect is a real one.
    assert stats["connection_reused"] is False and stats["connect_ms"] >= 0
    parts = ["connect_ms", "request_to_first_byte_ms", "first_byte_to_first_sample_ms"]
    assert all(stats[p] >= 0 for p in parts)
    assert sum(stats[p] for p in parts) <= stats["first_sample_ms"] + 1  # 0.1 ms rounding each


def test_reads_stdin(pulse: PulseServer, emulator: Emulator) -> None:
    with pulse.record_output() as capture:
        result = say(emulator, "-", stdin=TEXT)
        assert capture.wait_for_sound(1)
    assert result.returncode == 0, result.stderr
    assert emulator.last("tts").json["text"] == TEXT


def test_empty_text_is_a_clear_error(emulator: Emulator) -> None:
    result = say(emulator, stdin="  \n")
    assert result.returncode != 0
    assert result.stderr.strip() == f"voicedesk: {EmptyTextError().message}"


def test_a_cut_stream_plays_what_arrived_then_fails(pulse: PulseServer, emulator: Emulator) -> None:
    emulator.faults.always("tts", Fault.cut(after=8000))  # about half a second of audio
    with pulse.record_output() as capture:
        result = say(emulator, TEXT * 2)
        heard = audible_seconds(capture.samples(), OUT_RATE)
    assert result.returncode != 0
    assert (
        result.stderr.strip().splitlines()[-1] == f"voicedesk: {StreamInterruptedError().message}"
    )
    assert 0.35 < heard < 0.65


def test_no_output_device_is_a_clear_error(tmp_path: Path, emulator: Emulator) -> None:
    env = cli_env(tmp_path, TEST_API_KEY, emulator.base_url)
    env["PULSE_SERVER"] = f"unix:{tmp_path / 'no-sound-server'}"  # nothing listens there
    result = run_cli("say", "hi", env=env, timeout=30)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"voicedesk: {NoOutputDeviceError().message}"
    assert "Traceback" not in result.stderr
    assert emulator.requests("tts") == []  # nothing was paid for
