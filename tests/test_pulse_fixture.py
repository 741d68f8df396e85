"""The sound fixture itself: what is played on the output is heard at its monitor."""

import pytest

from tests.helpers.pulse import MIC_RATE, OUT_RATE, OUT_SINK, PulseServer
from tests.helpers.sounds import tone_pcm

pytestmark = pytest.mark.audio


def test_played_audio_is_heard_at_the_monitor(pulse: PulseServer) -> None:
    with pulse.record_output(OUT_SINK, OUT_RATE) as capture:
        player = pulse.play_into_mic(tone_pcm(0.3, rate=MIC_RATE), MIC_RATE)  # plays on vd_mic
        player.wait(5)
    with pulse.record_output("vd_mic", MIC_RATE) as mic:
        pulse.play_into_mic(tone_pcm(0.3, rate=MIC_RATE), MIC_RATE).wait(5)
        assert mic.wait_for_silence_after_sound(0.1, 5)
    heard = mic.sound()
    assert abs(len(heard) / MIC_RATE - 0.3) < 0.03
    assert capture.first_sound_time() is None  # nothing leaked into the output sink
