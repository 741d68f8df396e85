"""The ElevenLabs emulator: wire format against openapi.json, real MP3, faults, the real SDK."""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from elevenlabs.client import ElevenLabs
from elevenlabs.core.api_error import ApiError

from tests.emulator import (
    DEFAULT_VOICE_ID,
    TEST_API_KEY,
    AudioSpec,
    Emulator,
    Fault,
)
from tests.emulator.openapi import (
    SPEC_CANDIDATES,
    load_spec,
    request_schema,
    response_schema,
    validate,
)

pytestmark = pytest.mark.timeout(15)

REPO = Path(__file__).resolve().parents[1]
SPEC_PATHS = SPEC_CANDIDATES  # ElevenLabs' published openapi.json, kept beside the emulator
TTS_STREAM = f"/v1/text-to-speech/{DEFAULT_VOICE_ID}/stream"
KEY = {"xi-api-key": TEST_API_KEY}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    path = next((p for p in SPEC_PATHS if p.is_file()), None)
    if path is None:
        pytest.skip("openapi.json is not available")
    return load_spec(path)


def local_client(emulator: Emulator, timeout: float | httpx.Timeout = 5) -> httpx.Client:
    # Plain HTTP to 127.0.0.1: verify=False only skips loading the CA bundle (~0.1 s a client).
    return httpx.Client(base_url=emulator.base_url, timeout=timeout, verify=False)


@pytest.fixture
def http(emulator: Emulator) -> Any:
    with local_client(emulator) as client:
        yield client


def stream(client: ElevenLabs, text: str, voice_id: str = DEFAULT_VOICE_ID) -> bytes:
    return b"".join(
        client.text_to_speech.stream(
            voice_id, text=text, model_id="eleven_flash_v2_5", output_format="mp3_44100_128"
        )
    )


def decode(mp3: bytes) -> tuple[np.ndarray, int]:
    with av.open(io.BytesIO(mp3)) as container:
        frames = [f.to_ndarray().reshape(-1) for f in container.decode(audio=0)]
        rate = container.streams.audio[0].rate
    return np.concatenate(frames).astype(np.float32), rate


def pitch(samples: np.ndarray, rate: int) -> float:
    middle = samples[len(samples) // 4 : 3 * len(samples) // 4]
    spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle))))
    return float(np.fft.rfftfreq(len(middle), 1 / rate)[np.argmax(spectrum)])


def detail(response: httpx.Response) -> dict[str, Any]:
    return response.json()["detail"]


# -- wire format against openapi.json -----------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/v2/voices?page_size=3", "/v2/voices"),
        ("/v1/voices", "/v1/voices"),
        ("/v1/voices/" + DEFAULT_VOICE_ID, "/v1/voices/{voice_id}"),
        ("/v1/models", "/v1/models"),
        ("/v1/user/subscription", "/v1/user/subscription"),
        ("/v1/user", "/v1/user"),
    ],
)
def test_json_responses_match_openapi(
    http: httpx.Client, spec: dict[str, Any], url: str, path: str
) -> None:
    response = http.get(url, headers=KEY)
    assert response.status_code == 200
    assert validate(response.json(), response_schema(spec, path, "get"), spec) == []


def test_stt_response_and_validation_error_match_openapi(
    http: httpx.Client, spec: dict[str, Any]
) -> None:
    ok = http.post(
        "/v1/speech-to-text",
        headers=KEY,
        data={"model_id": "scribe_v2"},
        files={"file": ("a.pcm", b"\0\0" * 800)},
    )
    assert ok.status_code == 200
    assert validate(ok.json(), response_schema(spec, "/v1/speech-to-text", "post"), spec) == []
    missing = http.post("/v1/speech-to-text", headers=KEY, files={"file": ("a", b"\0\0")})
    assert missing.status_code == 422
    schema = response_schema(spec, "/v1/speech-to-text", "post", "422")
    assert validate(missing.json(), schema, spec) == []
    assert missing.json()["detail"][0]["loc"] == ["body", "model_id"]


def test_schema_checker_reports_violations(spec: dict[str, Any]) -> None:
    schema = response_schema(spec, "/v1/user/subscription", "get")
    errors = validate({"tier": 3, "status": "nope"}, schema, spec)
    assert any("missing 'character_count'" in e for e in errors)
    assert any("$.tier" in e for e in errors)
    assert any("$.status" in e for e in errors)


def test_sdk_tts_request_matches_openapi(
    emulator_client: ElevenLabs, emulator: Emulator, spec: dict[str, Any]
) -> None:
    stream(emulator_client, "Checking the request body.")
    record = emulator.last("tts")
    schema = request_schema(spec, "/v1/text-to-speech/{voice_id}/stream", "post")
    assert validate(record.json, schema, spec) == []
    assert record.path == TTS_STREAM
    assert record.param("output_format") == "mp3_44100_128"


# -- audio ------------------------------------------------------------------------------------
def test_mp3_has_expected_duration_and_pitch(
    emulator_client: ElevenLabs, emulator: Emulator
) -> None:
    text = "x" * 20  # 20 * 60 ms = 1.2 s
    samples, rate = decode(stream(emulator_client, text))
    assert rate == 44100
    # LAME adds ~25 ms of priming plus up to one frame of padding.
    assert 1.2 <= len(samples) / rate <= 1.2 + 0.08
    assert pitch(samples, rate) == pytest.approx(440, abs=3)
    rachel = emulator.settings.voices[1]
    samples, rate = decode(stream(emulator_client, text, rachel.voice_id))
    assert pitch(samples, rate) == pytest.approx(rachel.frequency, abs=3)


@pytest.mark.emulator(audio=AudioSpec(frequency=1000, seconds_per_char=0.01, id3=False))
def test_audio_is_configurable(emulator_client: ElevenLabs, tts_mp3: Callable[..., bytes]) -> None:
    data = stream(emulator_client, "y" * 50)
    assert data == tts_mp3("y" * 50)  # deterministic and cached
    assert not data.startswith(b"ID3")
    samples, rate = decode(data)
    assert 0.5 <= len(samples) / rate <= 0.58
    assert pitch(samples, rate) == pytest.approx(1000, abs=3)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
@pytest.mark.emulator(audio=AudioSpec(source="espeak"))
def test_espeak_speech(emulator_client: ElevenLabs) -> None:
    samples, rate = decode(stream(emulator_client, "Hello there, general Kenobi."))
    assert 1.0 < len(samples) / rate < 4.0
    assert float(np.abs(samples).max()) > 0.1


# -- streaming --------------------------------------------------------------------------------
@pytest.mark.emulator(chunk_size=1)
def test_one_byte_chunks_on_the_wire(emulator: Emulator, tts_mp3: Callable[..., bytes]) -> None:
    body = b'{"text": "hi", "model_id": "eleven_flash_v2_5"}'
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as sock:
        sock.sendall(
            b"POST %s HTTP/1.1\r\nHost: x\r\nxi-api-key: %s\r\nContent-Type: "
            b"application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
            % (TTS_STREAM.encode(), TEST_API_KEY.encode(), len(body), body)
        )
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    assert b"content-type: audio/mpeg" in head.lower()
    sizes, payload = [], b""
    while True:
        line, _, rest = rest.partition(b"\r\n")
        size = int(line, 16)
        if size == 0:
            break
        sizes.append(size)
        payload, rest = payload + rest[:size], rest[size + 2 :]
    assert set(sizes) == {1}
    assert payload == tts_mp3("hi")


def test_client_gets_first_chunk_before_the_rest_is_sent(
    emulator: Emulator, emulator_client: ElevenLabs, tts_mp3: Callable[..., bytes]
) -> None:
    emulator.script("tts", [Fault.stall(after=1024)])
    chunks = emulator_client.text_to_speech.stream(DEFAULT_VOICE_ID, text="A longer sentence.")
    first = next(chunks)  # the SDK reads iter_bytes(1024)
    record = emulator.wait_stalled("tts")
    assert len(first) == 1024 and not record.done.is_set()
    assert record.first_byte_at is not None and record.bytes_sent == 1024
    emulator.release()
    assert first + b"".join(chunks) == tts_mp3("A longer sentence.")
    assert emulator.wait_done("tts").outcome == "ok"


def test_response_headers_like_the_service(http: httpx.Client) -> None:
    response = http.post(
        f"/v1/text-to-speech/{DEFAULT_VOICE_ID}",
        headers=KEY,
        json={"text": "Hello", "model_id": "eleven_flash_v2_5"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/mpeg"
    assert response.headers["character-cost"] == "5"
    assert response.headers["current-concurrent-requests"] == "1"
    for name in ("request-id", "history-item-id", "maximum-concurrent-requests", "x-region"):
        assert response.headers[name]


@pytest.mark.emulator(ttfb=0.2)
def test_time_to_first_byte(emulator_client: ElevenLabs, emulator: Emulator) -> None:
    started = time.monotonic()
    stream(emulator_client, "Slow start.")
    record = emulator.last("tts")
    assert time.monotonic() - started >= 0.2
    assert record.headers_sent_at is not None and record.first_byte_at is not None
    assert record.headers_sent_at - record.started_at >= 0.2
    assert record.first_byte_at >= record.headers_sent_at


def test_pacing_between_chunks(emulator: Emulator, emulator_client: ElevenLabs) -> None:
    emulator.always("tts", Fault.slow(pacing=0.03, chunk_size=2000))
    stream(emulator_client, "x" * 10)  # ~0.6 s of audio: ~10 kB, 5+ chunks, 4+ pauses
    record = emulator.wait_done("tts")  # the client may finish reading before the server ends
    assert record.ended_at is not None and record.first_byte_at is not None
    assert record.ended_at - record.first_byte_at >= 0.03 * (record.bytes_sent // 2000 - 1)


# -- faults -----------------------------------------------------------------------------------
def test_scripted_429s_then_success(emulator: Emulator, emulator_client: ElevenLabs) -> None:
    emulator.script("tts", [Fault.status(429), Fault.system_busy(), None])
    statuses = []
    for _ in range(2):
        with pytest.raises(ApiError) as caught:
            stream(emulator_client, "Hi")
        assert caught.value.status_code == 429
        statuses.append(caught.value.body["detail"]["status"])
    assert statuses == ["too_many_concurrent_requests", "system_busy"]
    assert stream(emulator_client, "Hi").startswith(b"ID3")
    assert emulator.pending("tts") == 0
    assert [r.status for r in emulator.requests("tts")] == [429, 429, 200]


@pytest.mark.parametrize(
    ("fault", "code", "status"),
    [
        (Fault.invalid_key(), 401, "invalid_api_key"),
        (Fault.quota_exceeded(), 401, "quota_exceeded"),
        (Fault.server_error(), 500, "internal_server_error"),
        (Fault.status(503), 503, "service_unavailable"),
    ],
)
def test_error_faults(
    emulator: Emulator, emulator_client: ElevenLabs, fault: Fault, code: int, status: str
) -> None:
    emulator.script("any", [fault])
    with pytest.raises(ApiError) as caught:
        emulator_client.user.subscription.get(request_options={"max_retries": 0})
    assert caught.value.status_code == code
    assert caught.value.body["detail"]["status"] == status
    assert caught.value.body["detail"]["message"]


@pytest.mark.emulator(api_keys=["sk_other"])
def test_wrong_key(emulator_client: ElevenLabs, emulator: Emulator) -> None:
    with pytest.raises(ApiError) as caught:
        stream(emulator_client, "Hello")
    assert caught.value.status_code == 401
    assert caught.value.body["detail"]["status"] == "invalid_api_key"
    assert caught.value.body["detail"]["message"] == "Invalid API key"
    record = emulator.last("tts")
    assert record.headers["xi-api-key"] == "<redacted>" and not record.api_key_valid


@pytest.mark.emulator(character_limit=10)
def test_real_quota(emulator_client: ElevenLabs, emulator: Emulator) -> None:
    stream(emulator_client, "12345678")
    with pytest.raises(ApiError) as caught:
        stream(emulator_client, "123")
    assert caught.value.status_code == 401
    assert caught.value.body["detail"]["status"] == "quota_exceeded"
    assert emulator_client.user.subscription.get().character_count == 8


def test_reset_before_first_byte(emulator: Emulator, emulator_client: ElevenLabs) -> None:
    emulator.script("tts", [Fault.connection_reset()])
    with pytest.raises(httpx.TransportError):
        stream(emulator_client, "Hello")
    assert emulator.wait_done("tts").outcome == "reset"
    assert stream(emulator_client, "Hello")  # the client recovers on a new connection


@pytest.mark.parametrize(
    ("reset", "error"), [(True, httpx.ReadError), (False, httpx.RemoteProtocolError)]
)
def test_cut_after_bytes(
    emulator: Emulator, http: httpx.Client, reset: bool, error: type[Exception]
) -> None:
    emulator.script("tts", [Fault.cut(after=3000, reset=reset).with_(chunk_size=1000)])
    received = b""
    with (
        pytest.raises(error),
        http.stream("POST", TTS_STREAM, headers=KEY, json={"text": "Some words here."}) as response,
    ):
        for piece in response.iter_raw():
            received += piece
    assert len(received) == 3000
    record = emulator.wait_done("tts")
    assert record.outcome == "cut" and record.bytes_sent == 3000


def test_stall_for_a_while(emulator: Emulator, emulator_client: ElevenLabs) -> None:
    emulator.script("tts", [Fault.stall(after=500, seconds=0.25)])
    started = time.monotonic()
    stream(emulator_client, "Hello")
    assert time.monotonic() - started >= 0.25


def test_stall_until_released_trips_client_timeout(emulator: Emulator) -> None:
    emulator.script("tts", [Fault.stall(after=0)])
    timeout = httpx.Timeout(5, read=0.2)
    with (
        local_client(emulator, timeout) as http,
        pytest.raises(httpx.ReadTimeout),
        http.stream("POST", TTS_STREAM, headers=KEY, json={"text": "Hi"}) as response,
    ):
        assert response.status_code == 200  # headers came, the body never does
        response.read()
    assert emulator.wait_stalled("tts").first_byte_at is None


def test_tts_validation_errors(http: httpx.Client) -> None:
    def post(voice: str, payload: dict[str, Any]) -> httpx.Response:
        return http.post(f"/v1/text-to-speech/{voice}/stream", headers=KEY, json=payload)

    unknown = post("nope", {"text": "Hi"})
    assert (unknown.status_code, detail(unknown)["status"]) == (404, "voice_not_found")
    empty = post(DEFAULT_VOICE_ID, {"text": "  "})
    assert empty.status_code == 400
    too_long = post(DEFAULT_VOICE_ID, {"text": "a" * 40_001, "model_id": "eleven_flash_v2_5"})
    assert (too_long.status_code, detail(too_long)["status"]) == (
        400,
        "max_character_limit_exceeded",
    )
    missing = post(DEFAULT_VOICE_ID, {"model_id": "eleven_flash_v2_5"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "text"]
    assert http.get("/v1/nothing", headers=KEY).status_code == 404


@pytest.mark.emulator(concurrency_limit=2)
def test_concurrency_limit_and_max_in_flight(emulator: Emulator) -> None:
    emulator.script("tts", [Fault.stall(after=0)] * 2)
    results: list[int] = []

    def call() -> None:
        with local_client(emulator) as http:
            response = http.post(TTS_STREAM, headers=KEY, json={"text": "Hi"})
            results.append(response.status_code)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    emulator.wait_stalled("tts", 0)
    emulator.wait_stalled("tts", 1)
    assert emulator.in_flight == 2
    with local_client(emulator) as http:
        third = http.post(TTS_STREAM, headers=KEY, json={"text": "Hi"})
    assert (third.status_code, detail(third)["status"]) == (429, "too_many_concurrent_requests")
    emulator.release()
    for thread in threads:
        thread.join(5)
    assert results == [200, 200]
    assert emulator.max_in_flight == 3 and emulator.max_in_flight_by_kind["tts"] == 3
    emulator.wait_idle()
    assert emulator.in_flight == 0


def test_unknown_kind_is_rejected(emulator: Emulator) -> None:
    with pytest.raises(ValueError):
        emulator.script("ttts", [None])  # type: ignore[arg-type]


# -- the real SDK -----------------------------------------------------------------------------
def test_sdk_convert(
    emulator_client: ElevenLabs, emulator: Emulator, tts_mp3: Callable[..., bytes]
) -> None:
    data = b"".join(emulator_client.text_to_speech.convert(DEFAULT_VOICE_ID, text="Convert me."))
    assert data == tts_mp3("Convert me.")
    assert emulator.last("tts").path == f"/v1/text-to-speech/{DEFAULT_VOICE_ID}"


def test_sdk_speech_to_text_records_audio_and_fields(
    emulator_client: ElevenLabs, emulator: Emulator
) -> None:
    pcm = (np.arange(16000, dtype="<i2") % 200).tobytes()
    result = emulator_client.speech_to_text.convert(
        file=pcm,
        model_id="scribe_v2",
        file_format="pcm_s16le_16",
        language_code="en",
        request_options={"max_retries": 0},
    )
    assert result.text == "hello from the emulator"
    assert [w.text for w in result.words if w.type == "word"] == [
        "hello",
        "from",
        "the",
        "emulator",
    ]
    record = emulator.last("stt")
    assert record.audio == pcm
    assert record.form["model_id"] == "scribe_v2"
    assert record.form["file_format"] == "pcm_s16le_16"
    assert record.form["webhook_metadata"] == "null"  # the SDK's literal null


def test_transcript_callable(emulator: Emulator, emulator_client: ElevenLabs) -> None:
    emulator.configure(transcript=lambda audio, form: f"{len(audio)} bytes in {form['model_id']}")
    result = emulator_client.speech_to_text.convert(
        file=b"\0" * 64, model_id="scribe_v2", file_format="pcm_s16le_16"
    )
    assert result.text == "64 bytes in scribe_v2"


def test_sdk_voices_paging_and_account(emulator_client: ElevenLabs) -> None:
    first = emulator_client.voices.search(page_size=4)
    assert (first.total_count, first.has_more, len(first.voices)) == (6, True, 4)
    assert first.voices[0].voice_id == DEFAULT_VOICE_ID and first.voices[0].name == "George"
    rest = emulator_client.voices.search(page_size=4, next_page_token=first.next_page_token)
    assert (len(rest.voices), rest.has_more) == (2, False)
    assert [v.name for v in emulator_client.voices.search(search="geo").voices] == ["George"]
    assert len(emulator_client.voices.get_all().voices) == 6
    assert {m.model_id for m in emulator_client.models.list()} >= {"eleven_flash_v2_5"}
    subscription = emulator_client.user.subscription.get()
    assert subscription.character_limit > subscription.character_count == 0


def test_sdk_holds_back_partial_chunks(emulator: Emulator, emulator_client: ElevenLabs) -> None:
    """Wire fact for the engine: the SDK reads `iter_bytes(1024)`, so bytes that arrived wait
    until 1024 have; `request_options={"chunk_size": None}` hands over whatever arrived."""
    emulator.script("tts", [Fault.stall(after=500), Fault.stall(after=500)])
    held = emulator_client.text_to_speech.stream(DEFAULT_VOICE_ID, text="Held back.")
    waiter = threading.Thread(target=next, args=(held,))
    waiter.start()
    emulator.wait_stalled("tts", 0)
    waiter.join(0.2)
    assert waiter.is_alive()  # 500 bytes are in, the SDK still waits for 1024
    emulator.release()
    waiter.join(5)
    held.close()
    eager = emulator_client.text_to_speech.stream(
        DEFAULT_VOICE_ID, text="Held back.", request_options={"chunk_size": None}
    )
    assert len(next(eager)) == 500
    emulator.release()
    eager.close()


def test_reset_restores_the_initial_state(emulator: Emulator, http: httpx.Client) -> None:
    emulator.configure(ttfb=0.05, api_keys=["other"])
    emulator.script("tts", [Fault.server_error()])
    emulator.always("any", Fault.server_error())
    assert http.get("/v1/models", headers=KEY).status_code == 500
    assert emulator.last().headers_sent_at - emulator.last().started_at >= 0.05
    emulator.reset()
    assert emulator.requests() == [] and emulator.pending("tts") == 0
    assert http.get("/v1/models", headers=KEY).status_code == 200
    assert emulator.settings.ttfb == 0.0 and emulator.max_in_flight == 1


# -- lifecycle --------------------------------------------------------------------------------
def test_stop_releases_stalls_and_leaks_no_threads() -> None:
    before = set(threading.enumerate())
    emu = Emulator().start()
    emu.script("tts", [Fault.stall(after=100)])
    idle = local_client(emu)
    assert idle.get("/v1/models", headers=KEY).status_code == 200  # leaves a keep-alive socket
    failures: list[BaseException] = []

    def stalled_call() -> None:
        try:
            with local_client(emu) as http:
                http.post(TTS_STREAM, headers=KEY, json={"text": "Hi"})
        except httpx.TransportError as exc:
            failures.append(exc)

    caller = threading.Thread(target=stalled_call)
    caller.start()
    emu.wait_stalled("tts")
    started = time.monotonic()
    emu.stop()
    assert time.monotonic() - started < 1.0
    caller.join(5)
    idle.close()
    assert len(failures) == 1
    assert emu.requests("tts")[0].outcome == "stopped"
    assert set(threading.enumerate()) <= before


def test_cli_serves() -> None:
    command = [sys.executable, "-m", "tests.emulator", "--port", "0"]
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().split(" on ")[1].split()[0]
            response = httpx.get(f"{base_url}/v1/models", headers=KEY, timeout=5, verify=False)
            assert response.status_code == 200
        finally:
            process.terminate()
            assert process.wait(5) == 0
