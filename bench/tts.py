"""Text-to-speech benchmarks: audible latency three ways, decoder throughput, GUI stalls.

Everything runs in this one process on `time.monotonic()`: the ElevenLabs emulator (its
request records stamp when the first body byte was handed to the socket), the private
PulseAudio server's monitor capture (stamps each sample's arrival), and the players.
"""

from __future__ import annotations

import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from elevenlabs.client import ElevenLabs
from elevenlabs.play import stream as sdk_stream
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QObject, QTimer, Slot

from tests.emulator.audio import encode_mp3, tone
from tests.emulator.config import TEST_API_KEY
from tests.emulator.server import Emulator
from tests.helpers.pulse import PulseServer
from voicedesk.audio.playback.decoder import StreamDecoder
from voicedesk.audio.playback.pcm import PcmFormat
from voicedesk.audio.playback.player import Player
from voicedesk.engines.elevenlabs import ElevenLabsEngine
from voicedesk.workers.speaker import Speaker

TTFB = 0.25
# The body at ~100 KB/s (1 KiB every 10 ms), ~6x the 16 KB/s a 128 kbit/s stream plays at:
# faster than real time, like the real service, but not instant as loopback would be.
PACING = 0.01
CHUNK = 1024
CLIP_TEXT = "Benchmark tone, 1.5 s."  # 22 characters x 60 ms ≈ 1.3 s of tone
LONG_TEXT = "A longer utterance to watch the GUI thread while it streams. " * 2


@dataclass(frozen=True)
class Result:
    name: str
    runs_ms: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.runs_ms)


def wait_until(done: Callable[[], bool], timeout: float = 20.0) -> None:
    """Run the Qt event loop until `done()` (a benchmark may poll; the product doesn't)."""
    app = QCoreApplication.instance()
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step timed out")
        app.processEvents()
        threading.Event().wait(0.002)


def _audible_ms(pulse: PulseServer, emu: Emulator, play: Callable[[], None]) -> float:
    """First byte on the socket → first non-silent sample at the sink's monitor."""
    with pulse.record_output() as capture:
        play()
        if capture.first_sound_time() is None:
            capture.wait_for_sound(5)
        heard = capture.first_sound_time()
    first_byte = emu.last("tts").first_byte_at
    assert heard is not None and first_byte is not None
    return (heard - first_byte) * 1000


def voicedesk_run(speaker: Speaker) -> Callable[[], None]:
    def play() -> None:
        done: list[int] = []
        speaker.utterance_finished.connect(done.append)
        speaker.speak(CLIP_TEXT)
        wait_until(lambda: bool(done))
        speaker.utterance_finished.disconnect(done.append)

    return play


def buffered_run(engine: ElevenLabsEngine, player: Player) -> Callable[[], None]:
    """The naive way: download everything, decode everything, then open the output and play."""

    def play() -> None:
        mp3 = b"".join(engine.stream_speech(CLIP_TEXT))
        fmt = player.format_for(PcmFormat(44_100))
        decoder = StreamDecoder(fmt)
        pcm = decoder.feed(mp3) + decoder.flush()
        done: list[int] = []
        player.finished.connect(_append(done))
        token = player.begin(fmt)
        player.write(token, pcm)
        player.end(token)
        wait_until(lambda: bool(done))

    return play


def _append(target: list[int]) -> Callable[[int, float], None]:
    return lambda token, when: target.append(token)


def sdk_run(client: ElevenLabs) -> Callable[[], None]:
    def play() -> None:
        audio = client.text_to_speech.stream(
            "JBFqnCBsd6RMkjVDRZzb", text=CLIP_TEXT, output_format="mp3_44100_128"
        )
        sdk_stream(audio)  # pipes into mpv, returns once mpv has exited

    return play


def audible_latency(pulse: PulseServer, runs: int) -> list[Result]:
    with Emulator(ttfb=TTFB, pacing=PACING, chunk_size=CHUNK) as emu:
        engine = ElevenLabsEngine(TEST_API_KEY, base_url=emu.base_url)
        speaker = Speaker(engine)
        player = Player()
        client = ElevenLabs(api_key=TEST_API_KEY, base_url=emu.base_url)
        ways = {
            "voicedesk (streaming)": voicedesk_run(speaker),
            "buffered (download, decode, play)": buffered_run(engine, player),
            "SDK play.stream() + mpv": sdk_run(client),
        }
        results = {name: [] for name in ways}
        for play in ways.values():  # warm-up: imports, connections, mpv's first start
            _audible_ms(pulse, emu, play)
        for _ in range(runs):  # interleaved, so drift on the machine hits every way alike
            for name, play in ways.items():
                results[name].append(_audible_ms(pulse, emu, play))
        speaker.shutdown()
        player.shutdown()
        engine.close()
    return [Result(name, tuple(runs_ms)) for name, runs_ms in results.items()]


def decoder_throughput(seconds: float = 60.0, repeats: int = 5) -> float:
    """× real time: 128 kbit/s MP3 in 4 KiB pieces → 44.1 kHz s16 PCM, on this thread."""
    mp3 = encode_mp3(tone(seconds, 440, 44_100), 44_100, 128)
    best = float("inf")
    for _ in range(repeats):
        decoder = StreamDecoder(PcmFormat(44_100))
        start = time.perf_counter()
        for i in range(0, len(mp3), 4096):
            decoder.feed(mp3[i : i + 4096])
        decoder.flush()
        best = min(best, time.perf_counter() - start)
    return seconds / best


class _Heartbeat(QObject):
    """A 5 ms QTimer on the GUI thread; lateness of each beat is how long the thread stalled."""

    def __init__(self) -> None:
        super().__init__()
        self.worst_ms = 0.0
        self._clock = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._beat)

    def start(self) -> None:
        self._clock.start()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @Slot()
    def _beat(self) -> None:
        late = self._clock.restart() - 5
        self.worst_ms = max(self.worst_ms, float(late))


def gui_stall(runs: int) -> Result:
    """The longest GUI-thread stall while an utterance streams and plays."""
    worst: list[float] = []
    with Emulator(ttfb=TTFB, pacing=PACING, chunk_size=CHUNK) as emu:
        engine = ElevenLabsEngine(TEST_API_KEY, base_url=emu.base_url)
        speaker = Speaker(engine)
        speaker.speak("warm up")  # the first utterance pays for imports and device discovery
        _run_loop_until(lambda: not speaker.is_busy())
        for _ in range(runs):
            heartbeat = _Heartbeat()
            done: list[int] = []
            speaker.utterance_finished.connect(done.append)
            heartbeat.start()
            speaker.speak(LONG_TEXT)
            _run_loop_until(done.__len__)
            heartbeat.stop()
            speaker.utterance_finished.disconnect(done.append)
            worst.append(heartbeat.worst_ms)
        speaker.shutdown()
        engine.close()
    return Result("longest GUI-thread stall", tuple(worst))


def _run_loop_until(done: Callable[[], bool]) -> None:
    """A real event loop (not processEvents polling, which would hide stalls)."""
    app = QCoreApplication.instance()
    checker = QTimer()
    checker.setInterval(20)
    checker.timeout.connect(lambda: app.exit(0) if done() else None)
    checker.start()
    app.exec()
    checker.stop()


def machine() -> dict[str, str]:
    model = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return {"nproc": nproc, "cpu": model}
