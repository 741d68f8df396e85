"""Speaker and SpeakWorker: engine → decoder → player, heard at the PulseAudio monitor."""

from __future__ import annotations

import functools
import itertools
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from PySide6.QtMultimedia import QAudioDevice
from pytestqt.qtbot import QtBot

from tests.emulator.audio import AudioSpec, encode_mp3, tone
from tests.emulator.config import TEST_API_KEY
from tests.emulator.faults import Fault
from tests.emulator.server import Emulator
from tests.helpers.heard import audible_seconds, steady_frequency
from tests.helpers.pulse import MIC_RATE, MIC_SINK, OUT_RATE, PulseServer
from tests.test_player import heard_until
from voicedesk.audio.playback import player as player_module
from voicedesk.audio.playback import sink_host
from voicedesk.audio.playback.decoder import StreamDecoder
from voicedesk.audio.playback.pcm import PcmFormat
from voicedesk.engines import elevenlabs as elevenlabs_module
from voicedesk.engines.base import PieceCallback, Quota, SpeechFormat, Voice
from voicedesk.engines.elevenlabs import ElevenLabsEngine
from voicedesk.engines.local import LocalEngine
from voicedesk.errors import (
    EmptyTextError,
    NoOutputDeviceError,
    StreamInterruptedError,
    VoiceDeskError,
)
from voicedesk.limits import API_SLOTS, MAX_CONCURRENT_API_CALLS
from voicedesk.text import LOCAL_PIECE_CHARS, blocks, split_text
from voicedesk.workers.latency import LatencyMarks
from voicedesk.workers.speaker import Speaker

pytestmark = [pytest.mark.audio, pytest.mark.timeout(60)]


class ToneEngine:
    """A SpeechEngine that "speaks" tones: MP3 made in memory, handed out in `chunk` pieces.

    With `pieces` > 1 it speaks that many tones one after another, each a whole MP3 stream
    announced through `on_piece`, as ElevenLabsEngine does for long text.
    """

    name = "tone"
    speech_format = SpeechFormat("mp3", 44_100, 1)
    default_voice_id = "tone"

    def __init__(
        self, seconds: float = 1.0, freq: float = 440.0, chunk: int = 1024, pieces: int = 1
    ) -> None:
        self.mp3 = encode_mp3(tone(seconds, freq, 44_100), 44_100, 128)
        self.chunk = chunk
        self.pieces = pieces
        self.fail_after: int | None = None  # raise StreamInterruptedError after this many bytes

    def stream_speech(
        self,
        text: str,
        voice_id: str | None = None,
        *,
        cancel: threading.Event | None = None,
        on_piece: PieceCallback | None = None,
    ) -> Iterator[bytes]:
        for index in range(self.pieces):
            if on_piece is not None:
                on_piece(index, self.pieces)
            for i in range(0, len(self.mp3), self.chunk):
                if self.fail_after is not None and i >= self.fail_after:
                    raise StreamInterruptedError()
                yield self.mp3[i : i + self.chunk]

    def generate_speech(self, text: str, voice_id: str | None = None, *, cancel=None) -> bytes:
        return self.mp3 * self.pieces

    def transcribe_audio(self, pcm: bytes, language: str = "en", *, cancel=None) -> str:
        return ""

    def voices(self) -> list[Voice]:
        return []

    def quota(self) -> Quota | None:
        return None

    def close(self) -> None:
        pass


@pytest.fixture
def speaker(pulse: PulseServer) -> Iterator[Speaker]:
    # No warm-up here: the pulse fixture plays into its sinks until they run cleanly.
    speaker = Speaker(ToneEngine())
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
    # Samples heard, not first-to-last span: on a loaded machine 24,000 one-byte feeds can
    # starve the sink for a moment; a gap is not lost audio, a missing or repeated frame is.
    audible = audible_seconds(heard, OUT_RATE)
    assert abs(audible - 1.5) < 0.075
    assert abs(steady_frequency(heard, OUT_RATE) - 440) < 2
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
    assert failed.args[1].message == StreamInterruptedError().message
    assert abs(audible_seconds(capture.sound(), OUT_RATE) - 1.0) < 0.1


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
    assert abs(audible_seconds(capture.samples(), OUT_RATE) - TEXT_SECONDS) < 0.05 * TEXT_SECONDS
    heard = capture.sound()
    voice = emulator.settings.voice(eleven.default_voice_id)
    expected = (voice and voice.frequency) or emulator.settings.audio.frequency
    assert abs(steady_frequency(heard, OUT_RATE) - expected) < 2


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
    assert failed.args[1].message == StreamInterruptedError().message
    assert 0.8 < audible_seconds(capture.sound(), OUT_RATE) < 1.1
    assert API_SLOTS.available() == MAX_CONCURRENT_API_CALLS


# --- re-entrancy: speaking again from inside the Speaker's own signals --------------------------


@pytest.mark.parametrize("signal", ["utterance_finished", "utterance_failed", "idle"])
def test_speaking_from_inside_a_signal_is_not_lost(
    speaker: Speaker, qtbot: QtBot, signal: str
) -> None:
    first_engine = ToneEngine(0.2)
    if signal == "utterance_failed":
        first_engine.fail_after = 0  # fails before any audio
    speaker.set_engine(first_engine)
    again: list[int] = []
    finished: list[int] = []
    idles: list[bool] = []

    def speak_again(*args: object) -> None:
        if not again:  # once: the second utterance's own signals don't speak a third
            speaker.set_engine(ToneEngine(0.2))
            again.append(speaker.speak("again"))

    getattr(speaker, signal).connect(speak_again)
    speaker.utterance_finished.connect(finished.append)
    speaker.idle.connect(lambda: idles.append(True))
    first = speaker.speak("first")
    qtbot.waitUntil(lambda: bool(again) and again[0] in finished, timeout=10_000)
    qtbot.waitUntil(lambda: not speaker.is_busy(), timeout=5000)
    assert first not in again
    # One idle per busy spell: after both (or, re-speaking on idle, after each).
    assert len(idles) == (2 if signal == "idle" else 1)


def test_a_failure_before_the_stream_opens_lets_a_handler_speak_again(
    speaker: Speaker, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(player_module, "device_by_id", _no_device)
    again: list[int] = []
    failed: list[str] = []

    def fall_back(uid: int, error: VoiceDeskError) -> None:
        failed.append(error.message)
        if not again:
            monkeypatch.undo()  # the output is back
            again.append(speaker.speak("again"))

    speaker.utterance_failed.connect(fall_back)
    with qtbot.waitSignal(speaker.utterance_finished, timeout=10_000) as done:
        speaker.speak("first")
    assert done.args[0] == again[0]
    assert failed == [NoOutputDeviceError().message]


# --- no output device ---------------------------------------------------------------------------


def _no_device(device_id: bytes) -> QAudioDevice:
    return QAudioDevice()  # what QMediaDevices gives when there is no output at all


def test_no_output_device_fails_the_utterance_clearly(
    speaker: Speaker, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(player_module, "device_by_id", _no_device)
    with (
        qtbot.waitSignal(speaker.idle, timeout=5000),
        qtbot.waitSignal(speaker.utterance_failed, timeout=5000) as failed,
    ):
        speaker.speak("hi")
    assert failed.args[1].message == NoOutputDeviceError().message
    assert not speaker.is_busy()


def test_an_output_that_fails_to_open_fails_the_utterance(
    speaker: Speaker, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The device was there when the worker looked, gone when the sink opened: the sink's own
    # error may reach the Speaker before the worker's `opened` does.
    monkeypatch.setattr(sink_host, "device_by_id", _no_device)
    for _ in range(3):
        with qtbot.waitSignal(speaker.utterance_failed, timeout=5000) as failed:
            speaker.speak("hi")
        assert failed.args[1].message == NoOutputDeviceError().message
        qtbot.waitUntil(lambda: not speaker.is_busy(), timeout=5000)


def test_speech_follows_the_chosen_output_device(
    pulse: PulseServer, speaker: Speaker, qtbot: QtBot
) -> None:
    speaker.set_engine(ToneEngine(0.5))
    speaker.set_output_device(MIC_SINK.encode())
    with pulse.record_output(MIC_SINK, MIC_RATE) as mic, pulse.record_output() as out:
        with qtbot.waitSignal(speaker.utterance_finished, timeout=10_000):
            speaker.speak("hi")
        assert mic.wait_for_silence_after_sound(0.05, 5)
    assert abs(audible_seconds(mic.sound(), MIC_RATE) - 0.5) < 0.05
    assert out.first_sound_time() is None
    speaker.set_output_device(b"")  # back to the default
    with pulse.record_output() as out:
        with qtbot.waitSignal(speaker.utterance_finished, timeout=10_000):
            speaker.speak("hi")
        assert out.wait_for_silence_after_sound(0.05, 5)
    assert abs(audible_seconds(out.sound(), OUT_RATE) - 0.5) < 0.05


# --- long text: which piece is playing, and no gaps at the joins --------------------------------

# Three sentences that split into three pieces with these limits (the real ones, 250 and 2,000
# characters, would need minutes of audio): the emulator speaks 20 ms of tone a character.
LONG_TEXT = (
    "A first short piece to start. "
    "Then the second piece, which is a little longer. "
    "And the third piece closes this long text now."
)
SPLIT_LIMITS = {"first_limit": 40, "limit": 60}
# Each piece downloads ~6x faster than it plays (2 KiB = 128 ms of 128 kbit/s MP3 every 20 ms),
# after 200 ms to its first byte.
PIECES_EMULATOR = pytest.mark.emulator(
    audio=AudioSpec(seconds_per_char=0.02), ttfb=0.2, pacing=0.02, chunk_size=2048
)
# Every MP3 piece is a stream of its own: LAME's priming (576 samples, plus the decoder's 529:
# ~25 ms) before its audio and up to one frame of padding (1,152 samples: 26 ms) after it. A
# join therefore carries up to ~51 ms of silence that the encoder put there (measured on the
# emulator's output: 1,118 + 564-1,050 samples); anything longer is an under-run of ours.
MAX_JOIN_GAP_SECONDS = 0.08


@pytest.fixture
def three_pieces(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Makes ElevenLabsEngine split LONG_TEXT into three pieces; their texts."""
    split = functools.partial(split_text, **SPLIT_LIMITS)
    monkeypatch.setattr(elevenlabs_module, "split_text", split)
    texts = [piece.text for piece in split(LONG_TEXT)]
    assert len(texts) == 3
    return texts


def decoded(mp3: bytes) -> np.ndarray:
    decoder = StreamDecoder(PcmFormat(OUT_RATE))
    pcm = decoder.feed(mp3) + decoder.flush()
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def loud(samples: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.abs(samples) > 0.02)  # Capture's own threshold


def longest_quiet(samples: np.ndarray) -> float:
    """Seconds of the longest run of quiet samples between the first and last loud one."""
    where = loud(samples)
    return float(np.max(np.diff(where), initial=1) - 1) / OUT_RATE


@PIECES_EMULATOR
def test_the_piece_heard_is_reported_not_the_one_downloading(
    pulse: PulseServer,
    speaker: Speaker,
    eleven: ElevenLabsEngine,
    emulator: Emulator,
    qtbot: QtBot,
    three_pieces: list[str],
    tts_mp3: Callable[..., bytes],
) -> None:
    speaker.set_engine(eleven)
    pieces: list[tuple[float, int, int]] = []
    shares: list[float] = []
    speaker.piece.connect(lambda uid, index, count: pieces.append((time.monotonic(), index, count)))
    speaker.position.connect(lambda uid, share: shares.append(share))
    capture = speak_and_hear(pulse, speaker, qtbot, LONG_TEXT)
    assert [(index, count) for _, index, count in pieces] == [(0, 3), (1, 3), (2, 3)]
    # When each piece should be heard: the audio before it (less the first piece's leading
    # silence, which the worker trims) after the first sound.
    pcms = [decoded(tts_mp3(text)) for text in three_pieces]
    offsets = np.cumsum([0, *(len(pcm) for pcm in pcms[:-1])]) - loud(pcms[0])[0]
    first_sound = capture.first_sound_time()
    assert first_sound is not None
    for (reported, index, _), offset in zip(pieces, offsets, strict=True):
        heard = first_sound + max(0, offset) / OUT_RATE
        # Reported from what was handed to the device (a little ahead of what is heard), by a
        # 10 Hz timer (up to 100 ms behind).
        assert -0.1 < reported - heard < 0.2, f"piece {index}"
    # The last piece had long finished downloading when it began to play.
    downloads = emulator.requests("tts")
    assert [r.json["text"] for r in downloads] == three_pieces
    last_download = downloads[-1].ended_at
    assert last_download is not None and pieces[-1][0] - last_download > 0.5
    assert shares == sorted(shares) and shares[0] < 0.1 and shares[-1] > 0.9


@PIECES_EMULATOR
def test_long_text_plays_without_gaps_at_the_joins(
    pulse: PulseServer,
    speaker: Speaker,
    eleven: ElevenLabsEngine,
    qtbot: QtBot,
    three_pieces: list[str],
    tts_mp3: Callable[..., bytes],
) -> None:
    speaker.set_engine(eleven)
    capture = speak_and_hear(pulse, speaker, qtbot, LONG_TEXT)
    pcms = [decoded(tts_mp3(text)) for text in three_pieces]
    # What the encoder itself leaves at each join, to check the bound is the encoder's:
    joins = [longest_quiet(np.concatenate(pair)) for pair in itertools.pairwise(pcms)]
    assert max(joins) < MAX_JOIN_GAP_SECONDS - 0.02
    heard = capture.sound()
    assert longest_quiet(heard) <= MAX_JOIN_GAP_SECONDS
    whole = np.concatenate(pcms)
    expected = (loud(whole)[-1] - loud(whole)[0] + 1) / OUT_RATE
    assert abs(len(heard) / OUT_RATE - expected) < 0.05 * expected


@pytest.mark.slow
@pytest.mark.timeout(300)  # ~70 s of speech to synthesise: ~5 s idle, minutes on a busy box
def test_the_offline_voice_reports_its_pieces() -> None:
    # Pieces are blocks of up to LOCAL_PIECE_CHARS (~30 s of speech), counted before the first
    # sound and announced in order; each is cut into small synthesis units when its turn comes.
    sentence = "The sun is up and the birds are singing in the garden. "
    text = sentence * (2 * LOCAL_PIECE_CHARS // len(sentence) + 1)
    engine = LocalEngine()
    pieces: list[tuple[int, int]] = []
    try:
        chunks = list(engine.stream_speech(text, on_piece=lambda i, n: pieces.append((i, n))))
    finally:
        engine.close()
    assert len(chunks) > 3
    count = len(blocks(text, LOCAL_PIECE_CHARS))
    assert count == 3
    assert pieces == [(i, count) for i in range(count)]
