"""Offline speech in small units must sound like one piece: no gap and no level jump at a join.

A long first sentence is synthesised as a short first unit (its first words) and the rest, so
the first sound comes fast (issue 14). Piper pads every run with silence (~50 ms before, up to
300 ms after) and the old per-piece peak normalisation gave each piece its own gain; both would
be heard at a join inside a sentence.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest

from voicedesk.engines.local import _GAIN, _KNEE, LocalEngine
from voicedesk.engines.local_audio import shape_run

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

MAX_GAP_SECONDS = 0.030
QUIET = 0.01  # -40 dBFS: below this a stretch counts as a gap

LONG_FIRST_SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Once upon a time there was a little girl who lived in a village near the forest.",
    "Please remember to bring the quarterly report to the meeting with the board tomorrow "
    "morning at nine, because the auditors want to see the figures before the end of the week "
    "and nobody else has a copy.",
]


@pytest.fixture(scope="module")
def engine() -> Iterator[LocalEngine]:
    local = LocalEngine()
    local.preload(stt=False)
    yield local
    local.close()


def _samples(chunk: bytes) -> np.ndarray:
    return np.frombuffer(chunk, dtype="<i2").astype(np.float32) / 32768.0


def _quiet_run(samples: np.ndarray, from_end: bool) -> int:
    loud = np.flatnonzero(np.abs(samples) >= QUIET)
    if not loud.size:
        return samples.size
    return samples.size - 1 - int(loud[-1]) if from_end else int(loud[0])


@pytest.mark.parametrize("text", LONG_FIRST_SENTENCES)
def test_no_gap_at_a_join_inside_a_sentence(
    engine: LocalEngine, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    voice = engine._tts()
    runs: list[list[str]] = []
    to_ids = type(voice).phonemes_to_ids

    def recording(self: object, phonemes: list[str]) -> list[int]:
        runs.append(list(phonemes))
        return to_ids(self, phonemes)  # type: ignore[arg-type]

    monkeypatch.setattr(type(voice), "phonemes_to_ids", recording)
    chunks = list(engine.stream_speech(text))
    assert len(chunks) == len(runs) >= 2  # the first words came as a unit of their own
    rate = engine.speech_format.sample_rate
    word_joins = 0
    for (before, after), run in zip(itertools.pairwise(chunks), runs, strict=False):
        gap = (_quiet_run(_samples(before), True) + _quiet_run(_samples(after), False)) / rate
        if "".join(run).rstrip()[-1:] in ",;:":
            # A clause mark's pause, as Piper makes it inside a whole sentence (~300 ms).
            assert 0.15 <= gap <= 0.40, f"{gap * 1000:.0f} ms after a clause mark"
        else:
            word_joins += 1
            assert gap <= MAX_GAP_SECONDS, f"{gap * 1000:.0f} ms of quiet at a word join"
    assert word_joins >= 1


def test_one_gain_for_every_unit(engine: LocalEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    # Peak normalisation gave each piece its own gain (a quiet piece jumped up next to a loud
    # one). Every run now gets the same gain: output level / Piper's level is one number.
    voice = engine._tts()  # the loaded voice, to see what Piper made
    made: list[np.ndarray] = []
    synthesise = type(voice).phoneme_ids_to_audio

    def recording(self: object, *args: object, **kwargs: object) -> object:
        audio = synthesise(self, *args, **kwargs)  # type: ignore[arg-type]
        made.append(np.asarray(audio, dtype=np.float32).reshape(-1))
        return audio

    monkeypatch.setattr(type(voice), "phoneme_ids_to_audio", recording)
    text = " ".join(LONG_FIRST_SENTENCES) + " One two three."
    chunks = [_samples(c) for c in engine.stream_speech(text)]
    assert len(chunks) == len(made) >= 4
    # Each run's loudest sample is Piper's loudest times the one gain (through the soft knee):
    # peak normalisation would have put every one at full scale instead.
    expected = [float(np.max(np.abs(shape(raw)))) for raw in made]
    heard = [float(np.max(np.abs(out))) for out in chunks]
    assert np.allclose(heard, expected, atol=2 / 32768), (heard, expected)
    assert max(heard) - min(heard) > 0.05  # the runs differ in level, as speech does


def shape(raw: np.ndarray) -> np.ndarray:
    return shape_run(
        raw, 22_050, gain=_GAIN, knee=_KNEE, silence=0.0, keep_seconds=0.0,
        trim_head=False, trim_tail=False,
    )  # fmt: skip
