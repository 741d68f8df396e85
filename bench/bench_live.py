"""Live words benchmark: key release → final transcript, realtime (`scribe_v2_realtime` over
the WebSocket) against batch (`scribe_v2`, the take uploaded after release).

    .venv/bin/python bench/bench_live.py [--runs 3] [--takes 5 30] [--delay 0.1] [--rate 0.03]

Both go to the in-process ElevenLabs emulator on 127.0.0.1 with the same recognition model:
`--delay` seconds plus `--rate` seconds a second of audio not yet recognised. For batch that
is the whole take; the realtime session recognises as the audio arrives (a partial every
0.2 s of audio), so at the commit only the audio since the last partial is left.

The take is espeak-ng speech delivered in real time (10 ms blocks, 10 ms apart) by a
stand-in input stream, through `MicCapture` (the recorder's core) to the live session, as
PortAudio would deliver it; so each run takes the take's length in wall time. The clock
starts at key release (`stop()`: trim and the one copy) and stops when the `Transcriber`
emits the transcript on the GUI thread: what the window shows. Loopback has no bandwidth
limit, which favours batch (a 30 s take is a 0.96 MB upload).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from voicedesk import early_init  # noqa: E402

early_init.apply()  # as the app does first: telemetry off, switch interval
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

RATE = 16_000
BLOCK = 160  # frames: 10 ms


class _PacedStream:
    """A stand-in input stream that delivers a prepared signal in real time, on its own thread
    (as PortAudio's callback thread would)."""

    def __init__(self, pcm: bytes, **kwargs: Any) -> None:
        self.pcm, self.kwargs, self.latency = pcm, kwargs, 0.01
        self.done = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="paced-mic", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        callback, size = self.kwargs["callback"], BLOCK * 2
        start = time.monotonic()
        for index, offset in enumerate(range(0, len(self.pcm), size)):
            due = start + index * BLOCK / RATE
            if self._stop.wait(max(0.0, due - time.monotonic())):
                return
            chunk = self.pcm[offset : offset + size]
            callback(chunk, len(chunk) // 2, None, None)
        self.done.set()

    def close(self) -> None:
        self._stop.set()


class _PacedDevice:
    PortAudioError = RuntimeError

    def __init__(self, pcm: bytes) -> None:
        self.pcm = pcm
        self.default = type("Default", (), {"device": [0, -1]})()
        self.stream: _PacedStream | None = None

    def query_devices(self) -> list[dict[str, Any]]:
        return [dict(index=0, name="paced", max_input_channels=1, default_samplerate=RATE)]

    def RawInputStream(self, **kwargs: Any) -> _PacedStream:
        self.stream = _PacedStream(self.pcm, **kwargs)
        return self.stream


def speech(seconds: float) -> bytes:
    from tests.test_recorder import espeak_pcm

    sentence = espeak_pcm("The quick brown fox jumps over the lazy dog.", pad_seconds=0.3)
    need = int(seconds * RATE) * 2
    return (sentence * (need // len(sentence) + 1))[:need]


def _stats(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    return (
        f"median {statistics.median(ms):6.1f} ms  (min {ms[0]:.1f}, max {ms[-1]:.1f}, n={len(ms)})"
    )


def _clock_class() -> Any:
    from PySide6.QtCore import QEventLoop, QObject, Slot

    from voicedesk.errors import VoiceDeskError

    class Clock(QObject):
        """When the transcript reached the GUI thread (where the window would show it)."""

        def __init__(self, loop: QEventLoop) -> None:
            super().__init__()
            self.loop, self.at, self.error = loop, None, ""

        @Slot(str)
        def shown(self, text: str) -> None:
            self.at = time.monotonic()
            self.loop.quit()

        @Slot(object, bool)
        def failed(self, error: VoiceDeskError, retryable: bool) -> None:
            self.error = error.message
            self.loop.quit()

    return Clock


def bench(runs: int, takes: list[float], delay: float, rate: float) -> None:
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    from tests.emulator.config import TEST_API_KEY
    from tests.emulator.server import Emulator
    from voicedesk.audio.capture.mic_capture import MicCapture
    from voicedesk.engines.elevenlabs import ElevenLabsEngine
    from voicedesk.workers.transcribe import Transcriber

    app = QCoreApplication.instance() or QCoreApplication([])
    _Clock = _clock_class()
    results: dict[tuple[str, float], list[float]] = {}
    with Emulator(recognition_delay=delay, recognition_rate=rate) as emulator:
        engine = ElevenLabsEngine(TEST_API_KEY, base_url=emulator.base_url)
        transcriber = Transcriber(engine)

        def take(mode: str, pcm_in: bytes, seconds: float) -> float:
            device = _PacedDevice(pcm_in)
            capture = MicCapture(sd=device, max_seconds=seconds + 5)
            live = engine.open_live("en") if mode == "realtime" else None
            capture.start(live.feed if live else None)
            assert device.stream is not None
            device.stream.done.wait(seconds + 10)
            loop = QEventLoop()
            clock = _Clock(loop)
            transcriber.transcribed.connect(clock.shown)
            transcriber.failed.connect(clock.failed)
            released = time.monotonic()
            pcm = capture.stop()
            if live is not None:
                transcriber.transcribe_live(pcm, live)
            else:
                transcriber.transcribe(pcm)
            QTimer.singleShot(30_000, loop.quit)
            loop.exec()
            transcriber.transcribed.disconnect(clock.shown)
            transcriber.failed.disconnect(clock.failed)
            capture.close()
            if clock.at is None:
                raise RuntimeError(f"{mode}: no transcript ({clock.error})")
            if live is not None and live.fallback_reason is not None:
                raise RuntimeError(f"realtime fell back: {live.fallback_reason!r}")
            return float(clock.at - released)

        for mode in ("realtime", "batch"):  # first calls (imports, trimming) are not counted
            take(mode, speech(1.0), 1.0)
        for seconds in takes:
            pcm_in = speech(seconds)
            for mode in ("realtime", "batch"):
                for _ in range(runs):
                    results.setdefault((mode, seconds), []).append(take(mode, pcm_in, seconds))
        transcriber.shutdown()
        engine.close()
    del app
    print(
        f"key release → final transcript shown (recognition {delay * 1000:.0f} ms "
        f"+ {rate * 1000:.0f} ms per second of audio not yet recognised)"
    )
    for seconds in takes:
        for mode in ("realtime", "batch"):
            print(f"  {seconds:4g} s take, {mode:8s}: {_stats(results[(mode, seconds)])}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--takes", type=float, nargs="+", default=[5.0, 30.0])
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--rate", type=float, default=0.03)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    bench(args.runs, args.takes, args.delay, args.rate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
