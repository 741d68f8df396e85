"""Speaker and SpeakWorker: engine → decoder → player, heard at the PulseAudio monitor."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from tests.emulator.audio import encode_mp3, tone
from tests.emulator.config import TEST_API_KEY
from tests.emulator.faults import Fault
from tests.emulator.server import Emulator
from tests.helpers.pulse import OUT_RATE, Capture, PulseServer
from tests.test_player import dominant_frequency, heard_until, warm_up
from voicedesk.audio.latency import LatencyMarks
from voicedesk.engines.base import (
    EmptyTextError,
    Quota,
    SpeechFormat,
    StreamInterruptedError,
    Voice,
)
from voicedesk.engines.elevenlabs import ElevenLabsEngine
from voicedesk.limits import API_SLOTS, MAX_CONCURRENT_API_CALLS
from voicedesk.workers.speaker import Speaker

pytestmark = [pytest.mark.audio, pytest.mark.timeout(60)]


class ToneEngine:
    """A SpeechEngine that "speaks" a tone: MP3 made in memory, handed out in `chunk` pieces."""

    name = "tone"
    speech_format = SpeechFormat("mp3", 44_100, 1)
    default_voice_id = "tone"

    def __init__(self, seconds: float = 1.0, freq: float = 440.0, chunk: int = 1024) -> None:
        self.mp3 = encode_mp3(tone(seconds, freq, 44_100), 44_100, 128)
        self.chunk = chunk
        self.fail_after: int | None = None  # raise StreamInterruptedError after this many bytes

    def stream_speech(
        self, text: str, voice_id: str | None = None, *, cancel: threading.Event | None = None
    ) -> Iterator[bytes]:
        for i in range(0, len(self.mp3), self.chunk):
            if self.fail_after is not None and i >= self.fail_after:
                raise StreamInterruptedError()
            yield self.mp3[i : i + self.chunk]

    def generate_speech(self, text: str, voice_id: str | None = None, *, cancel=None) -> bytes:
        return self.mp3

    def transcribe_audio(self, pcm: bytes, language: str = "en", *, cancel=None) -> str:
        return ""

    def voices(self) -> list[Voice]:
        return []

    def quota(self) -> Quota | None:
        return None

    def close(self) -> None:
        pass


@pytest.fixture
def speaker(pulse: PulseServer, qtbot: QtBot) -> Iterator[Speaker]:
    speaker = Speaker(ToneEngine())
    warm_up(pulse, speaker.player, qtbot)
    yield speaker
    speaker.shutdown()


def speak_and_hear(pulse: PulseServer, speaker: Speaker, qtbot: QtBot, text: str = "hi"):
    with pulse.record_output() as capture:
        with qtbot.waitSignal(speaker.utterance_finished, timeout=20_000):
            speaker.speak(text)
        assert capture.wait_for_silence_after_sound(0.05, 5)
    return capture


@pytest.mark.parametrize("chunk", [1, 4096])
def test_the_whole_utterance_is_heard_at_its_pitch(
    pulse: PulseServer, speaker: Speaker, qtbot: QtBot, chunk: int
) -> None:
    speaker.set_engine(ToneEngine(1.5, 440, chunk))
    heard = speak_and_hear(pulse, speaker, qtbot).sound()
    assert abs(len(heard) / OUT_RATE - 1.5) < 0.075
    assert abs(dominant_frequency(heard, OUT_RATE) - 440) < 5
    assert not speaker.is_busy()


def test_latency_marks_are_in_order(pulse: PulseServer, speaker: Speaker, qtbot: QtBot) -> None:
    with qtbot.waitSignal(speaker.latency, timeout=20_000) as stats:
        speak_and_hear(pulse, speaker, qtbot)
    marks: LatencyMarks = stats.args[1]
    order = [
        marks.request_sent,
        marks.first_byte,
        marks.first_pcm,
        marks.first_sample,
        marks.last_played,
    ]
    assert None not in order and order == sorted(order)  # type: ignore[type-var]


def test_speaking_while_speaking_queues(pulse: PulseServer, speaker: Speaker, qtbot: QtBot) -> None:
    speaker.set_engine(ToneEngine(0.4, 440))
    finished: list[int] = []
    speaker.utterance_finished.connect(finished.append)
    with pulse.record_output() as capture:
        first = speaker.speak("one")
        second = speaker.speak("two")
        qtbot.waitUntil(lambda: len(finished) == 2, timeout=20_000)
        assert capture.wait_for_silence_after_sound(0.05, 5)
    assert finished == [first, second]
    loud = np.abs(capture.samples()) > 0.02
    assert abs(np.count_nonzero(loud) / OUT_RATE - 0.8) < 0.05


def test_blank_text_is_refused(speaker: Speaker) -> None:
    with pytest.raises(EmptyTextError):
        speaker.speak("  \n")


def test_a_cut_stream_plays_what_arrived_then_reports(
    pulse: PulseServer, speaker: Speaker, qtbot: QtBot
) -> None:
    engine = ToneEngine(2.0, 440)
    engine.fail_after = len(engine.mp3) // 2
    speaker.set_engine(engine)
    with pulse.record_output() as capture:
        with qtbot.waitSignal(speaker.utterance_failed, timeout=20_000) as failed:
            speaker.speak("hi")
        assert capture.wait_for_silence_after_sound(0.05, 5)
    assert failed.args[1] == StreamInterruptedError().message
    assert abs(len(capture.sound()) / OUT_RATE - 1.0) < 0.1


def audio_seconds(capture: Capture) -> float:
    """Seconds of non-silent samples heard (silence from the sink is exact zeros)."""
    return np.count_nonzero(np.abs(capture.samples()) > 2 / 32768) / capture.rate


# --- end to end: the real ElevenLabsEngine against the emulator ---------------------------------


@pytest.fixture
def eleven(emulator: Emulator) -> Iterator[ElevenLabsEngine]:
    engine = ElevenLabsEngine(TEST_API_KEY, base_url=emulator.base_url)
    yield engine
    engine.close()


TEXT = "Hello there, this is voicedesk."  # the emulator speaks 60 ms of tone a character
TEXT_SECONDS = len(TEXT) * 0.06


@pytest.mark.parametrize("chunk_size", [1, 4096])
def test_emulator_speech_is_heard_whole(
    pulse: PulseServer,
    speaker: Speaker,
    eleven: ElevenLabsEngine,
    emulator: Emulator,
    qtbot: QtBot,
    chunk_size: int,
) -> None:
    emulator.faults.always("tts", Fault.slow(chunk_size=chunk_size))
    speaker.set_engine(eleven)
    capture = speak_and_hear(pulse, speaker, qtbot, TEXT)
    # Counted, not measured first-to-last: with 1-byte chunks the in-process emulator and the
    # SDK share the GIL with us, and the stream can fall behind real time (gaps are allowed;
    # losing or repeating audio isn't).
    assert abs(audio_seconds(capture) - TEXT_SECONDS) < 0.05 * TEXT_SECONDS
    heard = capture.sound()
    voice = emulator.settings.voice(eleven.default_voice_id)
    expected = (voice and voice.frequency) or emulator.settings.audio.frequency
    assert abs(dominant_frequency(heard, OUT_RATE) - expected) < 5


def test_stop_silences_within_100_ms_and_frees_the_slot(
    pulse: PulseServer,
    speaker: Speaker,
    eleven: ElevenLabsEngine,
    emulator: Emulator,
    qtbot: QtBot,
) -> None:
    # Sent at about real time, so the request is still open while it plays.
    emulator.faults.always("tts", Fault.slow(pacing=0.02, chunk_size=400))
    speaker.set_engine(eleven)
    with pulse.record_output() as capture:
        with qtbot.waitSignal(speaker.utterance_started, timeout=10_000):
            speaker.speak(TEXT * 3)
        assert capture.wait_for_sound(5)
        assert API_SLOTS.available() == MAX_CONCURRENT_API_CALLS - 1
        stopped_at = time.monotonic()
        speaker.stop()
        qtbot.waitUntil(lambda: API_SLOTS.available() == MAX_CONCURRENT_API_CALLS, timeout=2000)
        assert capture.wait_for_silence_after_sound(0.2, 5)
    assert heard_until(capture) - stopped_at < 0.1
    assert not speaker.is_busy()


def test_emulator_cut_plays_what_arrived_and_reports(
    pulse: PulseServer,
    speaker: Speaker,
    eleven: ElevenLabsEngine,
    emulator: Emulator,
    qtbot: QtBot,
) -> None:
    emulator.faults.always("tts", Fault.cut(after=16_000))  # ~1 s of 128 kbit/s MP3
    speaker.set_engine(eleven)
    with pulse.record_output() as capture:
        with qtbot.waitSignal(speaker.utterance_failed, timeout=20_000) as failed:
            speaker.speak(TEXT)
        assert capture.wait_for_silence_after_sound(0.05, 5)
    assert failed.args[1] == StreamInterruptedError().message
    assert 0.8 < len(capture.sound()) / OUT_RATE < 1.1
    assert API_SLOTS.available() == MAX_CONCURRENT_API_CALLS
