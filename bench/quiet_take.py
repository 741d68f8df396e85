"""Does level normalisation of a quiet take help speech-to-text? (the job pydub was declared for)

    .venv/bin/python bench/quiet_take.py

espeak-ng sentences at 16 kHz (made in memory), scaled to a quiet peak level with a little room
noise under them, as a take from a microphone whose gain is set too low would be; each is
transcribed (twice) by the offline engine (faster-whisper tiny.en, VAD on, as the app runs it) as
recorded and after peak normalisation to -1 dBFS (what pydub's `effects.normalize` does to an
`AudioSegment` of raw PCM, here in numpy; a first, smaller run with pydub itself showed the
same pattern). Prints the word error rate per level, both ways.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from voicedesk import early_init  # noqa: E402

early_init.apply()  # as the app does first: telemetry off, switch interval

import jiwer  # noqa: E402
import numpy as np  # noqa: E402

from tests.helpers.sounds import speech_pcm  # noqa: E402
from voicedesk.engines.local import LocalEngine  # noqa: E402
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


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


def quiet(pcm: bytes, peak_dbfs: float, seed: int) -> bytes:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    samples *= 10 ** (peak_dbfs / 20) * 32767 / max(1.0, float(np.abs(samples).max()))
    rng = np.random.default_rng(seed)
    pad = np.zeros(STT_SAMPLE_RATE // 2)
    samples = np.concatenate([pad, samples, pad])
    samples += rng.normal(0, 32768 * 10 ** (NOISE_DBFS / 20), samples.size)
    return np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()


def normalised(pcm: bytes, headroom_db: float = 1.0) -> bytes:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    peak = float(np.abs(samples).max()) or 1.0
    gain = 10 ** (-headroom_db / 20) * 32768 / peak
    return np.clip(np.trunc(samples * gain), -32768, 32767).astype("<i2").tobytes()


def main() -> int:
    engine = LocalEngine()
    speech = [speech_pcm(text, STT_SAMPLE_RATE) for text in SENTENCES]
    engine.transcribe_audio(speech[0])  # load the model outside the timings
    print("| peak of the take | WER as recorded | WER normalised | normalise, per take |")
    print("| --- | --- | --- | --- |")
    for peak in PEAKS_DBFS:
        truth, plain, louder, spent = [], [], [], []
        for _ in range(PASSES):
            for index, (text, pcm) in enumerate(zip(SENTENCES, speech, strict=True)):
                take = quiet(pcm, peak, seed=index)
                start = time.perf_counter()
                boosted = normalised(take)
                spent.append(time.perf_counter() - start)
                truth.append(_words(text))
                plain.append(_words(engine.transcribe_audio(take)))
                louder.append(_words(engine.transcribe_audio(boosted)))
        print(
            f"| {peak:.0f} dBFS | {jiwer.wer(truth, plain):.1%} | {jiwer.wer(truth, louder):.1%} "
            f"| {1000 * max(spent):.1f} ms |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
