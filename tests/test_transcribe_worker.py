"""Transcriber: results and errors as signals, nothing lost, retry, cancel, clean shutdown."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.emulator.config import TEST_API_KEY
from tests.emulator.faults import Fault
from tests.emulator.server import Emulator
from tests.helpers.pulse import PulseServer
from tests.test_recorder import (  # noqa: F401 (live_mic is a fixture)
    espeak_pcm,
    live_mic,
    play_and_wait,
    record_faithfully,
    similarity,
)
from voicedesk.audio.capture.recorder import Recorder
from voicedesk.engines.base import SpeechEngine
from voicedesk.engines.elevenlabs import ElevenLabsEngine
from voicedesk.errors import Cancelled, NetworkError
from voicedesk.limits import API_SLOTS, MAX_CONCURRENT_API_CALLS, api_slot
from voicedesk.workers.transcribe import Transcriber

pytestmark = pytest.mark.timeout(30)
PCM = b"\x01\x00" * 16_000


class ScriptedEngine:
    """A tiny engine: answers (or raises) from a script, holding an API slot like a real one."""

    name = "scripted"

    def __init__(self, *results: str | Exception) -> None:
        self.results = list(results)
        self.calls: list[tuple[bytes, str, threading.Thread]] = []
        self.entered = threading.Event()
        self.gate: threading.Event | None = None  # when set, each call waits for it (or cancel)

    def transcribe_audio(
        self, pcm: bytes, language: str = "en", *, cancel: threading.Event | None = None
    ) -> str:
        with api_slot(cancel):
            self.calls.append((pcm, language, threading.current_thread()))
            self.entered.set()
            if self.gate is not None:
                while not self.gate.wait(0.01):
                    if cancel is not None and cancel.is_set():
                        raise Cancelled()
            result = self.results.pop(0)
            if isinstance(result, Exception):
                raise result
            return result


@pytest.fixture
def make_transcriber(qtbot: Any) -> Iterator[Any]:
    made: list[Transcriber] = []

    def make(engine: Any, language: str = "en") -> Transcriber:
        transcriber = Transcriber(engine, language)
        made.append(transcriber)
        return transcriber

    yield make
    for transcriber in made:
        assert transcriber.shutdown(5000)


def test_transcript_arrives_off_the_gui_thread(qtbot: Any, make_transcriber: Any) -> None:
    engine = ScriptedEngine("hello world")
    transcriber = make_transcriber(engine, "de")
    with (
        qtbot.waitSignal(transcriber.transcribed, timeout=5000) as result,
        qtbot.waitSignals([transcriber.busy_changed] * 2, timeout=5000),
    ):
        transcriber.transcribe(PCM)
        assert transcriber.busy
    assert result.args == ["hello world"]
    assert not transcriber.busy and not transcriber.can_retry
    ((pcm, language, thread),) = engine.calls
    assert pcm is PCM and language == "de"
    assert thread is not threading.main_thread()
    assert API_SLOTS.available() == MAX_CONCURRENT_API_CALLS


def test_failure_keeps_the_recording_for_one_retry(qtbot: Any, make_transcriber: Any) -> None:
    engine = ScriptedEngine(NetworkError(), "second time lucky")
    transcriber = make_transcriber(engine)
    with qtbot.waitSignal(transcriber.failed, timeout=5000) as failure:
        transcriber.transcribe(PCM)
    assert [failure.args[0].message, failure.args[1]] == [NetworkError.default_message, True]
    assert transcriber.can_retry and transcriber.last_recording is PCM
    with qtbot.waitSignal(transcriber.transcribed, timeout=5000) as result:
        assert transcriber.retry_last()
    assert result.args == ["second time lucky"]
    assert [call[0] for call in engine.calls] == [PCM, PCM]
    assert not transcriber.can_retry


def test_a_new_recording_replaces_the_kept_one(qtbot: Any, make_transcriber: Any) -> None:
    engine = ScriptedEngine(NetworkError(), "new")
    transcriber = make_transcriber(engine)
    with qtbot.waitSignal(transcriber.failed, timeout=5000):
        transcriber.transcribe(PCM)
    newer = b"\x02\x00" * 8000
    with qtbot.waitSignal(transcriber.transcribed, timeout=5000):
        transcriber.transcribe(newer)
    assert transcriber.last_recording is newer


def test_unexpected_errors_are_reported_not_raised(qtbot: Any, make_transcriber: Any) -> None:
    transcriber = make_transcriber(ScriptedEngine(RuntimeError("bug")))
    with qtbot.waitSignal(transcriber.failed, timeout=5000) as failure:
        transcriber.transcribe(PCM)
    assert [failure.args[0].message, failure.args[1]] == [
        "Transcription failed unexpectedly.",
        True,
    ]
    assert transcriber.can_retry


def test_cancel_and_shutdown_end_a_call_in_flight(qtbot: Any) -> None:
    engine = ScriptedEngine("never")
    engine.gate = threading.Event()
    transcriber = Transcriber(engine)
    transcriber.transcribe(PCM)
    assert engine.entered.wait(5)
    with qtbot.waitSignal(transcriber.failed, timeout=5000) as failure:
        transcriber.cancel()
    assert [failure.args[0].message, failure.args[1]] == ["Stopped.", True]
    assert transcriber.can_retry
    transcriber.retry_last()
    assert transcriber.shutdown(5000)  # cancels the retry in flight and joins the thread
    assert API_SLOTS.available() == MAX_CONCURRENT_API_CALLS


# -- end to end: the virtual microphone, the real engine, the emulator ---------------------


@pytest.fixture
def engine(emulator: Emulator) -> Iterator[SpeechEngine]:
    engine = ElevenLabsEngine(TEST_API_KEY, base_url=emulator.base_url)
    yield engine
    engine.close()


@pytest.mark.audio
def test_push_to_talk_sends_what_was_said(
    qtbot: Any,
    live_mic: PulseServer,  # noqa: F811
    emulator: Emulator,
    engine: SpeechEngine,
    make_transcriber: Any,
) -> None:
    emulator.configure(transcript="the quick brown fox")
    clip = espeak_pcm("The quick brown fox jumps over the lazy dog.")
    recorder = Recorder()
    transcriber = make_transcriber(engine)

    def push_to_talk() -> bytes:
        assert recorder.start()  # key down
        play_and_wait(live_mic, clip)
        pcm = recorder.stop()  # key up
        assert pcm is not None
        return pcm

    pcm = record_faithfully(live_mic, clip, push_to_talk)
    recorder.close()
    with qtbot.waitSignal(transcriber.transcribed, timeout=10_000) as result:
        transcriber.transcribe(pcm)
    assert result.args == ["the quick brown fox"]
    (request,) = emulator.requests("stt")
    assert request.form["model_id"] == "scribe_v2"
    assert request.form["file_format"] == "pcm_s16le_16"
    assert request.form["language_code"] == "en"
    assert request.audio == pcm
    assert similarity(request.audio, clip) > 0.9


@pytest.mark.audio
def test_stt_failure_keeps_the_recording_and_retry_sends_it_again(
    qtbot: Any,
    live_mic: PulseServer,  # noqa: F811
    emulator: Emulator,
    engine: SpeechEngine,
    make_transcriber: Any,
) -> None:
    emulator.configure(transcript="hello there")
    emulator.always("stt", Fault.status(500))
    recorder = Recorder()
    transcriber = make_transcriber(engine)
    assert recorder.start()
    play_and_wait(live_mic, espeak_pcm("hello there"))
    pcm = recorder.stop()
    assert pcm is not None
    with qtbot.waitSignal(transcriber.failed, timeout=15_000) as failure:
        transcriber.transcribe(pcm)
    error, retryable = failure.args
    message = error.message
    assert retryable and "ElevenLabs" in message
    assert transcriber.can_retry and transcriber.last_recording == pcm
    emulator.always("stt", None)
    with qtbot.waitSignal(transcriber.transcribed, timeout=10_000) as result:
        assert transcriber.retry_last()
    assert result.args == ["hello there"]
    assert all(r.audio == pcm for r in emulator.requests("stt"))
    recorder.close()
