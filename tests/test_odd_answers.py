"""Answers that are not what was asked for, at the engine: named, not retried, never silent."""

from __future__ import annotations

import pytest
from elevenlabs.core.api_error import ApiError

from tests.emulator import TEST_API_KEY, Fault
from tests.emulator.server import Emulator
from tests.helpers.fault_cases import HTML
from voicedesk.engines.elevenlabs import ElevenLabsEngine
from voicedesk.engines.elevenlabs_errors import classify
from voicedesk.errors import UnexpectedResponseError
from voicedesk.limits import API_SLOTS

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures


@pytest.fixture
def engine(emulator: Emulator):
    made = ElevenLabsEngine(TEST_API_KEY, emulator.base_url, timeout=2.0)
    yield made
    made.close()
    assert API_SLOTS.available() == 3


@pytest.mark.parametrize(
    ("content_type", "says"),
    [("text/html; charset=utf-8", "text/html instead of audio"),
     ("application/json", "application/json instead of audio"),
     ("audio/mpeg", "no audio at all")],
)  # fmt: skip
def test_speech_that_is_not_audio(
    content_type: str, says: str, engine: ElevenLabsEngine, emulator: Emulator
) -> None:
    body = b"" if content_type == "audio/mpeg" else HTML
    emulator.always("tts", Fault.answer(body, content_type))
    with pytest.raises(UnexpectedResponseError) as caught:
        b"".join(engine.stream_speech("Hello."))
    assert says in caught.value.message
    assert len(emulator.requests("tts")) == 1  # not retried: it would come back the same


@pytest.mark.parametrize("content_type", ["audio/mpeg", "application/octet-stream", "audio/mp3"])
def test_any_audio_type_is_audio(
    content_type: str, engine: ElevenLabsEngine, emulator: Emulator, tts_mp3
) -> None:
    emulator.always("tts", Fault(content_type=content_type))
    assert b"".join(engine.stream_speech("Hello.")) == tts_mp3("Hello.")


def test_an_html_error_page_is_not_put_in_a_message() -> None:
    # What the SDK raises for a 4xx whose body is not JSON (a proxy's page): the body as text.
    error = ApiError(status_code=403, headers={}, body=HTML.decode())
    message = classify(error, TEST_API_KEY).error.message
    assert "(403)" in message and "<" not in message


@pytest.mark.parametrize("kind", ["voices", "user"])
def test_account_answers_of_the_wrong_shape(
    kind: str, engine: ElevenLabsEngine, emulator: Emulator
) -> None:
    emulator.always(kind, Fault.answer(b'{"voices": 3, "tier": 3}', "application/json"))  # type: ignore[arg-type]
    with pytest.raises(UnexpectedResponseError) as caught:
        engine.voices() if kind == "voices" else engine.quota()
    assert "could not be read" in caught.value.message


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_a_non_audio_answer_counts_for_the_offline_fallback(make_window, qtbot, emulator) -> None:
    emulator.always("tts", Fault.answer(HTML, "text/html"))
    window = make_window(offline_fallback=True)
    with qtbot.waitSignal(window.speaker.utterance_finished, timeout=60000):
        window.speak("Fall back, please.")
    assert "text/html instead of audio" in window.banner.text
    assert "offline voice instead" in window.banner.text
