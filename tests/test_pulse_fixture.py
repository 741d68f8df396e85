"""The sound fixture itself: what is played on the output is heard at its monitor."""

import numpy as np
import pytest

from tests.helpers.pulse import MIC_RATE, OUT_RATE, OUT_SINK, PulseServer

pytestmark = pytest.mark.audio


def _tone(seconds: float, rate: int, freq: float = 440.0) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * freq * t) * 0.5 * 32767).astype("<i2").tobytes()


def test_played_audio_is_heard_at_the_monitor(pulse: PulseServer) -> None:
    with pulse.record_output(OUT_SINK, OUT_RATE) as capture:
        player = pulse.play_into_mic(_tone(0.3, MIC_RATE), MIC_RATE)  # plays on vd_mic
        player.wait(5)
    with pulse.record_output("vd_mic", MIC_RATE) as mic:
        pulse.play_into_mic(_tone(0.3, MIC_RATE), MIC_RATE).wait(5)
        assert mic.wait_for_silence_after_sound(0.1, 5)
    heard = mic.sound()
    assert abs(len(heard) / MIC_RATE - 0.3) < 0.03
    assert capture.first_sound_time() is None  # nothing leaked into the output sink
