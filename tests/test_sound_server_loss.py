"""The sound server dies and comes back: `say`, `listen` and the window (each in a process of
its own, on a private server that the test kills and restarts at the same socket path).

Before: the window aborted in Qt's PulseAudio backend on the next Speak (SIGABRT, history
lost); a `say` playing when the server died never exited. Now: one clear line (or a banner)
soon after, and the next Speak after the server is back is heard.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from tests.emulator.config import TEST_API_KEY
from tests.emulator.server import Emulator
from tests.helpers.cli import REPO, cli_env
from tests.helpers.pulse import MIC_RATE, PulseServer
from tests.helpers.sounds import tone_pcm
from voicedesk.audio.capture.mic_capture import MIC_LOST_MESSAGE
from voicedesk.errors import (
    AudioOutputLostError,
    InputDeviceError,
    NoInputDeviceError,
    NoOutputDeviceError,
)

pytestmark = [pytest.mark.audio, pytest.mark.timeout(300)]

LONG_TEXT = "A sentence that plays for a good while. " * 6  # 60 ms of tone a character
SHORT_TEXT = "Back again."
# Upper bounds only: the product promises a line within 2 s; a loaded machine gets slack.
LOST_WITHIN = 10.0
LOST_LINE = f"voicedesk: {AudioOutputLostError.default_message}"
# What the libraries print when the server goes away, which the user must not see.
NOISE = ("PulseAudio", "pa_context", "Assertion", "Expression", "ALSA lib", "qt.multimedia")


def env_for(tmp_path: Path, server: PulseServer, emulator: Emulator) -> dict[str, str]:
    return {
        **cli_env(tmp_path, TEST_API_KEY, emulator.base_url),
        **server.env,
        "QT_QPA_PLATFORM": "offscreen",
    }


def no_noise(stderr: str) -> None:
    noisy = [line for line in stderr.splitlines() if any(word in line for word in NOISE)]
    assert noisy == [], stderr


class Lines:
    """A process's stdout (or stderr), one line at a time, read on a thread (waits are
    bounded)."""

    def __init__(self, stream: IO[str] | None) -> None:
        assert stream is not None
        self._queue: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.seen.append(line)
            self._queue.put(line)

    def next(self, timeout: float) -> str:
        return self._queue.get(timeout=timeout)


class WindowProcess:
    """The window in its own process (tests/helpers/window_process.py)."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        cwd.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-X", "faulthandler", "-m", "tests.helpers.window_process"],
            env={**env, "PYTHONPATH": str(REPO)}, cwd=cwd, text=True, bufsize=1,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        self._lines = Lines(self.proc.stdout)
        self.errors = Lines(self.proc.stderr)
        self.wait_for("ready", timeout=60)

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def wait_for(self, *events: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                stderr = "".join(self.errors.seen)
                raise AssertionError(f"no {events} (exit code {self.proc.poll()}): {stderr}")
            try:
                line = self._lines.next(min(left, 1.0))
            except queue.Empty:
                continue
            event = json.loads(line)
            if event["event"] in events:
                return event

    def state(self) -> dict[str, Any]:
        self.send("state")
        return self.wait_for("state")

    def quit(self) -> tuple[int, str]:
        self.send("quit")
        try:
            self.proc.wait(60)  # a loaded machine exits slowly (joins, then the final GC)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGUSR1)  # where it hangs, on its stderr
            threading.Event().wait(1)
            raise AssertionError("".join(self.errors.seen)) from None
        return self.proc.returncode, "".join(self.errors.seen)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def window_process(
    tmp_path: Path, private_pulse: PulseServer, emulator: Emulator
) -> Iterator[WindowProcess]:
    window = WindowProcess(env_for(tmp_path, private_pulse, emulator), tmp_path / "home")
    try:
        yield window
    finally:
        window.kill()


def test_say_ends_with_one_line_when_the_server_dies(
    tmp_path: Path, private_pulse: PulseServer, emulator: Emulator
) -> None:
    env = env_for(tmp_path, private_pulse, emulator)
    with private_pulse.record_output() as heard:
        proc = subprocess.Popen(
            [sys.executable, "-m", "voicedesk", "say", LONG_TEXT], env=env, cwd=REPO,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        errors = Lines(proc.stderr)
        try:
            assert heard.wait_for_sound(20)
            private_pulse.kill()
            killed = time.monotonic()
            first = errors.next(LOST_WITHIN)
            took = time.monotonic() - killed
            proc.wait(LOST_WITHIN + 20)  # the interpreter's exit takes its time on a busy box
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
    assert proc.returncode == 1
    assert first.rstrip("\n") == LOST_LINE
    assert errors.seen == [first]  # that line and nothing else
    assert proc.stdout is not None and proc.stdout.read() == ""
    print(f"say's line came {took:.2f} s after the server died")  # for docs (pytest -s)

    private_pulse.start()  # back at the same socket: a new `say` is heard
    with private_pulse.record_output() as heard:
        again = subprocess.run(
            [sys.executable, "-m", "voicedesk", "say", SHORT_TEXT], env=env, cwd=REPO,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert again.returncode == 0, again.stderr
        assert heard.wait_for_sound(5)


def test_window_survives_the_server_dying_and_speaks_once_it_is_back(
    window_process: WindowProcess, private_pulse: PulseServer
) -> None:
    window = window_process
    window.send(f"speak {LONG_TEXT}")
    window.wait_for("started")
    private_pulse.kill()
    failed = window.wait_for("failed", "finished", timeout=LOST_WITHIN)
    assert failed == {**failed, "event": "failed", "message": AudioOutputLostError.default_message}
    state = window.state()
    assert state["banner"] == AudioOutputLostError.default_message
    assert state["box"] == LONG_TEXT  # the typed text stays
    assert state["history"] == [LONG_TEXT]
    assert not state["busy"]  # not stuck on "Speaking"

    # Speak while the server is still away: the same clear message, no abort.
    window.send(f"speak {SHORT_TEXT}")
    failed = window.wait_for("failed", "finished", timeout=LOST_WITHIN)
    assert failed["event"] == "failed"
    assert failed["message"] == AudioOutputLostError.default_message

    private_pulse.start()
    with private_pulse.record_output() as heard:
        window.send(f"speak {SHORT_TEXT}")
        finished = window.wait_for("failed", "finished", timeout=60)
        assert finished["event"] == "finished", finished
        assert heard.wait_for_sound(5)
    # Newest first; the history keeps what was heard, so not the Speak made while away.
    assert window.state()["history"] == [SHORT_TEXT, LONG_TEXT]

    code, err = window.quit()
    assert code == 0, err
    no_noise(err)


def test_window_keeps_what_was_recorded_when_the_server_dies(
    window_process: WindowProcess, private_pulse: PulseServer, emulator: Emulator
) -> None:
    window = window_process
    emulator.configure(transcript="what was said before the server died")
    window.send("ptt_down")
    # A tone into the microphone, long enough to outlast the take.
    wait_until_recording(private_pulse, window.proc.pid)
    # A tone into the microphone from now on (started only now: a loaded machine can take
    # many seconds to open the take), long enough to outlast it.
    player = private_pulse.play_into_mic(tone_pcm(60, rate=MIC_RATE))
    try:
        a_second_of_audio(private_pulse)
        private_pulse.kill()
        error = window.wait_for("recorder_error", timeout=LOST_WITHIN)
        assert error["message"] == MIC_LOST_MESSAGE
    finally:
        player.kill()
        player.wait(5)
    window.send("ptt_up")
    result = window.wait_for("transcribed", "transcribe_failed", timeout=30)
    assert result == {"event": "transcribed", "text": "what was said before the server died"}
    # One take went out: over the live session (on with a key) or as one batch request.
    (request,) = emulator.requests("realtime") or emulator.requests("stt")
    assert request.audio is not None and len(request.audio) > 0  # what was heard was sent
    code, err = window.quit()
    assert code == 0, err
    no_noise(err)


def test_listen_keeps_what_was_recorded_when_the_server_dies(
    tmp_path: Path, private_pulse: PulseServer, emulator: Emulator
) -> None:
    emulator.configure(transcript="the first words")
    env = env_for(tmp_path, private_pulse, emulator)
    player: subprocess.Popen[bytes] | None = None
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "voicedesk", "listen", "--seconds", "30"], env=env,
            cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            wait_until_recording(private_pulse, proc.pid)
            player = private_pulse.play_into_mic(tone_pcm(60, rate=MIC_RATE))
            a_second_of_audio(private_pulse)
            assert proc.poll() is None  # still recording: 30 s are far from over
            errors = Lines(proc.stderr)
            private_pulse.kill()
            killed = time.monotonic()
            line = errors.next(LOST_WITHIN)  # the take ends early, not after its 30 s
            took = time.monotonic() - killed
            proc.wait(LOST_WITHIN + 20)  # transcribing, then the interpreter's exit
            assert proc.stdout is not None
            out = proc.stdout.read()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
    finally:
        if player is not None:
            player.kill()
            player.wait(5)
    err = "".join(errors.seen)
    assert proc.returncode == 0, err
    assert line.rstrip("\n") == f"voicedesk: {MIC_LOST_MESSAGE}"
    assert err.splitlines() == [f"voicedesk: {MIC_LOST_MESSAGE}"], err
    assert out == "the first words\n"
    print(f"listen's line came {took:.2f} s after the server died")  # for docs (pytest -s)
    (request,) = emulator.requests("stt")
    assert request.audio is not None and len(request.audio) > 0


def test_the_microphone_stream_closes_whenever_the_server_dies(
    tmp_path: Path, private_pulse: PulseServer
) -> None:
    """Ending a take whose server died never hangs (it did about one kill in seven: libpulse's
    shared-memory import deadlocked the capture thread, and closing the stream joined it for
    good; see voicedesk/audio/pulse_client.py). Several rounds, since each one is a race."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.mic_rounds"],
        env={**os.environ, **private_pulse.env, "PYTHONPATH": str(REPO)}, cwd=REPO, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, errors = Lines(proc.stdout), Lines(proc.stderr)
    assert proc.stdin is not None
    try:
        for _round in range(ROUNDS):
            proc.stdin.write("start\n")
            proc.stdin.flush()
            assert out.next(30) == "recording\n"
            player = private_pulse.play_into_mic(tone_pcm(10, rate=MIC_RATE))
            a_second_of_audio(private_pulse)  # blocks are flowing: the race is on
            private_pulse.kill()
            player.kill()
            player.wait(5)
            proc.stdin.write("stop\n")
            proc.stdin.flush()
            stopped = out.next(LOST_WITHIN + 10)  # a hang shows here, as queue.Empty
            assert stopped.split()[0] == "stopped" and int(stopped.split()[1]) > 0, stopped
            assert stopped.split()[2] == "InputDeviceLostError", stopped
            private_pulse.start(warm=False)
        proc.stdin.close()
        assert proc.wait(30) == 0, "".join(errors.seen)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


# With the bug, a round hung about one time in seven: 12 rounds catch it 5 times in 6.
ROUNDS = 12


def _recording(server: PulseServer, pid: int) -> bool:
    try:
        listing = server.pactl("list", "source-outputs")
    except subprocess.CalledProcessError:
        return False
    return f'application.process.id = "{pid}"' in listing


def wait_until_recording(server: PulseServer, pid: int, timeout: float = 30) -> None:
    """Until process `pid` has a recording stream on `server` (polled, bounded)."""
    deadline = time.monotonic() + timeout
    while not _recording(server, pid):
        assert time.monotonic() < deadline, f"process {pid} never opened the microphone"
        threading.Event().wait(0.05)


def a_second_of_audio(server: PulseServer) -> None:
    """Until the microphone has carried a second of the tone (so the take holds some)."""
    with server.record_output("vd_mic", MIC_RATE) as heard:
        deadline = time.monotonic() + 20
        while len(heard.sound()) < MIC_RATE:
            assert time.monotonic() < deadline, f"no sound on the mic: {len(heard.pcm)} bytes"
            threading.Event().wait(0.05)


def test_window_started_without_a_server_speaks_once_one_appears(
    tmp_path: Path, private_pulse: PulseServer, emulator: Emulator
) -> None:
    """Started while no sound server runs: Speak says why at once (no abort), and once a
    server appears the next Speak is heard, without restarting the window."""
    private_pulse.kill()
    window = WindowProcess(env_for(tmp_path, private_pulse, emulator), tmp_path / "home")
    try:
        window.send(f"speak {SHORT_TEXT}")
        failed = window.wait_for("failed", "finished", timeout=LOST_WITHIN)
        assert failed["event"] == "failed", failed
        assert failed["message"] == NoOutputDeviceError.default_message
        assert window.state()["box"] == SHORT_TEXT
        # Push to talk with no server: one clear line, nothing sent.
        window.send("ptt_down")
        error = window.wait_for("recorder_error", timeout=LOST_WITHIN)
        assert error["message"] in (NoInputDeviceError().message, InputDeviceError().message)
        window.send("ptt_up")
        assert not window.state()["busy"]
        assert emulator.requests("stt") == []  # no audio sent (a live session may have
        assert not any(r.audio for r in emulator.requests("realtime"))  # opened, empty)

        private_pulse.start()
        with private_pulse.record_output() as heard:
            # The window looks for the server every 0.5 s: a Speak pressed before it noticed
            # still says there is no output; one soon after is heard. Bounded tries.
            for _try in range(60):
                window.send(f"speak {SHORT_TEXT}")
                outcome = window.wait_for("failed", "finished", timeout=60)
                if outcome["event"] == "finished":
                    break
                assert outcome["message"] == NoOutputDeviceError.default_message, outcome
                window.state()  # a round trip through the window's event loop
            assert outcome["event"] == "finished", outcome
            assert heard.wait_for_sound(5)

        # The microphone too: push to talk records from the server that appeared.
        window.send("ptt_down")
        wait_until_recording(private_pulse, window.proc.pid)
        player = private_pulse.play_into_mic(tone_pcm(3, rate=MIC_RATE))
        try:
            a_second_of_audio(private_pulse)
        finally:
            player.kill()
            player.wait(5)
        window.send("ptt_up")
        result = window.wait_for("transcribed", "transcribe_failed", timeout=30)
        assert result["event"] == "transcribed", result
        code, err = window.quit()
        assert code == 0, err
        no_noise(err)
    finally:
        window.kill()
