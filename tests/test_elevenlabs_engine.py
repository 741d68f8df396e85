"""ElevenLabsEngine against the emulator: the real SDK over real sockets, faults injected."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest

from tests.emulator.config import TEST_API_KEY
from tests.emulator.faults import Fault
from tests.emulator.server import Emulator
from voicedesk.cancel import CancelToken
from voicedesk.config import DEFAULT_VOICE_ID
from voicedesk.engines.elevenlabs import ElevenLabsEngine
from voicedesk.errors import (
    Cancelled,
    EmptyTextError,
    InvalidKeyError,
    NetworkError,
    QuotaExceededError,
    RateLimitedError,
    RecordingTooShortError,
    StreamInterruptedError,
    VoiceDeskError,
    VoiceNotFoundError,
)
from voicedesk.limits import API_SLOTS, RetryPolicy
from voicedesk.text import split_text

TEXT = "The quick brown fox jumps over the lazy dog."
WRONG_KEY = "sk_wrong_key_that_must_never_be_shown_9f8e7d"


@pytest.fixture
def engine(emulator: Emulator) -> Iterator[ElevenLabsEngine]:
    engine = ElevenLabsEngine(TEST_API_KEY, base_url=emulator.base_url, timeout=5)
    yield engine
    engine.close()
    assert API_SLOTS.available() == 3, "a call kept its API slot"


def reference(emulator: Emulator, text: str = TEXT) -> bytes:
    """The whole MP3 for `text`, fetched without faults (the emulator's audio is deterministic)."""
    plain = ElevenLabsEngine(TEST_API_KEY, base_url=emulator.base_url)
    try:
        return plain.generate_speech(text)
    finally:
        plain.close()


def test_streams_with_the_contract_defaults(engine: ElevenLabsEngine, emulator: Emulator) -> None:
    audio = engine.generate_speech(TEXT)
    assert audio[:3] == b"ID3" or audio[0] == 0xFF
    (request,) = emulator.requests("tts")
    assert request.path == f"/v1/text-to-speech/{DEFAULT_VOICE_ID}/stream"
    assert request.param("output_format") == "mp3_44100_128"
    assert request.json["model_id"] == "eleven_flash_v2_5"
    assert request.json["text"] == TEXT


def test_one_byte_chunks_arrive_byte_exact(engine: ElevenLabsEngine, emulator: Emulator) -> None:
    whole = reference(emulator)
    emulator.always("tts", Fault.slow(chunk_size=1))
    chunks = list(engine.stream_speech(TEXT))
    assert b"".join(chunks) == whole
    assert len(chunks) > 1  # handed over as they came, not gathered first


def test_the_first_chunk_reaches_the_caller_before_the_server_sends_the_rest(
    engine: ElevenLabsEngine, emulator: Emulator
) -> None:
    emulator.script("tts", [Fault.stall(after=600)])
    stream = engine.stream_speech(TEXT)
    first = next(stream)
    record = emulator.wait_stalled("tts")
    assert 0 < len(first) <= 600
    assert record.bytes_sent <= 600 and not record.done.is_set()
    emulator.release()
    rest = b"".join(stream)
    assert first + rest == reference(emulator)


def test_eight_concurrent_calls_never_exceed_three_in_flight(
    engine: ElevenLabsEngine, emulator: Emulator
) -> None:
    emulator.always("tts", Fault.slow(ttfb=0.05, pacing=0.002))
    results: list[bytes] = []
    errors: list[BaseException] = []

    def speak(i: int) -> None:
        try:
            results.append(engine.generate_speech(f"Sentence number {i}."))
        except BaseException as exc:  # collected for the assert below
            errors.append(exc)

    threads = [threading.Thread(target=speak, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert len(results) == 8 and all(results)
    assert emulator.max_in_flight <= 3
    assert emulator.max_in_flight == 3  # the slots were actually used in parallel


def test_429_twice_then_success_after_three_requests_and_two_delays(
    engine: ElevenLabsEngine, emulator: Emulator
) -> None:
    emulator.script("tts", [Fault.too_many_concurrent(), Fault.system_busy(), None])
    started = time.monotonic()
    audio = engine.generate_speech(TEXT)
    elapsed = time.monotonic() - started
    assert audio == reference(emulator)
    assert len(emulator.requests("tts")) == 4  # three tries, then the reference fetch
    assert elapsed >= 1.2


def test_429_four_times_gives_up_after_exactly_three_requests(
    engine: ElevenLabsEngine, emulator: Emulator
) -> None:
    emulator.always("tts", Fault.too_many_concurrent())
    with pytest.raises(RateLimitedError) as caught:
        engine.generate_speech(TEXT)
    assert len(emulator.requests("tts")) == 3
    assert "busy" in caught.value.message


def test_a_reset_before_the_first_byte_is_retried(
    engine: ElevenLabsEngine, emulator: Emulator
) -> None:
    emulator.script("tts", [Fault.connection_reset(), None])
    assert engine.generate_speech(TEXT) == reference(emulator)
    assert len(emulator.requests("tts")) == 3  # reset, success, reference


def test_a_cut_after_the_first_byte_is_not_retried(
    engine: ElevenLabsEngine, emulator: Emulator
) -> None:
    emulator.script("tts", [Fault.cut(after=2000)])
    received = bytearray()
    with pytest.raises(StreamInterruptedError) as caught:
        for chunk in engine.stream_speech(TEXT):
            received += chunk
    assert len(emulator.requests("tts")) == 1
    assert 0 < len(received) <= 2000
    assert reference(emulator).startswith(bytes(received))  # what arrived is kept, in order
    assert "dropped" in caught.value.message


def test_timeouts_before_audio_are_retried_then_reported(emulator: Emulator) -> None:
    engine = ElevenLabsEngine(
        TEST_API_KEY, base_url=emulator.base_url, timeout=0.3, retry=RetryPolicy(delay=0.01)
    )
    emulator.always("tts", Fault.stall(after=0, seconds=2))
    try:
        with pytest.raises(NetworkError, match="in time"):
            engine.generate_speech(TEXT)
    finally:
        engine.close()
        emulator.release()
    assert len(emulator.requests("tts")) == 3


def test_a_stall_after_audio_started_ends_the_utterance(emulator: Emulator) -> None:
    engine = ElevenLabsEngine(TEST_API_KEY, base_url=emulator.base_url, timeout=0.3)
    emulator.always("tts", Fault.stall(after=1000))
    try:
        with pytest.raises(StreamInterruptedError):
            engine.generate_speech(TEXT)
    finally:
        engine.close()
        emulator.release()
    assert len(emulator.requests("tts")) == 1


def test_ten_cancelled_streams_leave_all_three_slots_free(
    engine: ElevenLabsEngine, emulator: Emulator
) -> None:
    emulator.always("tts", Fault.stall(after=500))
    texts = [f"{TEXT} Number {i}." for i in range(10)]
    tokens = {text: CancelToken() for text in texts}
    outcomes: list[str] = []
    lock = threading.Lock()

    def speak(text: str) -> None:
        try:
            for _ in engine.stream_speech(text, cancel=tokens[text]):
                pass
            outcome = "finished"
        except Cancelled:
            outcome = "cancelled"
        except VoiceDeskError as exc:
            outcome = f"error: {exc.message}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=speak, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for nth in range(3):  # three streams hold the slots, stalled mid-way; seven wait for one
        emulator.wait_stalled("tts", nth)
    assert API_SLOTS.available() == 0
    holding = {record.json["text"] for record in emulator.requests("tts")}
    # The waiters first: cancelling a holder first would hand its slot to a waiter that was
    # not cancelled yet, which would then rightly send its request.
    order = [t for t in texts if t not in holding] + [t for t in texts if t in holding]
    started = time.monotonic()
    for text in order:
        tokens[text].set()
    for thread in threads:
        thread.join(5)
    assert time.monotonic() - started < 2  # the stalled reads were interrupted, not waited out
    assert outcomes == ["cancelled"] * 10
    assert API_SLOTS.available() == 3
    assert len(emulator.requests("tts")) == 3  # the cancelled waiters never sent anything
    emulator.release()


def test_closing_the_generator_mid_stream_closes_the_response(
    engine: ElevenLabsEngine, emulator: Emulator
) -> None:
    emulator.always("tts", Fault.slow(pacing=0.01, chunk_size=256))
    stream = engine.stream_speech("A long sentence for a long stream. " * 20)
    next(stream)
    assert API_SLOTS.available() == 2
    stream.close()
    assert API_SLOTS.available() == 3
    record = emulator.wait_done("tts")
    assert record.outcome != "complete"


@pytest.mark.parametrize(
    ("fault", "error", "words"),
    [
        (Fault.invalid_key(), InvalidKeyError, "key was rejected"),
        (Fault.quota_exceeded(), QuotaExceededError, "quota"),
        (Fault.status(404, "voice_not_found"), VoiceNotFoundError, "voice"),
    ],
)
def test_account_errors_read_clearly_and_are_not_retried(
    engine: ElevenLabsEngine,
    emulator: Emulator,
    fault: Fault,
    error: type[VoiceDeskError],
    words: str,
) -> None:
    emulator.always("tts", fault)
    with pytest.raises(error) as caught:
        engine.generate_speech(TEXT)
    assert words in caught.value.message
    assert len(emulator.requests("tts")) == 1


def test_a_wrong_key_never_shows_up_in_messages_reprs_or_logs(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    engine = ElevenLabsEngine(WRONG_KEY, base_url=emulator.base_url)
    try:
        with pytest.raises(InvalidKeyError) as caught:
            engine.generate_speech(TEXT)
        with pytest.raises(InvalidKeyError) as caught_stt:
            engine.transcribe_audio(b"\0\0" * 16000)
    finally:
        engine.close()
    shown = [
        caught.value.message, str(caught.value), repr(caught.value), repr(engine),
        caught_stt.value.message, caplog.text,
    ]  # fmt: skip
    assert not any(WRONG_KEY in text for text in shown)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_long_text_arrives_as_ordered_pieces_with_context(
    engine: ElevenLabsEngine, emulator: Emulator
) -> None:
    text = " ".join(f"Sentence {i} of a long read, said in order." for i in range(120))
    pieces = split_text(text)
    assert len(pieces) >= 3
    audio = engine.generate_speech(text)
    requests = emulator.requests("tts")
    assert [r.json["text"] for r in requests] == [p.text for p in pieces]
    assert requests[0].json.get("previous_text") is None
    assert requests[1].json["previous_text"] == pieces[0].text
    assert requests[0].json["next_text"] == pieces[1].text
    assert len(audio) > sum(len(reference(emulator, p.text)) for p in pieces[:1])
    assert emulator.max_in_flight == 1  # in order: one piece after the other


@pytest.mark.parametrize("text", ["", "   ", "\n\t \n"])
def test_empty_text_sends_nothing(engine: ElevenLabsEngine, emulator: Emulator, text: str) -> None:
    with pytest.raises(EmptyTextError):
        engine.stream_speech(text)
    assert emulator.requests() == []


def test_speech_to_text_sends_raw_pcm_to_scribe_v2(
    engine: ElevenLabsEngine, emulator: Emulator
) -> None:
    pcm = bytes(range(256)) * 250
    emulator.configure(transcript="hello world")
    assert engine.transcribe_audio(pcm, "en") == "hello world"
    (request,) = emulator.requests("stt")
    assert request.path == "/v1/speech-to-text"
    assert request.form["model_id"] == "scribe_v2"
    assert request.form["file_format"] == "pcm_s16le_16"
    assert request.form["language_code"] == "en"
    assert request.audio == pcm


def test_speech_to_text_retries_keep_the_form_fields(
    engine: ElevenLabsEngine, emulator: Emulator
) -> None:
    emulator.script("stt", [Fault.too_many_concurrent(), None])
    pcm = b"\1\0" * 8000
    assert engine.transcribe_audio(pcm) == "hello from the emulator"
    first, second = emulator.requests("stt")
    assert first.form == second.form and second.audio == pcm


def test_speech_to_text_of_nothing_sends_nothing(
    engine: ElevenLabsEngine, emulator: Emulator
) -> None:
    with pytest.raises(RecordingTooShortError):
        engine.transcribe_audio(b"")
    assert emulator.requests() == []


def test_unreachable_service_reads_as_a_network_error() -> None:
    engine = ElevenLabsEngine(
        TEST_API_KEY, base_url="http://127.0.0.1:9", retry=RetryPolicy(delay=0.01)
    )
    try:
        with pytest.raises(NetworkError, match="Could not reach"):
            engine.generate_speech(TEXT)
    finally:
        engine.close()
    assert API_SLOTS.available() == 3


def test_voices_follow_every_page_and_quota_reads_the_subscription(
    engine: ElevenLabsEngine, emulator: Emulator
) -> None:
    voices = engine.voices()
    assert DEFAULT_VOICE_ID in {v.voice_id for v in voices}
    assert len({v.voice_id for v in voices}) == len(voices)
    quota = engine.quota()
    assert quota is not None and quota.limit > 0 and quota.remaining <= quota.limit
