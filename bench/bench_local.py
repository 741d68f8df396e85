"""Offline engine benchmark: first audio after Speak (model warm) and speech-to-text speed.

    .venv/bin/python bench/bench_local.py [--runs 9]

Prints a Markdown section (`make bench` appends it to docs/benchmarks.md). No network and no
sound card: the engine yields PCM; the STT input is espeak-ng speech made in memory.

- first audio: `LocalEngine.stream_speech(text)` to its first PCM chunk, model loaded and warm,
  median of `--runs` per sentence (the first piece is what the player starts on).
- STT: `transcribe_audio` on ~5 s of espeak-ng speech at 16 kHz; real-time factor = processing
  time / audio duration (below 1 is faster than real time), median of `--runs`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from tests.helpers.sounds import speech_pcm  # noqa: E402
from voicedesk.engines.local import LocalEngine  # noqa: E402

SENTENCES = (
    "Okay.",
    "Hello there, how are you today?",
    "The quick brown fox jumps over the lazy dog.",
)
STT_TEXT = "Please remind me to call the office tomorrow morning about the quarterly report."


def first_audio_ms(engine: LocalEngine, text: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.monotonic()
        chunks = engine.stream_speech(text)
        next(chunks)
        times.append((time.monotonic() - started) * 1000)
        chunks.close()  # type: ignore[attr-defined]
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    engine = LocalEngine()
    started = time.monotonic()
    engine.preload()
    load_s = time.monotonic() - started
    for text in SENTENCES:  # warm both paths once
        engine.generate_speech(text)

    print("\n## Offline engine (Piper voice, Whisper tiny.en)\n")
    load = os.getloadavg()[0]
    print(f"`.venv/bin/python bench/bench_local.py --runs {args.runs}`, medians. "
          f"Both models loaded in {load_s:.2f} s. Load average {load:.1f}.\n")  # fmt: skip
    print("| sentence | first audio after Speak (model warm) | target |")
    print("|---|---|---|")
    for text in SENTENCES:
        print(f"| {text} | **{first_audio_ms(engine, text, args.runs):.0f} ms** | ≤ 150 ms |")

    pcm = speech_pcm(STT_TEXT)
    seconds = len(pcm) / 2 / 16_000
    engine.transcribe_audio(pcm)  # warm
    factors, heard = [], ""
    for _ in range(args.runs):
        started = time.monotonic()
        heard = engine.transcribe_audio(pcm)
        factors.append((time.monotonic() - started) / seconds)
    print(f"\nSpeech to text, {seconds:.1f} s of espeak-ng speech: real-time factor "
          f"**{statistics.median(factors):.3f}** (target < 0.3). Heard: \"{heard}\"")  # fmt: skip
    engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
