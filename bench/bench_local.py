"""Offline engine benchmark: first audio after Speak (model warm) and speech-to-text speed.

    .venv/bin/python bench/bench_local.py [--runs 9]

Prints a Markdown section (`make bench` appends it to docs/benchmarks.md). No network and no
sound card: the engine yields PCM; the STT input is espeak-ng speech made in memory.

- first audio: `LocalEngine.stream_speech(text)` to its first PCM chunk, model loaded and warm,
  median of `--runs` per sentence (the first piece is what the player starts on); "audible" adds
  the chunk's quiet lead-in before its first sample above 0.02 (what a listener waits for).
- first sentences of 5 to 200 characters, no commas (the hardest case for a fast start): first
  audio, and the longest quiet stretch (below 0.01) at a join between units inside the sentence.
- STT: `transcribe_audio` on ~5 s of espeak-ng speech at 16 kHz; real-time factor = processing
  time / audio duration (below 1 is faster than real time), median of `--runs`.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from voicedesk import early_init  # noqa: E402

early_init.apply()  # as the app does first: telemetry off, switch interval

import numpy as np  # noqa: E402

from tests.helpers.sounds import speech_pcm  # noqa: E402
from voicedesk.cancel import CancelToken  # noqa: E402
from voicedesk.engines.local import LocalEngine  # noqa: E402
from voicedesk.engines.local_runs import RUN_PHONEMES  # noqa: E402
from voicedesk.engines.stoppable_session import StoppableSession  # noqa: E402
from voicedesk.errors import Cancelled  # noqa: E402

SENTENCES = (
    "Okay.",
    "Hello there, how are you today?",
    "The quick brown fox jumps over the lazy dog.",
)
# First sentences of 5 to 200 characters with no clause break to cut at.
LONG_FIRST = (
    "Okay.",
    "Turn left here.",
    "The quick brown fox jumps over the lazy dog.",
    "Once upon a time there was a little girl who lived in a village near the forest.",
    "Please remember to bring the quarterly report to the meeting with the board tomorrow "
    "morning at nine because the auditors want to see the figures first.",
    "Please remember to bring the quarterly report to the meeting with the board tomorrow "
    "morning at nine because the auditors want to see the figures before the end of the week "
    "and nobody else in the office has a copy of it.",
)
OTHER_TEXT = "Something else entirely."
STT_TEXT = "Please remind me to call the office tomorrow morning about the quarterly report."


def first_audio_ms(engine: LocalEngine, text: str, runs: int) -> float:
    return first_audio(engine, text, runs)[0]


def first_audio(engine: LocalEngine, text: str, runs: int) -> tuple[float, float]:
    """Medians: ms to the first chunk, and ms to its first audible sample. Cold: the engine's
    prepared first words (made while a user pauses typing) are another text's each time."""
    rate = engine.speech_format.sample_rate
    times, audible = [], []
    for _ in range(runs):
        engine.prepare_first_words(OTHER_TEXT)
        started = time.monotonic()
        chunks = engine.stream_speech(text)
        first = next(chunks)
        took = (time.monotonic() - started) * 1000
        chunks.close()  # type: ignore[attr-defined]
        loud = np.flatnonzero(np.abs(np.frombuffer(first, dtype="<i2")) > 0.02 * 32768)
        times.append(took)
        audible.append(took + (loud[0] / rate * 1000 if loud.size else 0.0))
    return statistics.median(times), statistics.median(audible)


def whole_sentence_ms(engine: LocalEngine, text: str, runs: int) -> float:
    """The way before units: the whole first sentence phonemized and synthesised in one run
    (measured in the same process, interleaved, so machine load hits both ways alike)."""
    voice = engine._tts()
    times = []
    for _ in range(runs):
        started = time.monotonic()
        voice.phoneme_ids_to_audio(voice.phonemes_to_ids(voice.phonemize(text)[0]))
        times.append((time.monotonic() - started) * 1000)
    return statistics.median(times)


def longest_join_gap_ms(engine: LocalEngine, text: str) -> tuple[int, float]:
    """Units the sentence was spoken in, and the longest quiet stretch at a join between them."""
    rate = engine.speech_format.sample_rate
    chunks = [np.abs(np.frombuffer(c, dtype="<i2")) for c in engine.stream_speech(text)]
    worst = 0.0
    for before, after in itertools.pairwise(chunks):
        loud_before = np.flatnonzero(before >= 0.01 * 32768)
        loud_after = np.flatnonzero(after >= 0.01 * 32768)
        tail = before.size - 1 - loud_before[-1] if loud_before.size else before.size
        head = loud_after[0] if loud_after.size else after.size
        worst = max(worst, (tail + head) / rate * 1000)
    return len(chunks), worst


def _stop(cancel: CancelToken, stopped: list[float]) -> None:
    stopped.append(time.monotonic())
    cancel.set()


def stop_ms(engine: LocalEngine, runs: int, stoppable: bool) -> float:
    """Median ms from a Stop, 20 ms into a 100-phoneme synthesis run, until that run gives the
    CPU back: with the session's terminate flag (the app), or letting the run finish (before)."""
    voice = engine._tts()
    session = voice.session
    assert isinstance(session, StoppableSession)
    phonemes = voice.phonemize(LONG_FIRST[-1])[0][: max(RUN_PHONEMES)]
    assert len(phonemes) == max(RUN_PHONEMES)
    ids = voice.phonemes_to_ids(phonemes)
    waits = []
    for _ in range(runs):
        cancel = CancelToken()
        stopped: list[float] = []
        stop = threading.Timer(0.02, _stop, (cancel, stopped))
        stop.start()
        try:
            if stoppable:
                with session.stoppable(cancel):
                    voice.phoneme_ids_to_audio(ids)
            else:
                voice.phoneme_ids_to_audio(ids)
        except Cancelled:
            pass
        stop.join()
        waits.append((time.monotonic() - stopped[0]) * 1000)
    return statistics.median(waits)


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

    print("\nFirst sentences of 5 to 200 characters without a comma: the first unit is the first")
    print("few words (up to a phrase boundary), the rest follows while it plays.\n")
    print("| first sentence (chars) | first chunk | first audible sample | whole sentence in "
          "one run (before) | units | longest quiet at a join | target |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for text in LONG_FIRST:
        chunk_ms, audible_ms = first_audio(engine, text, args.runs)
        before_ms = whole_sentence_ms(engine, text, args.runs)
        units, gap = longest_join_gap_ms(engine, text)
        print(f"| {len(text)} | **{chunk_ms:.0f} ms** | {audible_ms:.0f} ms | {before_ms:.0f} ms "
              f"| {units} | {gap:.0f} ms | ≤ 150 ms, joins ≤ 30 ms |")  # fmt: skip

    before_ms, after_ms = stop_ms(engine, args.runs, False), stop_ms(engine, args.runs, True)
    print(f"\nStop 20 ms into a {max(RUN_PHONEMES)}-phoneme synthesis run: the run gives the CPU "
          f"back **{after_ms:.0f} ms** after it (before, it ran on to its end: "
          f"{before_ms:.0f} ms).")  # fmt: skip

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
