"""A take recorded too quietly is raised before offline recognition, by a bounded gain.

The gain itself is checked on numbers; the engine tests transcribe spoken sentences made quiet
(espeak-ng, in memory) and room noise alone, as a press of the key with nothing said.
`bench/quiet_take.py` measures the word error rates behind the bound.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pytest

from tests.helpers.sounds import quiet_take, room_noise, speech_pcm
from voicedesk.engines.local import QUIET_MAX_GAIN_DB, QUIET_PEAK_DBFS, LocalEngine
from voicedesk.engines.local_audio import raise_quiet
from voicedesk.errors import STT_SAMPLE_RATE

RAISE = {"peak_dbfs": QUIET_PEAK_DBFS, "max_gain_db": QUIET_MAX_GAIN_DB}


def _db(ratio: float) -> float:
    return 20 * float(np.log10(ratio))


def test_a_quiet_take_is_raised_to_the_peak_level() -> None:
    audio = np.sin(np.linspace(0, 200, 16_000)).astype(np.float32) * 10 ** (-30 / 20)
    raised = raise_quiet(audio, **RAISE)
    assert _db(float(np.abs(raised).max())) == pytest.approx(QUIET_PEAK_DBFS, abs=0.01)
    # One gain for the whole take: every sample scaled alike.
    assert np.allclose(raised, audio * (raised.max() / audio.max()))


def test_the_gain_is_bounded() -> None:
    audio = np.full(1600, 10 ** (-90 / 20), dtype=np.float32)  # far below any speech
    raised = raise_quiet(audio, **RAISE)
    assert _db(float(raised.max() / audio.max())) == pytest.approx(QUIET_MAX_GAIN_DB, abs=0.01)


@pytest.mark.parametrize("peak", [0.0, 0.9, 0.99])  # -1 dBFS is 0.891
def test_silence_and_a_take_loud_enough_are_left_as_they_are(peak: float) -> None:
    audio = np.zeros(1600, dtype=np.float32)
    audio[::2] = peak
    assert raise_quiet(audio, **RAISE) is audio


def test_nothing_at_all_is_left_as_it_is() -> None:
    empty = np.zeros(0, dtype=np.float32)
    assert raise_quiet(empty, **RAISE) is empty


# --- through the offline engine --------------------------------------------------------------

SENTENCES = (
    "Please remind me to call the dentist tomorrow morning.",
    "Turn the volume down a little and play the next song.",
    "Add milk, eggs and a loaf of bread to the shopping list.",
)
ROOM_DBFS = -75.0  # RMS of the room noise under the take


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


@pytest.fixture(scope="module")
def engines() -> Iterator[tuple[LocalEngine, LocalEngine]]:
    """The app's engine, and one that recognises takes at the level they were recorded."""
    pair = (LocalEngine(), LocalEngine(raise_quiet_takes=False))
    for engine in pair:
        engine.preload(tts=False)
    yield pair
    for engine in pair:
        engine.close()


@pytest.mark.slow
def test_a_take_said_too_quietly_is_not_lost(engines: tuple[LocalEngine, LocalEngine]) -> None:
    """At -55 dBFS the VAD filter let nothing of most takes through; raised, words come back.
    (How many of them are right is the benchmark's to say: the recogniser samples again when
    its first decoding is unsure, so the words vary from run to run; whether any get through
    is the VAD's, and does not.)"""
    app, as_recorded = engines
    takes = [
        quiet_take(speech_pcm(text, STT_SAMPLE_RATE), -55.0, ROOM_DBFS, seed, STT_SAMPLE_RATE)
        for seed, text in enumerate(SENTENCES)
    ]
    heard = [_words(app.transcribe_audio(take)) for take in takes]
    missed = [_words(as_recorded.transcribe_audio(take)) for take in takes]
    assert all(heard), heard
    assert sum(1 for words in missed if not words) >= 2, missed


@pytest.mark.slow
@pytest.mark.parametrize("room_dbfs", [ROOM_DBFS, -60.0])
def test_room_noise_alone_stays_wordless(
    engines: tuple[LocalEngine, LocalEngine], room_dbfs: float
) -> None:
    app, _ = engines
    for seed in range(4):
        assert app.transcribe_audio(room_noise(2.0, room_dbfs, seed, STT_SAMPLE_RATE)) == ""
