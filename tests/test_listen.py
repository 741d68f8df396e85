"""`voicedesk listen` as a user runs it: a subprocess on the private sound server and emulator."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.emulator.config import TEST_API_KEY
from tests.emulator.server import Emulator
from tests.helpers.cli import REPO, cli_env, run_cli
from tests.helpers.pulse import PulseServer
from tests.test_recorder import (  # noqa: F401 (live_mic is a fixture)
    espeak_pcm,
    live_mic,
    play_and_wait,
    record_faithfully,
    similarity,
)

pytestmark = [pytest.mark.audio, pytest.mark.timeout(60)]
RATE = 16_000


@contextmanager
def watching_the_microphone(pulse: PulseServer) -> Iterator[Callable[[int], None]]:
    """`pactl subscribe` from the start of the `with`; yields `wait_for(pid)`, which returns
    once process `pid` has connected a recording stream to the server (event-driven).

    Other recorders (the `parec` that checks what the microphone heard) come and go too:
    each new stream is looked up to see whose it is.
    """
    env = {**os.environ, **pulse.env}
    watcher = subprocess.Popen(
        ["pactl", "subscribe"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
    )  # fmt: skip
    assert watcher.stdout is not None
    events = watcher.stdout

    def owner(index: str) -> str | None:
        listing = subprocess.run(
            ["pactl", "list", "source-outputs"], env=env, capture_output=True, text=True
        ).stdout
        for block in listing.split("\n\n"):
            if block.startswith(f"Source Output #{index}\n"):
                found = re.search(r'application\.process\.id = "(\d+)"', block)
                return found[1] if found else None
        return None

    def wait_for(pid: int) -> None:
        for line in events:
            found = re.search(r"'new' on source-output #(\d+)", line)
            if found and owner(found[1]) == str(pid):
                return
        pytest.fail(f"process {pid} never connected to the microphone")

    try:
        yield wait_for
    finally:
        watcher.terminate()
        watcher.wait(5)


def listen_to(
    pulse: PulseServer, env: dict[str, str], clip: bytes, *options: str
) -> tuple[int, str, str]:
    """One `voicedesk listen [options]` take, as a user makes it: started, `clip` played into
    the microphone once the process records, then Enter. Its exit status, stdout and stderr."""
    with watching_the_microphone(pulse) as wait_for_recording:
        proc = subprocess.Popen(
            [sys.executable, "-m", "voicedesk", "listen", *options], env=env, cwd=REPO,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            wait_for_recording(proc.pid)
        except BaseException:
            proc.kill()
            proc.wait(5)
            raise
    try:
        play_and_wait(pulse, clip)
        out, err = proc.communicate("\n", timeout=30)  # Enter stops the recording
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    return proc.returncode, out, err


def test_listen_prints_the_transcript_of_what_was_said(
    tmp_path: Path,
    live_mic: PulseServer,  # noqa: F811
    emulator: Emulator,
) -> None:
    emulator.configure(transcript="the quick brown fox jumps over the lazy dog")
    env = cli_env(tmp_path, TEST_API_KEY, emulator.base_url)
    # The stream is created a moment before it runs: a lead-in keeps that moment silent.
    clip = espeak_pcm("The quick brown fox jumps over the lazy dog.", lead_seconds=0.5)
    sent_before = 0

    def take() -> bytes:
        nonlocal sent_before
        returncode, out, err = listen_to(live_mic, env, clip)
        assert returncode == 0, err
        assert out == "the quick brown fox jumps over the lazy dog\n"
        assert err == ""
        requests = emulator.requests("stt")
        assert len(requests) == sent_before + 1  # one request a take
        sent_before = len(requests)
        request = requests[-1]
        assert request.form["model_id"] == "scribe_v2"
        assert request.form["file_format"] == "pcm_s16le_16"
        assert request.form["language_code"] == "en"
        assert request.audio is not None
        return request.audio

    audio = record_faithfully(live_mic, clip, take)
    assert similarity(audio, clip) > 0.9


def test_listen_for_seconds_ignores_an_empty_stdin(
    tmp_path: Path, pulse: PulseServer, emulator: Emulator
) -> None:
    env = cli_env(tmp_path, TEST_API_KEY, emulator.base_url)
    result = run_cli("listen", "--seconds", "1", "--language", "de", env=env, input="")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello from the emulator\n"
    (request,) = emulator.requests("stt")
    assert request.form["language_code"] == "de"
    assert request.audio is not None
    # Silence is left whole: a second of it (the take starts once the stream is open).
    assert abs(len(request.audio) / (2 * RATE) - 1.0) < 0.1


def test_too_short_sends_nothing(tmp_path: Path, pulse: PulseServer, emulator: Emulator) -> None:
    env = cli_env(tmp_path, TEST_API_KEY, emulator.base_url)
    result = run_cli("listen", "--seconds", "0.1", env=env, input="")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "voicedesk: The recording was too short (under 0.3 s).\n"
    assert emulator.requests("stt") == []


def test_no_input_device(tmp_path: Path, pulse: PulseServer, emulator: Emulator) -> None:
    env = cli_env(tmp_path, TEST_API_KEY, emulator.base_url)
    env["PULSE_SERVER"] = f"unix:{tmp_path / 'no-such-socket'}"  # a sound server that is gone
    result = run_cli("listen", "--seconds", "1", env=env, input="")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("voicedesk: No microphone was found.")
    assert result.stderr.count("\n") == 1
    assert emulator.requests("stt") == []


def test_stt_failure_is_one_line(tmp_path: Path, pulse: PulseServer, emulator: Emulator) -> None:
    env = cli_env(tmp_path, "sk_wrong_key", emulator.base_url)
    result = run_cli("listen", "--seconds", "0.5", env=env, input="")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("voicedesk: ") and result.stderr.count("\n") == 1
    assert "API key" in result.stderr and "sk_wrong_key" not in result.stderr
