"""Warm connections over https: the emulator behind TLS and a delaying proxy, nothing mocked.

The engine trusts the session's throw-away test CA (`tests/helpers/tls.py`) through its
`verify=` argument; checking stays on. Connections are counted at the proxy and the emulator.
No timings are asserted here (that is `bench/wan.py`), only which connections were opened.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest
from pytestqt.qtbot import QtBot

from tests.emulator.config import TEST_API_KEY
from tests.emulator.server import Emulator
from tests.helpers.delay_proxy import DelayProxy
from tests.helpers.pulse import PulseServer
from tests.helpers.tls import throwaway_tls
from voicedesk.cancel import CancelToken
from voicedesk.engines.elevenlabs import ElevenLabsEngine
from voicedesk.engines.http_client import (
    KEEPALIVE_EXPIRY,
    WARM_INTERVAL,
    environment_proxy,
    record_timing,
)
from voicedesk.errors import Cancelled, NetworkError
from voicedesk.limits import API_SLOTS, MAX_CONCURRENT_API_CALLS
from voicedesk.workers.background import Background
from voicedesk.workers.latency import LatencyMarks
from voicedesk.workers.speaker import Speaker
from voicedesk.workers.warmer import Warmer

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
pytestmark = pytest.mark.timeout(60)

RTT = 0.01


@pytest.fixture
def tls_emulator() -> Iterator[Emulator]:
    with Emulator(tls=throwaway_tls().server) as emu:
        yield emu
        errors = list(emu.internal_errors)
    assert not errors, f"the emulator crashed while serving: {errors!r}"


@pytest.fixture
def proxy(tls_emulator: Emulator) -> Iterator[DelayProxy]:
    with DelayProxy(tls_emulator.port, RTT) as proxy:
        yield proxy


@pytest.fixture
def engine(proxy: DelayProxy) -> Iterator[ElevenLabsEngine]:
    engine = ElevenLabsEngine(TEST_API_KEY, base_url=proxy.url(), verify=throwaway_tls().client)
    yield engine
    engine.close()


def test_the_pool_keeps_a_connection_longer_than_the_warm_up_interval() -> None:
    assert KEEPALIVE_EXPIRY > WARM_INTERVAL  # else a warm-up would find the pool empty


def test_speech_over_tls_through_the_slow_link_is_heard_with_its_split(
    pulse: PulseServer, engine: ElevenLabsEngine, tls_emulator: Emulator, qtbot: QtBot
) -> None:
    speaker = Speaker(engine)
    try:
        with pulse.record_output() as capture:
            with qtbot.waitSignal(speaker.latency, timeout=20_000) as stats:
                speaker.speak("Hello over TLS.")
            assert capture.wait_for_silence_after_sound(0.05, 5)
    finally:
        speaker.shutdown()
    marks: LatencyMarks = stats.args[1]
    assert marks.connection_reused is False  # a cold start: this request opened the connection
    assert marks.connect_start is not None and marks.connect_end is not None
    assert marks.request_sent is not None and marks.first_byte is not None
    assert marks.request_sent <= marks.connect_start < marks.connect_end < marks.first_byte
    parts = marks.parts_ms()
    assert set(parts) == {"connect_ms", "request_to_first_byte_ms", "first_byte_to_first_sample_ms"}
    assert "connect" in marks.breakdown() and "first byte → audible" in marks.breakdown()
    assert tls_emulator.last("tts").status == 200


def test_warm_ups_and_speech_share_one_connection(
    engine: ElevenLabsEngine, proxy: DelayProxy, tls_emulator: Emulator
) -> None:
    assert engine.warm_up()
    for _ in range(2):
        assert engine.warm_up()
        with record_timing() as network:
            audio = b"".join(engine.stream_speech("One connection."))
        assert audio and network.timing.reused is True
    assert proxy.connections == 1 and tls_emulator.connections == 1
    assert len(tls_emulator.requests("user")) == 3 and len(tls_emulator.requests("tts")) == 2


def test_after_a_drop_the_next_warm_up_opens_a_new_connection(
    engine: ElevenLabsEngine, proxy: DelayProxy, tls_emulator: Emulator
) -> None:
    assert engine.warm_up()
    proxy.drop_connections()
    # The pool finds its connection closed and opens another: the warm-up still succeeds.
    assert engine.warm_up()
    assert proxy.connections == 2
    with record_timing() as network:
        b"".join(engine.stream_speech("Warm again."))
    assert network.timing.reused is True and proxy.connections == 2


def test_a_warm_up_is_skipped_right_after_a_request_and_when_no_slot_is_free(
    engine: ElevenLabsEngine, tls_emulator: Emulator
) -> None:
    b"".join(engine.stream_speech("Just spoke."))
    assert engine.warm_up(min_idle=60)  # the connection was used a moment ago: warm already
    assert not tls_emulator.requests("user")
    taken = 0
    try:
        while API_SLOTS.tryAcquire(1):
            taken += 1
        assert taken == MAX_CONCURRENT_API_CALLS
        assert engine.warm_up()  # never waits for a slot a user's request might need
        assert not tls_emulator.requests("user")
    finally:
        API_SLOTS.release(taken)
    assert API_SLOTS.available() == MAX_CONCURRENT_API_CALLS


def test_a_failed_warm_up_is_false_and_frees_its_slot(tls_emulator: Emulator) -> None:
    untrusting = ssl.create_default_context()  # the system's CAs: the test CA is not among them
    engine = ElevenLabsEngine(TEST_API_KEY, base_url=tls_emulator.base_url, verify=untrusting)
    try:
        assert engine.warm_up() is False
        with pytest.raises(NetworkError):
            b"".join(engine.stream_speech("Not trusted."))
    finally:
        engine.close()
    assert API_SLOTS.available() == MAX_CONCURRENT_API_CALLS
    assert not tls_emulator.requests()  # nothing got past the handshake


def test_the_key_goes_only_to_the_emulator_over_tls(tls_emulator: Emulator) -> None:
    with httpx.Client(verify=throwaway_tls().client) as client:
        reply = client.get(f"{tls_emulator.base_url}/v1/models", headers={"xi-api-key": "x"})
    assert reply.status_code == 401 and tls_emulator.base_url.startswith("https://127.0.0.1:")


def test_the_warmer_warms_on_show_and_while_active_then_stops(
    engine: ElevenLabsEngine, tls_emulator: Emulator, qtbot: QtBot
) -> None:
    background = Background()
    warmer = Warmer(background, interval=0.2)
    try:
        warmer.set_engine(engine)
        with qtbot.waitSignal(warmer.warmed, timeout=10_000) as shown:
            warmer.warm_now()  # the window showed: open the connection at once
        assert shown.args == [True]
        warmer.set_active(True)
        qtbot.waitUntil(lambda: len(tls_emulator.requests("user")) >= 3, timeout=10_000)
        warmer.set_active(False)
        qtbot.waitUntil(lambda: not warmer.busy, timeout=10_000)
        assert not warmer.scheduled  # nothing more until the window is active again
    finally:
        warmer.stop()
        background.shutdown()
    assert tls_emulator.connections == 1  # every warm-up went over the one connection


def test_the_warmer_retries_sooner_after_a_failure(tls_emulator: Emulator, qtbot: QtBot) -> None:
    untrusting = ssl.create_default_context()
    engine = ElevenLabsEngine(TEST_API_KEY, base_url=tls_emulator.base_url, verify=untrusting)
    background = Background()
    warmer = Warmer(background, interval=60)
    try:
        warmer.set_engine(engine)
        warmer.set_active(True)
        with qtbot.waitSignal(warmer.warmed, timeout=10_000) as first:
            pass
        assert first.args == [False]
        qtbot.waitUntil(lambda: warmer.scheduled, timeout=5_000)
        with qtbot.waitSignal(warmer.warmed, timeout=10_000) as again:
            pass  # the retry comes after RETRY_FIRST seconds, not after the 60 s interval
        assert again.args == [False]
    finally:
        warmer.stop()
        background.shutdown()
        engine.close()


def test_cancelled_warm_up_sends_nothing(engine: ElevenLabsEngine, tls_emulator: Emulator) -> None:
    cancel = CancelToken()
    cancel.set()
    assert engine.warm_up(cancel) is False
    assert not tls_emulator.requests()


@pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen's note on every show
def test_the_window_warms_its_engine_when_shown(window, qtbot: QtBot, emulator: Emulator) -> None:
    assert window.warmer.attempts >= 1  # started by the show, before any Speak
    qtbot.waitUntil(lambda: not window.warmer.busy, timeout=10_000)
    assert emulator.requests("user")  # the warm-up (or the quota it found under way)
    assert window.banner.isHidden()  # a warm-up never shows anything


def test_a_stop_mid_stream_costs_the_connection_and_a_warm_up_reopens_it(
    engine: ElevenLabsEngine, proxy: DelayProxy, tls_emulator: Emulator
) -> None:
    tls_emulator.configure(pacing=0.05, chunk_size=512)
    cancel = CancelToken()
    chunks = engine.stream_speech("A long answer, stopped halfway through. " * 3, cancel=cancel)
    next(chunks)
    cancel.set()  # Stop: the engine shuts the socket down to free the slot at once
    with pytest.raises(Cancelled):
        b"".join(chunks)
    tls_emulator.configure(pacing=0.0)
    assert engine.warm_up()  # what the window does on Stop
    assert proxy.connections == 2
    with record_timing() as network:
        b"".join(engine.stream_speech("Then the next request finds it open."))
    assert network.timing.reused is True and proxy.connections == 2


@pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen's note on every show
@pytest.mark.emulator(pacing=0.05, chunk_size=512)
def test_stopping_speech_in_the_window_warms_again(window, qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: not window.warmer.busy, timeout=10_000)
    with qtbot.waitSignal(window.speaker.utterance_started, timeout=10_000):
        window.speak("A long paced answer that takes a while to arrive. " * 4)
    before = window.warmer.attempts
    window.stop()
    assert window.warmer.attempts == before + 1


def test_the_environment_proxy_is_still_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    # Our own transport means httpx no longer reads these itself: make_client does.
    for name in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert environment_proxy("https://api.elevenlabs.io") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    assert environment_proxy("https://api.elevenlabs.io") == "http://proxy.invalid:3128"
    monkeypatch.setenv("NO_PROXY", "api.elevenlabs.io")
    assert environment_proxy("https://api.elevenlabs.io") is None
