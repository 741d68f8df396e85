"""Player through the private PulseAudio server: what is played is heard at the sink's monitor."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtMultimedia import QAudioDevice
from pytestqt.qtbot import QtBot

from tests.helpers.heard import audible_seconds, dominant_frequency, steady_frequency
from tests.helpers.pulse import MIC_RATE, MIC_SINK, OUT_RATE, Capture, PulseServer
from tests.helpers.sounds import tone_pcm
from voicedesk.audio.playback import player as player_module
from voicedesk.audio.playback.pcm import PcmFormat
from voicedesk.audio.playback.player import Player
from voicedesk.errors import NoOutputDeviceError

pytestmark = [pytest.mark.audio, pytest.mark.timeout(30)]

MONO = PcmFormat(OUT_RATE, 1)


@pytest.fixture
def player(pulse: PulseServer) -> Iterator[Player]:
    # No warm-up here: the pulse fixture plays into its sinks until they run cleanly.
    player = Player()
    yield player
    player.shutdown()


def test_plays_everything_then_finishes_after_the_last_sample_is_heard(
    pulse: PulseServer, player: Player, qtbot: QtBot
) -> None:
    with pulse.record_output() as capture:
        token = player.begin(player.format_for(MONO))
        with qtbot.waitSignal(player.started, timeout=5000) as started:
            player.write(token, tone_pcm(1.0))
        player.end(token)
        with qtbot.waitSignal(player.finished, timeout=5000) as finished:
            pass
        done_at = time.monotonic()
        assert capture.wait_for_silence_after_sound(0.05, 5)
    assert started.args[0] == token and finished.args[0] == token
    heard = capture.sound()
    assert abs(audible_seconds(heard, OUT_RATE) - 1.0) < 0.05
    assert abs(steady_frequency(heard, OUT_RATE) - 440) < 2
    # "finished" means played: nothing of the tone is heard after it (the monitor lags a bit).
    assert heard_until(capture) < done_at + 0.03


def test_stop_silences_within_100_ms(pulse: PulseServer, player: Player, qtbot: QtBot) -> None:
    with pulse.record_output() as capture:
        token = player.begin(player.format_for(MONO))
        with qtbot.waitSignal(player.started, timeout=5000):
            player.write(token, tone_pcm(3.0))
        assert capture.wait_for_sound(5)
        stopped_at = time.monotonic()
        with qtbot.assertNotEmitted(player.finished, wait=300):
            player.stop()
        assert capture.wait_for_silence_after_sound(0.2, 5)
    assert heard_until(capture) - stopped_at < 0.1
    assert not player.write(token, tone_pcm(0.1))  # the stopped stream takes no more


def heard_until(capture: Capture) -> float:
    """Monotonic time the last loud sample was heard at the monitor."""
    first = capture.first_sound_time()
    assert first is not None
    return first + (len(capture.sound()) - 1) / capture.rate


def test_waits_for_the_network_without_finishing(
    pulse: PulseServer, player: Player, qtbot: QtBot
) -> None:
    with pulse.record_output() as capture:
        token = player.begin(player.format_for(MONO))
        with qtbot.waitSignal(player.waiting, timeout=5000, check_params_cb=lambda t, w: w):
            player.write(token, tone_pcm(0.5))
        with qtbot.assertNotEmitted(player.finished, wait=200):
            pass
        player.write(token, tone_pcm(0.2, freq=660))
        player.end(token)
        qtbot.waitSignal(player.finished, timeout=5000).wait()
        assert capture.wait_for_silence_after_sound(0.05, 5)
    assert len(np.flatnonzero(np.abs(capture.samples()) > 0.02)) > 0.35 * OUT_RATE


def test_volume_scales_the_output(pulse: PulseServer, player: Player, qtbot: QtBot) -> None:
    player.set_volume(0.25)
    with pulse.record_output() as capture:
        token = player.begin(player.format_for(MONO))
        player.write(token, tone_pcm(0.5))
        player.end(token)
        qtbot.waitSignal(player.finished, timeout=5000).wait()
        assert capture.wait_for_silence_after_sound(0.05, 5)
    peak = float(np.max(np.abs(capture.sound())))
    assert 0.05 < peak < 0.2  # 0.5 full scale at a quarter of the volume


def test_other_rates_are_played_at_the_right_pitch(
    pulse: PulseServer, player: Player, qtbot: QtBot
) -> None:
    fmt = player.format_for(PcmFormat(22_050, 1))
    assert fmt == PcmFormat(22_050, 1)  # PulseAudio takes it as is; it resamples to the sink
    with pulse.record_output() as capture:
        token = player.begin(fmt)
        player.write(token, tone_pcm(0.5, freq=1000, rate=22_050))
        player.end(token)
        qtbot.waitSignal(player.finished, timeout=5000).wait()
        assert capture.wait_for_silence_after_sound(0.05, 5)
    heard = capture.sound()
    assert abs(steady_frequency(heard, OUT_RATE) - 1000) < 4
    assert abs(audible_seconds(heard, OUT_RATE) - 0.5) < 0.025


def test_played_bytes_count_what_the_device_took(
    pulse: PulseServer, player: Player, qtbot: QtBot
) -> None:
    pcm = tone_pcm(0.5)
    token = player.begin(player.format_for(MONO))
    assert player.played_bytes(token) == 0
    with qtbot.waitSignal(player.started, timeout=5000):
        player.write(token, pcm)
    player.end(token)
    qtbot.waitUntil(lambda: 0 < player.played_bytes(token) < len(pcm), timeout=5000)
    qtbot.waitSignal(player.finished, timeout=5000).wait()
    assert player.played_bytes(token) == len(pcm)
    assert player.played_bytes(token + 1) == 0  # not a stream of this player


def test_no_output_device_is_a_clear_error(player: Player, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(player_module, "device_by_id", _no_device)
    with pytest.raises(NoOutputDeviceError) as raised:
        player.format_for(MONO)
    assert "No audio output device" in raised.value.message


def _no_device(device_id: bytes) -> QAudioDevice:
    return QAudioDevice()  # what QMediaDevices gives when there is no output at all


def test_another_output_device_is_heard_there(
    pulse: PulseServer, player: Player, qtbot: QtBot
) -> None:
    player.set_device(MIC_SINK.encode())  # QMediaDevices lists both null sinks by name
    with pulse.record_output(MIC_SINK, MIC_RATE) as mic, pulse.record_output() as out:
        token = player.begin(player.format_for(MONO))
        player.write(token, tone_pcm(0.5))
        player.end(token)
        qtbot.waitSignal(player.finished, timeout=5000).wait()
        assert mic.wait_for_silence_after_sound(0.05, 5)
    heard = mic.sound()
    assert abs(audible_seconds(heard, MIC_RATE) - 0.5) < 0.03
    assert abs(dominant_frequency(heard, MIC_RATE) - 440) < 5
    assert out.first_sound_time() is None  # nothing went to the default output


def test_switching_device_mid_stream_moves_the_sound(
    pulse: PulseServer, player: Player, qtbot: QtBot
) -> None:
    with pulse.record_output(MIC_SINK, MIC_RATE) as mic, pulse.record_output() as out:
        token = player.begin(player.format_for(MONO))
        player.write(token, tone_pcm(2.0))
        player.end(token)
        assert out.wait_for_sound(5)
        player.set_device(MIC_SINK.encode())
        qtbot.waitSignal(player.finished, timeout=10_000).wait()
        assert mic.wait_for_silence_after_sound(0.05, 5)
    on_out = audible_seconds(out.sound(), OUT_RATE)
    on_mic = audible_seconds(mic.sound(), MIC_RATE)
    assert on_out < 1.0 and on_mic > 1.0
    # What the old sink still held when it was dropped is lost: a few tens of ms at most.
    assert 1.85 < on_out + on_mic < 2.05


def test_a_stopped_stream_that_begins_late_leaves_the_next_one_alone(
    pulse: PulseServer, player: Player, qtbot: QtBot
) -> None:
    """Speak, Esc, Speak: the first worker may reach `begin` only after the second. Its `begin`
    reset the newer stream, which then never finished (the window stayed on "Starting")."""
    import threading

    stopped = threading.Event()
    stopped.set()  # the Speaker cancels the old worker before it stops the player
    player.stop()
    token = player.begin(player.format_for(MONO), threading.Event())
    assert player.begin(player.format_for(MONO), stopped) == 0  # the late one opens nothing
    assert player.write(token, tone_pcm(0.2))
    player.end(token)
    with qtbot.waitSignal(player.finished, timeout=5000) as finished:
        pass
    assert finished.args[0] == token


class _HoldsTheWorkerAfterRelease:
    """The Player's lock, except that the worker thread, right after it lets go of it for the
    `nth` time, waits until the test says go on, as a thread does that loses the CPU there.
    `begin` takes the lock twice: to start the stream, then to decide that the sink opens."""

    def __init__(self, nth: int) -> None:
        self._lock = threading.Lock()
        self._test_thread = threading.get_ident()
        self._releases = 0
        self._nth = nth
        self.paused = threading.Event()
        self.go_on = threading.Event()

    def __enter__(self) -> _HoldsTheWorkerAfterRelease:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
        if threading.get_ident() == self._test_thread:
            return
        self._releases += 1
        if self._releases == self._nth:
            self.paused.set()
            self.go_on.wait(5)


def test_a_stop_racing_a_begin_leaves_no_sink_open(
    player: Player, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Speak, then Esc (or the push-to-talk key) just as the worker opens its stream: the
    request to open the sink must not reach the audio thread after the stop's, or a sink for a
    dead stream stays open, playing silence, until the next utterance (found after a storm of
    key presses: one sink's descriptors were left)."""
    host = player._thread.worker
    fmt = player.format_for(MONO)
    for nth in (1, 2):  # stopped after the stream started; after the sink was decided on
        player.stop()
        lock = _HoldsTheWorkerAfterRelease(nth)
        monkeypatch.setattr(player, "_lock", lock)
        worker = threading.Thread(target=player.begin, args=(fmt,))
        worker.start()
        assert lock.paused.wait(5)
        player.stop()
        lock.go_on.set()
        worker.join(5)
        # The stop came last: no sink may be left open (the audio thread gets there at once).
        qtbot.waitUntil(lambda: host._sink is None and host._source is None, timeout=2000)  # type: ignore[attr-defined]
        monkeypatch.undo()
