"""Player through the private PulseAudio server: what is played is heard at the sink's monitor."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from tests.helpers.pulse import OUT_RATE, Capture, PulseServer
from voicedesk.audio.pcm import PcmFormat
from voicedesk.audio.player import Player

pytestmark = [pytest.mark.audio, pytest.mark.timeout(30)]

MONO = PcmFormat(OUT_RATE, 1)


def tone_pcm(seconds: float, freq: float = 440.0, rate: int = OUT_RATE) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * freq * t) * 0.5 * 32767).astype("<i2").tobytes()


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


_warm = False


@pytest.fixture
def player(pulse: PulseServer, qtbot: QtBot) -> Iterator[Player]:
    player = Player()
    warm_up(pulse, player, qtbot)
    yield player
    player.shutdown()


def warm_up(pulse: PulseServer, player: Player, qtbot: QtBot) -> None:
    """Play short tones until one comes through whole, once per session.

    For the first few seconds after it starts, the test PulseAudio server (null sink plus
    its keep-warm stream) stalls new streams for up to a few hundred ms at a time, which
    would show up as gaps in whatever the first test plays.
    """
    global _warm
    clean = 0
    for _ in range(30):
        if _warm:
            return
        with pulse.record_output() as capture:
            token = player.begin(MONO)
            player.write(token, tone_pcm(0.5))
            player.end(token)
            qtbot.waitSignal(player.finished, timeout=10_000).wait()
            capture.wait_for_silence_after_sound(0.05, 5)
        clean = clean + 1 if abs(len(capture.sound()) / OUT_RATE - 0.5) < 0.02 else 0
        _warm = clean >= 2


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
    assert abs(len(heard) / OUT_RATE - 1.0) < 0.05
    assert abs(dominant_frequency(heard, OUT_RATE) - 440) < 5
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
    assert abs(dominant_frequency(heard, OUT_RATE) - 1000) < 10
    assert abs(len(heard) / OUT_RATE - 0.5) < 0.025
