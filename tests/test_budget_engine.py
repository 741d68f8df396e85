"""Account facts off each response, erasing what the service kept, and the plan's slot count:
the engine and `limits` with the real SDK against the emulator."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.emulator.config import TEST_API_KEY
from tests.emulator.faults import Fault
from tests.emulator.server import Emulator
from voicedesk import limits
from voicedesk.engines.elevenlabs import ElevenLabsEngine
from voicedesk.engines.usage import ResponseFacts, facts_from_headers
from voicedesk.errors import ServiceError
from voicedesk.limits import API_SLOTS, MAX_CONCURRENT_API_CALLS, RetryPolicy, api_slot

TEXT = "Twelve chars"
PCM = b"\x00\x01" * 16_000  # half a second


@pytest.fixture(autouse=True)
def _no_plan_limit() -> Iterator[None]:
    yield
    limits.set_plan_limit(None)
    assert API_SLOTS.available() == MAX_CONCURRENT_API_CALLS, "a slot was kept"


def make_engine(emulator: Emulator, **kwargs: object) -> ElevenLabsEngine:
    return ElevenLabsEngine(
        TEST_API_KEY,
        base_url=emulator.base_url,
        timeout=5,
        retry=RetryPolicy(attempts=2, delay=0.01),
        **kwargs,  # type: ignore[arg-type]
    )


def listen(engine: ElevenLabsEngine) -> list[ResponseFacts]:
    heard: list[ResponseFacts] = []
    engine.on_response = heard.append
    return heard


@pytest.mark.emulator(concurrency_limit=5)
def test_speech_reports_cost_concurrency_and_its_history_item(emulator: Emulator) -> None:
    engine = make_engine(emulator)
    heard = listen(engine)
    try:
        engine.generate_speech(TEXT)
    finally:
        engine.close()
    (facts,) = heard
    assert facts.kind == "tts"
    assert facts.character_cost == len(TEXT)
    assert facts.maximum_concurrent == 5
    assert facts.current_concurrent == 1
    assert facts.history_item_id in emulator.history_items
    assert facts.request_id
    # No extra call: the speech request was the only one.
    assert [r.kind for r in emulator.requests()] == ["tts"]


def test_transcription_reports_its_transcript(emulator: Emulator) -> None:
    engine = make_engine(emulator)
    heard = listen(engine)
    try:
        engine.transcribe_audio(PCM)
    finally:
        engine.close()
    (facts,) = heard
    assert facts.kind == "stt"
    assert facts.transcript_id in emulator.transcripts
    assert emulator.last("stt").param("enable_logging") is None


def test_deletes_history_items_and_transcripts(emulator: Emulator) -> None:
    engine = make_engine(emulator)
    heard = listen(engine)
    try:
        engine.generate_speech(TEXT)
        engine.transcribe_audio(PCM)
        spoken, heard_text = heard
        assert spoken.history_item_id and heard_text.transcript_id
        engine.delete_history_item(spoken.history_item_id)
        engine.delete_transcript(heard_text.transcript_id)
        assert emulator.history_items == {} and emulator.transcripts == {}
        # Deleting again: already gone (404) counts as done.
        engine.delete_history_item(spoken.history_item_id)
        engine.delete_transcript(heard_text.transcript_id)
    finally:
        engine.close()
    deletes = [r for r in emulator.requests() if r.method == "DELETE"]
    assert [r.path for r in deletes[:2]] == [
        f"/v1/history/{spoken.history_item_id}",
        f"/v1/speech-to-text/transcripts/{heard_text.transcript_id}",
    ]


def test_a_failed_deletion_raises_and_keeps_its_slot_free(emulator: Emulator) -> None:
    engine = make_engine(emulator)
    heard = listen(engine)
    emulator.always("history", Fault.server_error())
    try:
        engine.generate_speech(TEXT)
        item = heard[0].history_item_id
        assert item
        with pytest.raises(ServiceError):
            engine.delete_history_item(item)
        assert item in emulator.history_items
        emulator.always("history", None)
        engine.delete_history_item(item)
    finally:
        engine.close()
    assert item not in emulator.history_items


@pytest.mark.emulator(tier="enterprise", zero_retention=True)
def test_zero_retention_asks_the_service_to_keep_nothing(emulator: Emulator) -> None:
    engine = make_engine(emulator, erase_after_use=True)
    heard = listen(engine)
    try:
        assert not engine.zero_retention  # the tier is not known before the subscription
        engine.quota()
        assert engine.zero_retention
        engine.generate_speech(TEXT)
        engine.transcribe_audio(PCM)
    finally:
        engine.close()
    assert emulator.last("tts").param("enable_logging") == "false"
    assert emulator.last("stt").param("enable_logging") == "false"
    assert emulator.history_items == {} and emulator.transcripts == {}
    assert [(f.history_item_id, f.transcript_id) for f in heard] == [(None, None)] * 2


@pytest.mark.emulator(tier="creator")
def test_no_zero_retention_flag_without_an_enterprise_plan(emulator: Emulator) -> None:
    engine = make_engine(emulator, erase_after_use=True)
    try:
        engine.quota()
        assert not engine.zero_retention
        engine.generate_speech(TEXT)
    finally:
        engine.close()
    assert emulator.last("tts").param("enable_logging") is None


@pytest.mark.emulator(concurrency_limit=2)
def test_after_a_429_the_retry_reports_the_plan(emulator: Emulator) -> None:
    engine = make_engine(emulator)
    heard = listen(engine)
    emulator.script("tts", [Fault.too_many_concurrent()])
    try:
        engine.generate_speech(TEXT)  # the retry succeeds
    finally:
        engine.close()
    assert heard[-1].maximum_concurrent == 2


def test_malformed_headers_count_as_absent() -> None:
    facts = facts_from_headers(
        "tts",
        {
            "Character-Cost": "-4",
            "maximum-concurrent-requests": "two",
            "history-item-id": "../../etc",
            "request-id": "x" * 500,
        },
    )
    assert facts == ResponseFacts(kind="tts")


# -- the plan's slot count ----------------------------------------------------------------------


def test_a_plan_of_two_holds_one_slot_back_and_gives_it_back() -> None:
    assert limits.set_plan_limit(2) == 2
    assert API_SLOTS.available() == 2
    assert limits.app_slots() == 2 and limits.plan_limit() == 2
    assert limits.set_plan_limit(5) == MAX_CONCURRENT_API_CALLS
    assert API_SLOTS.available() == MAX_CONCURRENT_API_CALLS
    assert limits.set_plan_limit(1) == 1
    assert API_SLOTS.available() == 1
    assert limits.set_plan_limit(None) == MAX_CONCURRENT_API_CALLS
    assert API_SLOTS.available() == MAX_CONCURRENT_API_CALLS


def test_slots_in_use_are_held_back_as_they_come_free() -> None:
    with api_slot(), api_slot(), api_slot():
        assert limits.set_plan_limit(1) == 1
        assert API_SLOTS.available() == 0
    # Two of the three that came free stay held back.
    assert API_SLOTS.available() == 1
    limits.set_plan_limit(None)
    assert API_SLOTS.available() == MAX_CONCURRENT_API_CALLS


def test_the_plan_changes_safely_while_requests_come_and_go() -> None:
    stop = threading.Event()
    errors: list[BaseException] = []

    def requests() -> None:
        try:
            while not stop.is_set():
                with api_slot(stop):
                    pass
        except Exception as exc:  # Cancelled when stopped while waiting: fine
            if not stop.is_set():
                errors.append(exc)

    threads = [threading.Thread(target=requests) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for round_ in range(2000):
            limits.set_plan_limit((1, 2, None, 3, 2)[round_ % 5])
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    assert not errors and not any(t.is_alive() for t in threads)
    limits.set_plan_limit(2)
    assert API_SLOTS.available() == 2
    limits.set_plan_limit(None)
    assert API_SLOTS.available() == MAX_CONCURRENT_API_CALLS


@pytest.mark.emulator(concurrency_limit=2)
def test_with_a_plan_of_two_a_third_request_waits_instead_of_failing(emulator: Emulator) -> None:
    engine = make_engine(emulator)
    engine.on_response = lambda facts: limits.set_plan_limit(facts.maximum_concurrent)
    emulator.configure(ttfb=0.0)
    try:
        engine.generate_speech(TEXT)  # learns the plan's maximum: 2
        assert limits.app_slots() == 2
        emulator.always("tts", Fault.stall(after=1))
        streams = [iter(engine.stream_speech(TEXT)) for _ in range(2)]
        for stream in streams:
            next(stream)  # both hold a slot, stalled mid-body
        third_done = threading.Event()
        results: list[int] = []

        def third() -> None:
            results.append(len(engine.generate_speech(TEXT)))
            third_done.set()

        waiter = threading.Thread(target=third)
        waiter.start()
        # Not sent while two are in flight: the app's gate holds it, no 429 is earned.
        assert not third_done.wait(0.3)
        assert len(emulator.requests("tts")) == 3
        emulator.always("tts", None)
        emulator.release()
        for stream in streams:
            for _ in stream:
                pass
        assert third_done.wait(10)
        waiter.join(5)
    finally:
        emulator.release()
        engine.close()
    assert results and results[0] > 0
    assert emulator.max_in_flight_by_kind["tts"] <= 2
    assert all(r.status == 200 for r in emulator.requests("tts"))


@pytest.mark.emulator(history_item_header=False)
def test_a_history_item_is_found_by_its_request_id(emulator: Emulator) -> None:
    engine = make_engine(emulator)
    heard = listen(engine)
    try:
        engine.generate_speech("First one.")
        engine.generate_speech(TEXT)
        facts = heard[-1]
        assert facts.history_item_id is None and facts.request_id
        found = engine.find_history_item(facts.request_id)
        assert found is not None and emulator.history_items[found] == TEXT
        assert engine.find_history_item("no-such-request") is None
    finally:
        engine.close()
