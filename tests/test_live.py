"""Live words: the realtime session against the emulator's WebSocket, its batch fallback, the
API slot, the window's partials and `listen --live` on the private sound server."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.emulator import TEST_API_KEY, Fault
from tests.emulator.records import REDACTED
from tests.emulator.server import Emulator
from tests.helpers.cli import cli_env
from tests.helpers.pulse import PulseServer
from tests.test_listen import listen_to
from tests.test_recorder import (  # noqa: F401 (live_mic is a fixture)
    espeak_pcm,
    live_mic,
    play_and_wait,
    record_faithfully,
    similarity,
)
from voicedesk.cancel import CancelToken
from voicedesk.engines.elevenlabs import ElevenLabsEngine
from voicedesk.engines.elevenlabs_realtime import (
    LiveTake,
    RealtimeSession,
    realtime_url,
    server_error,
)
from voicedesk.errors import (
    Cancelled,
    InputDeviceError,
    InsecureBaseUrlError,
    InvalidBaseUrlError,
    InvalidKeyError,
    LiveConnectionLostError,
    LiveNeedsElevenLabsError,
    LiveSessionTooLongError,
    LiveTermsNotAcceptedError,
    LiveTranscriptError,
    NetworkError,
    NothingHeardError,
    QuotaExceededError,
    RateLimitedError,
    ServiceError,
)
from voicedesk.limits import API_SLOTS, MAX_CONCURRENT_API_CALLS

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
# An upper bound only: CLI runs start Python, Qt and PortAudio, slow on a loaded machine.
pytestmark = [pytest.mark.timeout(120), pytest.mark.qt_log_ignore("propagateSizeHints")]

WORDS = "the quick brown fox jumps over the lazy dog"
RATE = 16_000


def noise(seconds: float, seed: int = 1) -> bytes:
    """Distinct audio (so a lost or reordered block shows), as 16 kHz s16le."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * RATE)) * 3000).astype("<i2").tobytes()


def feed(take: object, pcm: bytes, block: int = 640) -> None:
    for offset in range(0, len(pcm), block):
        take.feed(pcm[offset : offset + block])  # type: ignore[attr-defined]


def slots_free() -> bool:
    return API_SLOTS.available() == MAX_CONCURRENT_API_CALLS


@pytest.fixture
def engine(emulator: Emulator):
    emulator.configure(transcript=WORDS)
    made = ElevenLabsEngine(TEST_API_KEY, emulator.base_url)
    yield made
    made.close()


# -- the session -----------------------------------------------------------------------------


def test_a_take_streams_its_audio_and_gets_partials_then_the_committed_text(
    engine: ElevenLabsEngine, emulator: Emulator
) -> None:
    pcm = noise(2.0)
    partials: list[str] = []
    got_partial = threading.Event()

    def on_partial(text: str) -> None:
        partials.append(text)
        got_partial.set()

    take = engine.open_live("en", on_partial=on_partial)
    feed(take, pcm[:32_000])
    assert got_partial.wait(5), "a partial arrives while the take goes on"
    # The session holds one slot while it is open.
    assert API_SLOTS.available() == MAX_CONCURRENT_API_CALLS - 1
    feed(take, pcm[32_000:])
    assert take.result(pcm) == WORDS
    assert take.fallback_reason is None
    assert take.session.wait_closed(5) and slots_free()

    record = emulator.wait_done("realtime")
    assert record.audio == pcm  # every byte, in order
    assert record.commits == 1
    assert record.messages[-1]["commit"] is True
    assert all(m["sample_rate"] == RATE for m in record.messages)
    assert record.param("model_id") == "scribe_v2_realtime"
    assert record.param("audio_format") == "pcm_16000"
    assert record.param("commit_strategy") == "manual"
    assert record.param("language_code") == "en"
    assert record.headers["xi-api-key"] == REDACTED and record.api_key_valid
    assert TEST_API_KEY not in record.path + str(record.query)
    # Partials grow word by word from the transcript.
    assert partials[0].startswith("the") and WORDS.startswith(partials[-1])
    assert emulator.requests("stt") == []  # no batch request


def test_urls() -> None:
    assert realtime_url("https://api.elevenlabs.io", "en").startswith(
        "wss://api.elevenlabs.io/v1/speech-to-text/realtime?model_id=scribe_v2_realtime&"
    )
    assert realtime_url("https://proxy.example/eleven/", None).startswith(
        "wss://proxy.example/eleven/v1/speech-to-text/realtime?"
    )
    assert realtime_url("http://127.0.0.1:8080", "de").startswith("ws://127.0.0.1:8080/")
    assert realtime_url("http://[::1]:8080", "de").startswith("ws://[::1]:8080/")
    assert realtime_url("http://localhost", "de").startswith("ws://localhost/")
    with pytest.raises(InsecureBaseUrlError):  # the key would go in clear to another host
        realtime_url("http://api.example.com", "en")
    with pytest.raises(InsecureBaseUrlError):
        realtime_url("http://10.0.0.1", "en")
    with pytest.raises(InvalidBaseUrlError):
        realtime_url("ftp://api.example.com", "en")
    with pytest.raises(InvalidBaseUrlError):
        realtime_url("https://", "en")


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("auth_error", InvalidKeyError),
        ("quota_exceeded", QuotaExceededError),
        ("rate_limited", RateLimitedError),
        ("commit_throttled", RateLimitedError),
        ("resource_exhausted", RateLimitedError),
        ("session_time_limit_exceeded", LiveSessionTooLongError),
        ("insufficient_audio_activity", NothingHeardError),
        ("unaccepted_terms", LiveTermsNotAcceptedError),
        ("queue_overflow", LiveTranscriptError),
        ("chunk_size_exceeded", LiveTranscriptError),
        ("input_error", LiveTranscriptError),
        ("invalid_request", LiveTranscriptError),
        ("transcriber_error", LiveTranscriptError),
        ("error", LiveTranscriptError),
    ],
)
def test_server_error_types_map_to_user_errors(kind: str, error: type) -> None:
    mapped = server_error({"message_type": kind, "error": f"bad {TEST_API_KEY}"}, TEST_API_KEY)
    assert type(mapped) is error
    assert TEST_API_KEY not in mapped.message
    assert server_error({"message_type": "partial_transcript", "text": "x"}, None) is None


# -- fallback to batch, with the same audio -----------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "why"),
    [
        ({"script": Fault.connection_reset()}, NetworkError),  # the socket can't open
        ({"script": Fault.status(503, "service_unavailable")}, ServiceError),  # refused
        ({"realtime_drop_after": 0.5}, LiveConnectionLostError),  # reset mid-take
        ({"realtime_error": "transcriber_error", "realtime_error_after": 0.5}, LiveTranscriptError),
        ({"realtime_error": "session_time_limit_exceeded"}, LiveSessionTooLongError),
        ({"realtime_error": "rate_limited"}, RateLimitedError),
    ],
    ids=["reset-at-open", "http-503", "reset-mid-take", "transcriber-error", "time-limit", "rate"],
)
def test_a_failed_session_falls_back_to_batch_with_the_same_audio(
    engine: ElevenLabsEngine, emulator: Emulator, fault: dict, why: type
) -> None:
    if "script" in fault:
        emulator.script("realtime", [fault["script"]])
    else:
        emulator.configure(**fault)
    pcm = noise(1.5, seed=2)
    take = engine.open_live("en")
    feed(take, pcm)
    assert take.result(pcm) == WORDS  # nothing for the user to do
    assert isinstance(take.fallback_reason, why)
    (batch,) = emulator.requests("stt")
    assert batch.audio == pcm and batch.form["model_id"] == "scribe_v2"  # nothing lost
    assert take.session.wait_closed(5)
    emulator.wait_idle()
    assert slots_free()


def test_a_refused_connection_fails_the_session_at_once() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    session = RealtimeSession(TEST_API_KEY, f"http://127.0.0.1:{port}")
    session.start()
    session.feed(noise(0.2))
    with pytest.raises(NetworkError):
        session.finish(timeout=10)
    assert session.wait_closed(5) and slots_free()


@pytest.mark.parametrize(
    ("kind", "error"),
    [("auth_error", InvalidKeyError), ("quota_exceeded", QuotaExceededError)],
)
def test_account_errors_are_not_retried_as_batch(
    engine: ElevenLabsEngine, emulator: Emulator, kind: str, error: type
) -> None:
    emulator.configure(realtime_error=kind)
    pcm = noise(0.5)
    take = engine.open_live("en")
    feed(take, pcm)
    with pytest.raises(error):
        take.result(pcm)
    assert emulator.requests("stt") == []  # the batch request would fail the same way
    assert take.session.wait_closed(5) and slots_free()


def test_a_rejected_key_at_the_handshake(emulator: Emulator) -> None:
    engine = ElevenLabsEngine("sk_wrong_key", emulator.base_url)
    take = engine.open_live("en")
    feed(take, noise(0.3))
    with pytest.raises(InvalidKeyError) as raised:
        take.result(noise(0.3))
    assert "sk_wrong_key" not in str(raised.value)
    assert take.session.wait_closed(5) and slots_free()
    engine.close()


def test_cancel_interrupts_a_waiting_session_and_frees_its_slot(
    engine: ElevenLabsEngine, emulator: Emulator
) -> None:
    emulator.configure(recognition_delay=30.0)  # the commit is never answered in time
    cancel = CancelToken()
    pcm = noise(0.5)
    take = engine.open_live("en", cancel=cancel)
    feed(take, pcm)
    emulator.wait_request("realtime", until=lambda r: r.audio_bytes == len(pcm))
    threading.Timer(0.2, cancel.set).start()
    with pytest.raises(Cancelled):
        take.result(pcm, cancel)
    assert take.session.wait_closed(5) and slots_free()
    assert emulator.requests("stt") == []


def test_a_backlog_past_its_bound_falls_back(engine: ElevenLabsEngine, emulator: Emulator) -> None:
    # Every slot taken: the session can't connect, so audio queues up to its bound.
    for _ in range(MAX_CONCURRENT_API_CALLS):
        API_SLOTS.acquire()
    try:
        session = RealtimeSession(TEST_API_KEY, emulator.base_url, max_backlog_bytes=32_000)
        session.start()
        session.feed(noise(0.5))
        session.feed(noise(0.6))  # past the bound: the session gives up, feed never blocks
        assert isinstance(session.failure, LiveTranscriptError)
    finally:
        API_SLOTS.release(MAX_CONCURRENT_API_CALLS)
    assert session.wait_closed(5) and slots_free()
    assert emulator.requests("realtime") == []


def test_a_handshake_slower_than_the_connect_timeout_fails(emulator: Emulator) -> None:
    emulator.script("realtime", [Fault(ttfb=3.0)])  # the upgrade is answered late
    session = RealtimeSession(TEST_API_KEY, emulator.base_url, connect_timeout=0.3)
    session.start()
    session.feed(noise(0.2))
    with pytest.raises(NetworkError, match="in time"):
        session.finish(timeout=10)
    assert session.wait_closed(5) and slots_free()


def test_abort_ends_a_session_still_waiting_for_a_slot(emulator: Emulator) -> None:
    for _ in range(MAX_CONCURRENT_API_CALLS):
        API_SLOTS.acquire()
    try:
        session = RealtimeSession(TEST_API_KEY, emulator.base_url)
        session.start()
        session.feed(noise(0.1))
        session.abort()  # a too-short take: the thread must not wait on for a slot
        assert session.wait_closed(5)
    finally:
        API_SLOTS.release(MAX_CONCURRENT_API_CALLS)
    assert slots_free()
    assert emulator.requests("realtime") == []


# -- the window -----------------------------------------------------------------------------


def test_partials_show_while_the_key_is_held_then_the_final_text(
    make_window, qtbot, emulator: Emulator
) -> None:
    emulator.configure(transcript=WORDS)
    window = make_window()
    window.recorder.pcm = noise(1.5, seed=3)
    window.ptt.press()  # the stand-in microphone hands its audio over at once
    qtbot.waitUntil(lambda: window.ptt_bar.live.text().startswith("the"), timeout=5000)
    assert window.ptt.is_down and window.ptt_bar.live.isVisible()
    with qtbot.waitSignal(window.transcriber.transcribed, timeout=5000) as final:
        window.ptt.release()
    assert final.args == [WORDS]
    entry = window.history.entries()[0]
    assert (entry.kind, entry.text) == ("heard", WORDS)
    assert window.ptt_bar.live.text() == ""  # the final text replaced the live words
    assert emulator.wait_done("realtime").audio == window.recorder.pcm
    assert emulator.requests("stt") == []
    qtbot.waitUntil(slots_free, timeout=5000)
    assert window.transcriber.last_recording == window.recorder.pcm  # kept for Retry


def test_the_window_falls_back_to_batch_when_the_session_fails(
    make_window, qtbot, emulator: Emulator
) -> None:
    emulator.configure(transcript=WORDS, realtime_drop_after=0.3)
    window = make_window()
    window.recorder.pcm = noise(1.0, seed=4)
    with qtbot.waitSignal(window.transcriber.transcribed, timeout=10000) as final:
        window.ptt.press()
        window.ptt.release()
    assert final.args == [WORDS]
    (batch,) = emulator.requests("stt")
    assert batch.audio == window.recorder.pcm
    assert not window.banner.isVisible()  # nothing for the user to do
    qtbot.waitUntil(slots_free, timeout=5000)


def test_live_words_off_sends_the_take_after_release(make_window, qtbot, emulator) -> None:
    window = make_window(live_transcript=False)
    with qtbot.waitSignal(window.transcriber.transcribed, timeout=5000):
        window.ptt.press()
        window.ptt.release()
    assert emulator.requests("realtime") == []
    assert len(emulator.requests("stt")) == 1


def test_a_too_short_take_closes_its_session(make_window, qtbot, emulator) -> None:
    window = make_window()
    window.recorder.too_short = True
    window.ptt.press()
    window.ptt.release()
    qtbot.waitUntil(slots_free, timeout=5000)
    assert emulator.requests("stt") == []


def test_a_take_whose_microphone_fails_leaves_no_session_open(
    make_window, qtbot, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window()
    opened: list[LiveTake] = []
    open_take = window.talk.live.open

    def recording_open(*args, **kwargs) -> LiveTake | None:
        take = open_take(*args, **kwargs)
        if take is not None:
            opened.append(take)
        return take

    monkeypatch.setattr(window.talk.live, "open", recording_open)
    busy = "The microphone is busy: another program is using it."
    window.recorder.fail_with = InputDeviceError(busy)
    with qtbot.waitSignal(window.recorder.failed, timeout=5000):
        window.ptt.press()
    window.ptt.release()
    assert busy in window.banner.text

    # The session opened on the press (before the microphone said no) is closed, unused, and
    # its slot is back. Whether its socket reached the server before the abort depends on the
    # machine's speed: either way nothing was sent, and the socket is closed.
    (take,) = opened
    assert take.session.wait_closed(5.0)
    qtbot.waitUntil(slots_free, timeout=5000)
    qtbot.waitUntil(
        lambda: all(s.done.is_set() for s in emulator.requests("realtime")), timeout=5000
    )
    assert all(s.audio_bytes == 0 for s in emulator.requests("realtime"))
    assert emulator.requests("stt") == []
    # And the next take, with the microphone back, is transcribed live as before.
    window.recorder.fail_with = None
    with qtbot.waitSignal(window.transcriber.transcribed, timeout=10000):
        window.ptt.press()
        window.ptt.release()
    qtbot.waitUntil(slots_free, timeout=5000)


def test_offline_the_window_says_live_words_need_elevenlabs(make_window, qtbot) -> None:
    window = make_window(api_key=None, engine="auto")
    window.recorder.too_short = True  # nothing to transcribe: this is about the note
    window.ptt.press()
    assert window.ptt_bar.live.text() == LiveNeedsElevenLabsError.default_message
    window.ptt.release()


def test_settings_checkbox(make_window, qtbot) -> None:
    window = make_window()
    dialog = window.open_settings()
    qtbot.addWidget(dialog)
    assert dialog.live.isChecked()  # on by default when a key is set
    assert not dialog.live_note.isVisible()
    assert dialog.result_settings().live_transcript is None  # untouched stays the default
    dialog.live.setChecked(False)
    assert dialog.result_settings().live_transcript is False
    dialog.engine.setCurrentIndex(dialog.engine.findData("local"))
    assert dialog.live_note.isVisibleTo(dialog)
    dialog.reject()


# -- voicedesk listen --live ------------------------------------------------------------------


def test_listen_live_prints_partials_then_the_text_and_streams_what_was_said(
    tmp_path: Path,
    live_mic: PulseServer,  # noqa: F811
    emulator: Emulator,
) -> None:
    emulator.configure(transcript=WORDS)
    env = cli_env(tmp_path, TEST_API_KEY, emulator.base_url)
    clip = espeak_pcm("The quick brown fox jumps over the lazy dog.", lead_seconds=0.5)
    seen = 0

    def take() -> bytes:
        nonlocal seen
        returncode, out, err = listen_to(live_mic, env, clip, "--live")
        assert returncode == 0, err
        assert out == WORDS + "\n"
        lines = err.splitlines()
        assert lines and lines[0] == "the" and all(WORDS.startswith(line) for line in lines)
        sessions = emulator.requests("realtime")
        assert len(sessions) == seen + 1
        seen = len(sessions)
        assert emulator.requests("stt") == []
        record = emulator.wait_done("realtime", nth=seen - 1)
        assert record.audio is not None
        return record.audio

    audio = record_faithfully(live_mic, clip, take)
    assert similarity(audio, clip) > 0.9  # what the service received is what was spoken


def test_listen_live_falls_back_with_a_note(
    tmp_path: Path, pulse: PulseServer, emulator: Emulator
) -> None:
    emulator.configure(transcript=WORDS, realtime_drop_after=0.2)
    env = cli_env(tmp_path, TEST_API_KEY, emulator.base_url)
    from tests.helpers.cli import run_cli

    result = run_cli("listen", "--live", "--seconds", "1", env=env, input="")
    assert result.returncode == 0, result.stderr
    assert result.stdout == WORDS + "\n"
    assert result.stderr.endswith("transcribed the whole take instead.\n")
    (batch,) = emulator.requests("stt")
    streamed = emulator.wait_done("realtime").audio
    assert streamed and batch.audio is not None
    assert len(batch.audio) > len(streamed)  # the whole take, not what streamed before the drop


def test_listen_live_offline_says_why_and_transcribes_after(
    tmp_path: Path, pulse: PulseServer
) -> None:
    from tests.helpers.cli import run_cli

    result = run_cli("listen", "--live", "--seconds", "0.1", env=cli_env(tmp_path), input="")
    assert result.stderr.startswith(f"voicedesk: {LiveNeedsElevenLabsError.default_message}\n")
