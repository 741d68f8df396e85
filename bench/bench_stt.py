"""Push-to-talk benchmark: key press → first captured sample, key release → STT request on the
wire, and memory per recording.

    .venv/bin/python bench/bench_stt.py [--runs 7] [--seconds 30]

Runs on a private PulseAudio server (the tests' fixture) and the ElevenLabs emulator, so it
needs no sound card and no network. All times are `time.monotonic()` in this one process (the
emulator runs in-process, and stamps each request when its body has been read).

- key press → first block: `MicCapture.start()` to the first audio block in the buffer, with
  the stream cold (opened on key press) and warm (opened ahead; it also keeps a pre-roll).
- key release → request: `Recorder.stop()` (trim + the one copy) → `Transcriber.transcribe()`
  → worker thread → `ElevenLabsEngine` → multipart upload received by the emulator, for a
  `--seconds` recording. The recording is fed by a stand-in stream (a real one would take
  `--seconds` of wall time per run and measure nothing more: capture is not on this path).
- memory: tracemalloc's peak and what stays allocated per recording, against its PCM size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from voicedesk import early_init  # noqa: E402

early_init.apply()  # as the app does first: telemetry off, switch interval
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench.sound import private_sound_server  # noqa: E402

RATE = 16_000


def _median_ms(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    return (
        f"median {statistics.median(ms):6.1f} ms  (min {ms[0]:.1f}, max {ms[-1]:.1f}, n={len(ms)})"
    )


class _FeedStream:
    """A stand-in input stream that delivers a whole prepared signal on start()."""

    def __init__(self, pcm: bytes, **kwargs: Any) -> None:
        self.pcm, self.kwargs, self.latency = pcm, kwargs, 0.008

    def start(self) -> None:
        callback, block = self.kwargs["callback"], 320  # 10 ms blocks, like a real stream
        view = memoryview(self.pcm)
        for offset in range(0, len(view), block * 2):
            chunk = view[offset : offset + block * 2]
            callback(chunk, len(chunk) // 2, None, None)

    def close(self) -> None:
        pass


class _FeedDevice:
    """The few `sounddevice` names the capture core uses, around `_FeedStream`."""

    PortAudioError = RuntimeError

    def __init__(self, pcm: bytes) -> None:
        self.pcm = pcm
        self.default = type("Default", (), {"device": [0, -1]})()

    def query_devices(self) -> list[dict[str, Any]]:
        return [dict(index=0, name="feed", max_input_channels=1, default_samplerate=RATE)]

    def RawInputStream(self, **kwargs: Any) -> _FeedStream:
        return _FeedStream(self.pcm, **kwargs)


def speech(seconds: float) -> bytes:
    """`seconds` of espeak-ng speech at 16 kHz, made in memory."""
    from tests.test_recorder import espeak_pcm

    sentence = espeak_pcm("The quick brown fox jumps over the lazy dog.", pad_seconds=0.3)
    need = int(seconds * RATE) * 2
    return (sentence * (need // len(sentence) + 1))[:need]


def bench_key_press(runs: int) -> None:
    from voicedesk.audio.capture.mic_capture import MicCapture

    waiter = threading.Event()  # never set: bounded waits for the first block

    def first_block(capture: MicCapture) -> float:
        for _ in range(2000):  # up to ~5 s
            if capture.first_block_delay is not None:
                return capture.first_block_delay
            waiter.wait(0.0025)
        raise RuntimeError("no audio arrived")

    warmup = MicCapture()
    warmup.start()
    first_block(warmup)  # the server's first stream is slow to get going: not ours to count
    warmup.discard()

    cold: list[float] = []
    for _ in range(runs):
        capture = MicCapture()
        capture.start()
        cold.append(first_block(capture))
        capture.discard()
    warm: list[float] = []
    capture = MicCapture()
    capture.warm()
    waiter.wait(0.5)  # let the pre-roll fill
    for _ in range(runs):
        capture.start()
        warm.append(first_block(capture))
        preroll = capture.preroll_seconds
        capture.discard()
        waiter.wait(0.3)
    capture.close()
    print("key press → first captured block")
    print(f"  cold stream (opened on key press):   {_median_ms(cold)}")
    print(f"  warm stream (opened ahead):          {_median_ms(warm)}")
    print(f"    …and a warm take starts with {preroll * 1000:.0f} ms from before the key press")


def bench_release(runs: int, seconds: float) -> None:
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    from tests.emulator.config import TEST_API_KEY
    from tests.emulator.server import Emulator
    from voicedesk.audio.capture.recorder import Recorder
    from voicedesk.engines.elevenlabs import ElevenLabsEngine
    from voicedesk.workers.transcribe import Transcriber

    app = QCoreApplication.instance() or QCoreApplication([])
    pcm_in = speech(seconds)
    device = _FeedDevice(pcm_in)
    release_to_request: list[float] = []
    release_to_handoff: list[float] = []
    with Emulator() as emulator:
        engine = ElevenLabsEngine(TEST_API_KEY, base_url=emulator.base_url)
        transcriber = Transcriber(engine)
        for run in range(runs + 1):  # the first run warms the HTTP connection
            recorder = Recorder(sd=device)
            recorder.start()  # the stand-in delivers all `seconds` at once
            loop = QEventLoop()
            transcriber.transcribed.connect(loop.quit)
            transcriber.failed.connect(loop.quit)
            released = time.monotonic()
            pcm = recorder.stop()
            assert pcm is not None
            transcriber.transcribe(pcm)
            handed = time.monotonic()
            QTimer.singleShot(20_000, loop.quit)
            loop.exec()
            transcriber.transcribed.disconnect(loop.quit)
            transcriber.failed.disconnect(loop.quit)
            request = emulator.requests("stt")[-1]
            assert request.audio == pcm
            if run:
                release_to_request.append(request.started_at - released)
                release_to_handoff.append(handed - released)
            recorder.close()
        transcriber.shutdown()
        engine.close()
    del app
    print(f"key release → STT request received by the emulator ({seconds:g} s recording)")
    print(f"  stop + trim + copy + hand-off:       {_median_ms(release_to_handoff)}")
    print(f"  …to the whole request on the wire:   {_median_ms(release_to_request)}")


def bench_memory(seconds: float) -> None:
    from voicedesk.audio.capture.mic_capture import MicCapture

    pcm_in = speech(seconds)
    tracemalloc.start()
    capture = MicCapture(sd=_FeedDevice(pcm_in))
    base = tracemalloc.get_traced_memory()[0]
    capture.start()
    during = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.reset_peak()
    pcm = capture.stop()
    after = tracemalloc.get_traced_memory()[0] - base
    peak = tracemalloc.get_traced_memory()[1] - base
    kept = []
    for _ in range(100):  # many utterances: nothing may pile up
        capture.start()
        kept.append(len(capture.stop()))
        kept.pop()
    settled = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    size = len(pcm_in)
    print(f"memory for a {seconds:g} s recording (PCM {size / 1e6:.2f} MB)")
    print(f"  while recording: {during / size:.2f}× PCM (one bytearray)")
    print(f"  peak at release: {peak / size:.2f}× PCM (the bytearray and its one copy)")
    print(f"  after release:   {after / len(pcm):.2f}× of the trimmed PCM handed on")
    print(f"  after 100 more takes: {(settled - after) / 1e3:+.1f} kB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    with private_sound_server():
        print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
        bench_key_press(args.runs)
        bench_release(args.runs, args.seconds)
        bench_memory(args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
