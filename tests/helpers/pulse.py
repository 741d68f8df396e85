"""A private PulseAudio server with null sinks, started by the tests themselves.

- `vd_out`: the default output. Tests hear what was played by recording `vd_out.monitor`.
- `vd_mic`: a sink whose monitor is the default input. Tests feed the microphone by playing
  into it.

The server starts when pytest configures (before anything imports `sounddevice`, because
PortAudio enumerates devices once, at import) and stops when pytest ends. Its environment is
put into `os.environ`, so Qt, PortAudio (through ALSA's pulse plugin) and subprocesses all
reach it, never the machine's own sound server.

A null sink renders in blocks of up to 2 s while nothing low-latency is connected, which
skews timings at the monitor; one `pacat --latency-msec=5` of silence stays connected to each
sink for the whole session to keep them warm.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import pytest

from tests.helpers.sounds import tone_pcm

OUT_SINK = "vd_out"
MIC_SINK = "vd_mic"
OUT_RATE = 44_100
MIC_RATE = 16_000


@dataclass
class Capture:
    """PCM recorded from a sink's monitor (s16le mono), with the arrival time of each read."""

    rate: int
    started_at: float = 0.0
    _chunks: list[tuple[float, bytes]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _add(self, data: bytes) -> None:
        with self._lock:
            self._chunks.append((time.monotonic(), data))

    @property
    def pcm(self) -> bytes:
        with self._lock:
            return b"".join(data for _, data in self._chunks)

    def samples(self) -> np.ndarray:
        return np.frombuffer(self.pcm, dtype="<i2").astype(np.float32) / 32768.0

    def first_sound_time(self, threshold: float = 0.02, since: float = 0.0) -> float | None:
        """Monotonic time at which the first sample above `threshold` (full scale 1.0) arrived,
        among what arrived at or after `since` (one long recording, many utterances).

        The time is that of the read that carried the sample, less the samples that follow it
        in that read, so it is accurate to the monitor's latency, not to the read size.
        """
        with self._lock:
            chunks = [(at, data) for at, data in self._chunks if at >= since]
        for arrived, data in chunks:
            block = np.abs(np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2"))
            loud = np.flatnonzero(block > threshold * 32768)
            if loud.size:
                return arrived - (block.size - loud[0]) / self.rate
        return None

    def sound(self, threshold: float = 0.02) -> np.ndarray:
        """The samples from the first to the last one above `threshold`."""
        samples = self.samples()
        loud = np.flatnonzero(np.abs(samples) > threshold)
        return samples[loud[0] : loud[-1] + 1] if loud.size else samples[:0]

    def wait_for_sound(self, seconds: float, threshold: float = 0.02) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.first_sound_time(threshold) is not None:
                return True
            threading.Event().wait(0.01)
        return False

    def wait_for_silence_after_sound(self, silence: float, seconds: float) -> bool:
        """True once sound was heard and then `silence` seconds of quiet followed it."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            samples = self.samples()
            loud = np.flatnonzero(np.abs(samples) > 0.02)
            if loud.size and samples.size - loud[-1] > silence * self.rate:
                return True
            threading.Event().wait(0.02)
        return False


class PulseServer:
    def __init__(self) -> None:
        # A short path: unix socket paths are limited to ~108 bytes.
        self.runtime_dir = Path(tempfile.mkdtemp(prefix="vdpa-"))
        self.socket = self.runtime_dir / "native"
        self.env = {
            "PULSE_SERVER": f"unix:{self.socket}",
            "PULSE_RUNTIME_PATH": str(self.runtime_dir),
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "PULSE_COOKIE": str(self.runtime_dir / "cookie"),
            # Qt 6.10+ may prefer PipeWire; there is none here, and we want this server.
            "QT_AUDIO_BACKEND": "pulseaudio",
        }
        self._daemon: subprocess.Popen[bytes] | None = None
        self._warmers: list[subprocess.Popen[bytes]] = []

    def _run_env(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    def start(self, warm: bool = True) -> None:
        """Start the server (again, after `kill`: at the same socket path, with fresh sinks).

        `warm=False` skips playing the test tone through each sink (see `_warm_up`), for tests
        that only need the server there, not exact timings."""
        self._warmers = []

        def sink(name: str, rate: int) -> str:
            return (
                f"module-null-sink sink_name={name} rate={rate} channels=1 format=s16le "
                f"sink_properties=device.description={name}"
            )

        self._daemon = subprocess.Popen(
            [
                "pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1",
                "--use-pid-file=no", "--log-target=stderr", "--log-level=error",
                "-L", f"module-native-protocol-unix auth-anonymous=1 socket={self.socket}",
                "-L", sink(OUT_SINK, OUT_RATE),
                "-L", sink(MIC_SINK, MIC_RATE),
            ],
            env={**self._run_env(), "HOME": str(self.runtime_dir)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while subprocess.run(
            ["pactl", "info"], env=self._run_env(), capture_output=True
        ).returncode:
            if time.monotonic() > deadline or self._daemon.poll() is not None:
                raise RuntimeError("the test PulseAudio server did not start")
            threading.Event().wait(0.05)
        self.pactl("set-default-sink", OUT_SINK)
        self.pactl("set-default-source", f"{MIC_SINK}.monitor")
        for name in (OUT_SINK, MIC_SINK):
            self._warmers.append(
                subprocess.Popen(
                    ["pacat", "--playback", "--latency-msec=5", "--raw", "--channels=1",
                     f"--device={name}", "/dev/zero"],
                    env=self._run_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    preexec_fn=_die_with_parent,
                )
            )  # fmt: skip
        for name, rate in ((OUT_SINK, OUT_RATE), (MIC_SINK, MIC_RATE)) if warm else ():
            self._warm_up(name, rate)

    def _warm_up(self, sink: str, rate: int, seconds: float = 0.3) -> None:
        """Play a short tone into `sink` until it comes back whole from the monitor twice.

        For its first seconds a fresh server stalls new streams (and a null sink renders in
        big blocks until the warmer connects), which would show up as gaps or delays in
        whichever test happens to run first.
        """
        clip, intact = tone_pcm(seconds, rate=rate), 0
        for _ in range(40):
            with self.record_output(sink, rate) as capture:
                self.play(clip, sink, rate).wait(10)
                capture.wait_for_silence_after_sound(0.05, 3)
            heard = len(capture.sound()) / rate
            intact = intact + 1 if abs(heard - seconds) < 0.02 else 0
            if intact == 2:
                return
        raise RuntimeError(f"the test PulseAudio server never played cleanly into {sink}")

    def kill(self) -> None:
        """The sound server dies (SIGKILL, as a crash would): every client loses it at once.

        The socket path stays, so `start()` brings a server back where clients look for it.
        """
        for proc in [self._daemon, *self._warmers]:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(5)
        self._warmers = []
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()

    @property
    def running(self) -> bool:
        return self._daemon is not None and self._daemon.poll() is None

    def stop(self) -> None:
        for proc in [*self._warmers, self._daemon]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(self.runtime_dir, ignore_errors=True)

    def pactl(self, *args: str) -> str:
        return subprocess.run(
            ["pactl", *args], env=self._run_env(), capture_output=True, text=True, check=True
        ).stdout

    @contextmanager
    def modules(self, *loads: tuple[str, ...]) -> Iterator[None]:
        """Each `pactl load-module` argument tuple loaded for the duration of the `with`."""
        loaded: list[str] = []
        try:
            for args in loads:
                loaded.append(self.pactl("load-module", *args).strip())
            yield
        finally:
            for module in reversed(loaded):
                self.pactl("unload-module", module)

    @contextmanager
    def record_output(self, sink: str = OUT_SINK, rate: int = OUT_RATE) -> Iterator[Capture]:
        """Record what plays on `sink` (its monitor) for the duration of the `with`."""
        capture = Capture(rate=rate)
        proc = subprocess.Popen(
            ["parec", "--raw", "--format=s16le", f"--rate={rate}", "--channels=1",
             "--latency-msec=5", f"--device={sink}.monitor"],
            env=self._run_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
        )  # fmt: skip
        assert proc.stdout is not None
        stdout = proc.stdout

        def pump() -> None:
            while data := stdout.read(1024):
                capture._add(data)

        reader = threading.Thread(target=pump, name="parec-reader", daemon=True)
        reader.start()
        capture.started_at = time.monotonic()
        try:
            yield capture
        finally:
            proc.terminate()
            proc.wait(5)
            reader.join(5)

    def play_into_mic(
        self, pcm: bytes, rate: int = MIC_RATE, latency_ms: int = 150
    ) -> subprocess.Popen[bytes]:
        """Start playing s16le mono `pcm` into the virtual microphone; returns the player."""
        return self.play(pcm, MIC_SINK, rate, latency_ms)

    def play(
        self, pcm: bytes, sink: str, rate: int, latency_ms: int = 150
    ) -> subprocess.Popen[bytes]:
        """Start playing s16le mono `pcm` into `sink`; returns the player process at once
        (`wait()` on it for the end of the clip).

        A roomy buffer: with a tight one, a busy machine makes the server pad the clip with
        silence (an under-run), and what the sink carries is no longer the clip.

        The clip is written from a thread: `pacat` reads its stdin at the pace of playback,
        so writing a clip longer than the pipe's buffer (64 KiB, ~2 s at 16 kHz) here would
        block the caller until nearly all of it had played.
        """
        proc = subprocess.Popen(
            ["pacat", "--playback", "--raw", "--format=s16le", f"--rate={rate}", "--channels=1",
             f"--latency-msec={latency_ms}", f"--device={sink}"],
            env=self._run_env(), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert proc.stdin is not None
        threading.Thread(
            target=_feed, args=(proc.stdin, pcm), name="pacat-feeder", daemon=True
        ).start()
        return proc


def _feed(stdin: IO[bytes], pcm: bytes) -> None:
    """Write a clip to a player's stdin, then close it (a killed player just ends it)."""
    with contextlib.suppress(OSError, ValueError):  # BrokenPipeError: the player was killed
        try:
            stdin.write(pcm)
        finally:
            stdin.close()


def _die_with_parent() -> None:
    """Runs in the child before exec: if pytest dies (even by SIGKILL or an abort), so does
    the sound server, instead of lingering and loading the machine."""
    PR_SET_PDEATHSIG = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


_server: PulseServer | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _server
    if shutil.which("pulseaudio") is None or shutil.which("pacat") is None:
        return
    _server = PulseServer()
    _server.start()
    os.environ.update(_server.env)


def pytest_unconfigure(config: pytest.Config) -> None:
    global _server
    if _server is not None:
        _server.stop()
        _server = None


@pytest.fixture(scope="session")
def pulse() -> PulseServer:
    """The private PulseAudio server; skips where pulseaudio isn't installed."""
    if _server is None:
        pytest.skip("pulseaudio and pulseaudio-utils are not installed")
    return _server


@pytest.fixture
def private_pulse() -> Iterator[PulseServer]:
    """A sound server of this test's own, to kill and start again (`kill()` / `start()` at the
    same socket path) without disturbing the session's. Processes reach it through its
    `env`; this process stays on the session's server."""
    if shutil.which("pulseaudio") is None or shutil.which("pacat") is None:
        pytest.skip("pulseaudio and pulseaudio-utils are not installed")
    server = PulseServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
