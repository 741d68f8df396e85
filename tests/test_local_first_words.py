"""The offline voice's first words, made ahead of Speak (`LocalEngine.prepare_first_words`).

Real Piper throughout; the voice's synthesis call is only counted (and, where a test needs one
call to be under way while another comes, held until the test lets it go).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from tests.helpers.counted_voice import CountedVoice
from tests.helpers.next_in_thread import NextInThread
from voicedesk.cancel import CancelToken
from voicedesk.engines.local import LocalEngine
from voicedesk.engines.local_runs import RUN_PHONEMES
from voicedesk.errors import Cancelled

TEXT = "Please remember to bring the quarterly report to the meeting tomorrow morning."


@pytest.fixture(scope="module")
def loaded() -> Iterator[LocalEngine]:
    engine = LocalEngine()
    engine.preload(stt=False)
    yield engine
    engine.close()


@pytest.fixture
def engine(loaded: LocalEngine) -> LocalEngine:
    loaded.prepare_first_words("Something else entirely.")  # no test starts with TEXT's words
    return loaded


@pytest.fixture
def voice(engine: LocalEngine, monkeypatch: pytest.MonkeyPatch) -> CountedVoice:
    return CountedVoice(engine, monkeypatch)


def test_prepared_words_are_not_made_again(engine: LocalEngine, voice: CountedVoice) -> None:
    assert engine.prepare_first_words(TEXT)
    assert len(voice.calls) == 1 and len(voice.calls[0]) <= 2 * (RUN_PHONEMES[0] + 2)
    chunks = engine.stream_speech(TEXT)
    first = next(chunks)
    assert len(voice.calls) == 1  # the first chunk came from the prepared run
    assert np.abs(np.frombuffer(first, dtype="<i2")).max() > 0.1 * 32768  # and it is speech
    rest = list(chunks)
    assert rest and len(voice.calls) == 1 + len(rest)  # the rest is made as before


def test_a_second_preparation_of_the_same_words_does_nothing(
    engine: LocalEngine, voice: CountedVoice
) -> None:
    assert engine.prepare_first_words(TEXT)
    assert engine.prepare_first_words(TEXT + " And more after it.")  # same first words
    assert len(voice.calls) == 1


def test_other_text_is_made_as_before(engine: LocalEngine, voice: CountedVoice) -> None:
    assert engine.prepare_first_words(TEXT)
    pieces = list(engine.stream_speech("Turn left at the next corner, then right."))
    assert pieces and len(voice.calls) == 1 + len(pieces)


def test_speak_while_the_same_words_are_being_prepared_waits_for_them(
    engine: LocalEngine, voice: CountedVoice
) -> None:
    voice.hold()
    preparing = threading.Thread(target=engine.prepare_first_words, args=(TEXT,))
    preparing.start()
    assert voice.entered.wait(30)
    chunks = engine.stream_speech(TEXT)
    got: list[bytes] = []
    speaking = threading.Thread(target=lambda: got.append(next(chunks)))
    speaking.start()
    voice.release.set()
    speaking.join(30)
    preparing.join(30)
    assert got and len(voice.calls) == 1  # one synthesis of the first run, not two at once
    chunks.close()  # type: ignore[attr-defined]


def test_preparing_while_speak_makes_the_same_words_waits_too(
    engine: LocalEngine, voice: CountedVoice
) -> None:
    """A paste, then Ctrl+Enter at once: Speak starts the first run before the window's
    preparation does; the preparation finds it under way."""
    voice.hold()
    chunks = engine.stream_speech(TEXT)
    got: list[bytes] = []
    speaking = threading.Thread(target=lambda: got.append(next(chunks)))
    speaking.start()
    assert voice.entered.wait(30)
    done: list[bool] = []
    preparing = threading.Thread(target=lambda: done.append(engine.prepare_first_words(TEXT)))
    preparing.start()
    preparing.join(30)
    assert done == [True] and len(voice.calls) == 1  # returned at once, nothing made
    voice.release.set()
    speaking.join(30)
    assert got and len(voice.calls) == 1
    chunks.close()  # type: ignore[attr-defined]


def test_cancel_while_waiting_for_prepared_words(engine: LocalEngine, voice: CountedVoice) -> None:
    voice.hold()
    preparing = threading.Thread(target=engine.prepare_first_words, args=(TEXT,))
    preparing.start()
    assert voice.entered.wait(30)
    cancel = threading.Event()
    speaking = NextInThread(engine.stream_speech(TEXT, cancel=cancel))
    cancel.set()
    # It ends without the held synthesis finishing.
    assert isinstance(speaking.join(), Cancelled)
    voice.release.set()
    preparing.join(30)


def test_words_whose_making_was_stopped_are_made_again(
    engine: LocalEngine, voice: CountedVoice
) -> None:
    voice.hold()
    cancel = CancelToken()
    speaking = NextInThread(engine.stream_speech(TEXT, cancel=cancel))
    assert voice.entered.wait(30)
    cancel.set()  # Stop, while Speak makes the first run: the run ends unfinished
    voice.release.set()
    assert isinstance(speaking.join(), Cancelled)
    assert engine.prepare_first_words(TEXT)  # then the user pauses, or presses Speak again
    assert len(voice.calls) == 2
    next(engine.stream_speech(TEXT))
    assert len(voice.calls) == 2  # and Speak finds it made


@pytest.mark.parametrize("text", ["", "   \n\t", "\u200b\u200b"])
def test_nothing_to_prepare(engine: LocalEngine, voice: CountedVoice, text: str) -> None:
    assert not engine.prepare_first_words(text)
    assert voice.calls == []


def test_a_huge_paste_prepares_from_its_start_only(
    engine: LocalEngine, voice: CountedVoice
) -> None:
    """A 3 MB paste with no sentence end: the preparation reads its first thousand characters,
    so each pause in typing stays cheap, and what it makes is still the first run Speak uses."""
    huge = "word " * 600_000
    started = time.monotonic()
    assert engine.prepare_first_words(huge)
    assert time.monotonic() - started < 10  # a bound, not a benchmark: it must not scan 3 MB
    assert len(voice.calls) == 1
    chunks = engine.stream_speech(huge[:5_000])
    next(chunks)
    assert len(voice.calls) == 1
    chunks.close()  # type: ignore[attr-defined]
