"""Does raising a quiet take help offline speech-to-text, and how far may the gain go?

    .venv/bin/python bench/quiet_take.py

espeak-ng sentences at 16 kHz (made in memory), scaled to a quiet peak level with a little room
noise under them, as a take from a microphone whose gain is set too low would be; each is
transcribed (twice) by the offline engine (faster-whisper tiny.en, VAD on, as the app runs it)
as recorded, raised by the engine itself (`LocalEngine`'s default: peak to -1 dBFS, at most
+40 dB), and raised with a looser bound on the gain. Then takes of room noise alone (a press of
the key with nothing said), which no gain may turn into words. Prints word error rates, and how
many of the noise-only takes came back with words.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from voicedesk import early_init  # noqa: E402

early_init.apply()  # as the app does first: telemetry off, switch interval

import jiwer  # noqa: E402

from tests.helpers.sounds import quiet_take, room_noise, speech_pcm  # noqa: E402
from voicedesk.engines.local import QUIET_MAX_GAIN_DB, QUIET_PEAK_DBFS, LocalEngine  # noqa: E402
from voicedesk.engines.local_audio import float32_to_pcm, pcm_to_float32, raise_quiet  # noqa: E402
from voicedesk.errors import STT_SAMPLE_RATE  # noqa: E402

SENTENCES = (
    "Please remind me to call the dentist tomorrow morning.",
    "The weather is nice today, so we will walk to the station.",
    "Send the quarterly report to Maria before five o'clock.",
    "Turn the volume down a little and play the next song.",
    "My flight leaves on Thursday at half past seven.",
    "Can you read the last message from my brother again?",
    "Add milk, eggs and a loaf of bread to the shopping list.",
    "The meeting with the design team moved to next Monday.",
    "How long does it take to drive from here to the airport?",
    "Open the window in the kitchen before dinner is ready.",
    "I left my keys on the table next to the front door.",
    "Write down that the printer on the second floor is broken.",
)
PEAKS_DBFS = (-20.0, -35.0, -45.0, -50.0, -55.0)
PASSES = 2  # the recogniser is not bit-exact from run to run on a busy machine
NOISE_DBFS = -75.0  # RMS of the room noise under the quiet take, at the same gain
NOISE_ALONE_DBFS = (-75.0, -60.0)  # a key press with nothing said, in a quiet and a noisy room
OTHER_BOUND_DB = 60.0  # a bound on the gain to compare with the app's: up to -1 dBFS, nearly always


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


def recognise(engine: LocalEngine, pcm: bytes) -> str:
    return _words(engine.transcribe_audio(pcm))  # "" when nothing was heard


def bounded(pcm: bytes, max_gain_db: float) -> bytes:
    """`pcm` raised as the engine raises it, with another bound on the gain."""
    audio = raise_quiet(pcm_to_float32(pcm), peak_dbfs=QUIET_PEAK_DBFS, max_gain_db=max_gain_db)
    return float32_to_pcm(audio)


def main() -> int:
    shipped = LocalEngine()  # raises quiet takes (QUIET_MAX_GAIN_DB)
    as_recorded = LocalEngine(raise_quiet_takes=False)
    ways: dict[str, Callable[[bytes], str]] = {
        "as recorded": lambda pcm: recognise(as_recorded, pcm),
        f"raised, at most +{QUIET_MAX_GAIN_DB:.0f} dB (the app)": lambda pcm: recognise(
            shipped, pcm
        ),
        f"raised, at most +{OTHER_BOUND_DB:.0f} dB": lambda pcm: recognise(
            as_recorded, bounded(pcm, OTHER_BOUND_DB)
        ),
    }
    speech = [speech_pcm(text, STT_SAMPLE_RATE) for text in SENTENCES]
    shipped.transcribe_audio(speech[0])  # load the models outside the loop
    as_recorded.transcribe_audio(speech[0])
    print("| peak of the take | " + " | ".join(f"WER {way}" for way in ways) + " |")
    print("| --- |" + " --- |" * len(ways))
    for peak in PEAKS_DBFS:
        truth: list[str] = []
        heard: dict[str, list[str]] = {way: [] for way in ways}
        for _ in range(PASSES):
            for index, (text, pcm) in enumerate(zip(SENTENCES, speech, strict=True)):
                take = quiet_take(pcm, peak, NOISE_DBFS, index, STT_SAMPLE_RATE)
                truth.append(_words(text))
                for way, run in ways.items():
                    heard[way].append(run(take))
        rates = " | ".join(f"{jiwer.wer(truth, heard[way]):.1%}" for way in ways)
        print(f"| {peak:.0f} dBFS | {rates} |")
    for noise in NOISE_ALONE_DBFS:
        takes = [room_noise(2.0, noise, seed, STT_SAMPLE_RATE) for seed in range(len(SENTENCES))]
        counts = " | ".join(
            f"{sum(1 for take in takes if run(take))} of {len(takes)} with words"
            for run in ways.values()
        )
        print(f"| room noise alone, {noise:.0f} dBFS RMS | {counts} |")
    start = time.perf_counter()
    for pcm in speech:
        bounded(quiet_take(pcm, -45.0, NOISE_DBFS, 0, STT_SAMPLE_RATE), QUIET_MAX_GAIN_DB)
    print(f"\nraising one take: {1000 * (time.perf_counter() - start) / len(speech):.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
