"""The command line at the edges of its input: bytes that aren't UTF-8, bad numbers, silence,
text over the limit. Each through `python -m voicedesk` as a user runs it."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.emulator.config import TEST_API_KEY
from tests.emulator.server import Emulator
from tests.helpers.cli import cli_env, run_cli
from tests.helpers.pulse import PulseServer
from tests.test_recorder import FakeSoundDevice
from voicedesk.audio.capture.mic_capture import DEFAULT_MAX_SECONDS, MicCapture
from voicedesk.cli import MAX_LISTEN_SECONDS
from voicedesk.commands import listen
from voicedesk.errors import NothingHeardError
from voicedesk.text import MAX_TEXT_CHARS

pytestmark = [pytest.mark.timeout(120)]

LATIN_1 = "Café crème, s'il vous plaît.".encode("latin-1")


def run_bytes(
    args: list[str | bytes], env: dict[str, str], stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    """`voicedesk ARGS` with raw bytes in and out (argv bytes go to the process as they are)."""
    cwd = Path(env["HOME"])
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "voicedesk", *args],
        env=env, cwd=cwd, input=stdin, capture_output=True, timeout=100,
    )  # fmt: skip


def one_line(stderr: bytes) -> str:
    text = stderr.decode()
    assert "Traceback" not in text
    assert text.count("\n") <= 1, text
    return text.strip()


# --- text that is not UTF-8 -------------------------------------------------------------------


@pytest.mark.audio
def test_latin1_stdin_and_a_stray_argv_byte_reach_elevenlabs_as_replacement_characters(
    tmp_path: Path, pulse: PulseServer, emulator: Emulator
) -> None:
    env = cli_env(tmp_path, TEST_API_KEY, emulator.base_url)
    piped = run_bytes(["say", "-"], env, stdin=LATIN_1)
    assert piped.returncode == 0, one_line(piped.stderr)
    assert piped.stderr == b""
    assert emulator.last("tts").json["text"] == "Caf\ufffd cr\ufffdme, s'il vous pla\ufffdt."
    argv = run_bytes(["say", b"Hello \xff there."], env)
    assert argv.returncode == 0, one_line(argv.stderr)
    assert emulator.last("tts").json["text"] == "Hello \ufffd there."


@pytest.mark.audio
@pytest.mark.slow
def test_latin1_stdin_and_a_stray_argv_byte_are_spoken_offline(
    tmp_path: Path, pulse: PulseServer
) -> None:
    env = cli_env(tmp_path)  # no key: the offline voice
    with pulse.record_output() as heard:
        piped = run_bytes(["say", "-"], env, stdin=LATIN_1)
        assert piped.returncode == 0, one_line(piped.stderr)
        assert heard.wait_for_sound(5)
    assert piped.stderr == b""
    argv = run_bytes(["say", b"Hello \xff\x07 there."], env)
    assert argv.returncode == 0, one_line(argv.stderr)
    assert argv.stderr == b""


# --- listen --seconds -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("inf", "not a finite number"),
        ("nan", "not a finite number"),
        ("0", "more than 0 seconds"),
        ("-1", "more than 0 seconds"),
        ("301", "at most 300 seconds"),
        ("soon", "not a number"),
    ],
)
def test_listen_seconds_must_be_positive_finite_and_within_the_cap(
    tmp_path: Path, value: str, problem: str
) -> None:
    result = run_cli("listen", f"--seconds={value}", env=cli_env(tmp_path), input="")
    assert result.returncode == 2  # argparse's usage error
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "--seconds" in last and problem in last and repr(value) in last


def test_the_seconds_cap_is_the_recorders() -> None:
    assert MAX_LISTEN_SECONDS == DEFAULT_MAX_SECONDS


def test_seconds_count_from_the_first_block_not_from_opening() -> None:
    # A device that takes a while to deliver its first block (1.26 s was seen on a real one).
    # The real sound server can't be made that slow on demand; the sounddevice stand-in can.
    late = 0.6
    sd = FakeSoundDevice()
    block = np.zeros(160, dtype="<i2").tobytes()  # 10 ms at 16 kHz
    first_at: list[float] = []
    done = threading.Event()

    def device() -> None:
        # The device's own pace, not a wait for a result: first block `late` s after opening,
        # then a block every 10 ms until the take is over.
        pacing = threading.Event()
        pacing.wait(late)
        while not done.is_set() and sd.streams:
            if not first_at:
                first_at.append(time.monotonic())
            sd.streams[-1].kwargs["callback"](block, 160, None, None)
            pacing.wait(0.01)

    capture = MicCapture(sd=sd, min_seconds=0.01)  # type: ignore[arg-type]
    stop = threading.Event()
    feeder = threading.Thread(target=device)
    started = time.monotonic()
    original_start = MicCapture.start

    def start_and_feed(self: MicCapture, listener: object = None) -> None:
        original_start(self, listener)  # type: ignore[arg-type]
        feeder.start()

    seconds = 0.3
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(MicCapture, "start", start_and_feed)
            pcm = listen._record(capture, stop, seconds, None)
        ended = time.monotonic()
    finally:
        done.set()
        feeder.join(5)
    assert first_at and first_at[0] - started >= late
    # The take lasted `seconds` of audio after the first block, not `seconds` after opening
    # (which would have ended it before any audio came).
    assert ended - first_at[0] >= seconds
    assert len(pcm) > 0


# --- silence ----------------------------------------------------------------------------------


@pytest.mark.audio
@pytest.mark.slow
def test_offline_listen_on_silence_says_nothing_was_heard(
    tmp_path: Path, pulse: PulseServer
) -> None:
    result = run_cli("listen", "--seconds", "1", "--engine", "local", env=cli_env(tmp_path))
    assert result.returncode == listen.EXIT_NOTHING_HEARD == 3
    assert result.stdout == ""
    assert result.stderr == f"voicedesk: {NothingHeardError().message}\n"


# --- text over the limit ----------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["local", "elevenlabs"])
def test_text_over_the_limit_is_refused_before_any_work(
    tmp_path: Path, engine: str, emulator: Emulator
) -> None:
    env = cli_env(tmp_path, TEST_API_KEY, emulator.base_url)
    text = "word " * (MAX_TEXT_CHARS // 5) + "x"
    started = time.monotonic()
    result = run_cli("say", "--engine", engine, "-", env=env, input=text)
    took = time.monotonic() - started
    assert result.returncode == 1
    assert result.stderr == (
        "voicedesk: The text is too long to speak: 1,000,001 characters; the limit is "
        "1,000,000. Speak it in parts.\n"
    )
    assert emulator.requests("tts") == []
    assert took < 60  # no model was loaded, nothing synthesised (a loose bound under load)


def test_an_endless_pipe_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "voicedesk", "say", "-"], env=env, cwd=tmp_path,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdin is not None
    chunk = b"word " * 20_000
    try:
        while proc.poll() is None:  # write until voicedesk stops reading
            proc.stdin.write(chunk)
    except BrokenPipeError:
        pass
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert err.decode().startswith("voicedesk: The text is too long to speak: over 4,000,000")
