"""The microphone capture, against the private PulseAudio server's virtual microphone.

Speech is espeak-ng's, made in memory: played into `vd_mic` (whose monitor is the default
input) and compared with what the recorder captured.
"""

from __future__ import annotations

import os
import stat
import subprocess
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from tests.helpers.pulse import MIC_SINK, PulseServer
from tests.helpers.sounds import speech_pcm
from voicedesk.audio.capture import mic_devices
from voicedesk.audio.capture.mic_capture import BYTES_PER_SECOND, MicCapture
from voicedesk.audio.capture.recorder import Recorder
from voicedesk.errors import InputDeviceError, NoInputDeviceError, RecordingTooShortError

RATE = 16_000
pytestmark = pytest.mark.timeout(30)


# -- helpers shared with the worker and CLI tests ---------------------------------------


def espeak_pcm(text: str, pad_seconds: float = 0.5, lead_seconds: float = 0.0) -> bytes:
    """espeak-ng speech as 16 kHz mono s16le, made in memory, with `pad_seconds` of silence
    after it (so the tail has reached the recorder when the player exits) and `lead_seconds`
    before it."""
    speech = np.frombuffer(speech_pcm(text, RATE), dtype="<i2").astype(np.float32)
    speech = speech[: np.flatnonzero(np.abs(speech) > 100)[-1] + 1]  # espeak's own 0.3 s tail
    pad = np.zeros(int(pad_seconds * RATE), dtype=np.float32)
    lead = np.zeros(int(lead_seconds * RATE), dtype=np.float32)
    return np.concatenate([lead, speech, pad]).astype("<i2").tobytes()


def similarity(recorded: bytes, played: bytes) -> float:
    """Normalized cross-correlation peak of two PCM clips: 1.0 for the same audio at any lag."""
    a = np.frombuffer(recorded, dtype="<i2").astype(np.float64)
    b = np.frombuffer(played, dtype="<i2").astype(np.float64)
    a, b = a - a.mean(), b - b.mean()
    size = 1 << int(np.ceil(np.log2(a.size + b.size)))
    corr = np.fft.irfft(np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size)), size)
    return float(np.abs(corr).max() / (np.linalg.norm(a) * np.linalg.norm(b)))


def play_into_mic(pulse: PulseServer, pcm: bytes) -> subprocess.Popen[bytes]:
    """Like `pulse.play_into_mic`, with a playback buffer that survives a busy machine.

    At 10 ms of buffer `pacat` under-runs when the two cores are busy, and the sink fills
    the gaps with silence: what reaches the microphone is then no longer the clip.
    """
    proc = subprocess.Popen(
        ["pacat", "--playback", "--raw", "--format=s16le", f"--rate={RATE}", "--channels=1",
         "--latency-msec=150", f"--device={MIC_SINK}"],
        env={**os.environ, **pulse.env}, stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdin is not None
    proc.stdin.write(pcm)
    proc.stdin.close()
    return proc


def play_and_wait(pulse: PulseServer, pcm: bytes) -> None:
    assert play_into_mic(pulse, pcm).wait(20) == 0


def record_faithfully(pulse: PulseServer, clip: bytes, take: Callable[[], bytes]) -> bytes:
    """What `take()` captured while it played `clip` into the microphone, checked against
    what the microphone itself heard (`parec` on the same monitor).

    On a busy machine the sound server now and then stretches playback (the sink fills late
    blocks with silence), so a take is repeated until the microphone heard the clip intact;
    the recorder must match what was heard every time.
    """
    for _ in range(4):
        with pulse.record_output(MIC_SINK, RATE) as heard:
            captured = take()
        assert similarity(captured, heard.pcm) > 0.9, "the recorder lost or altered audio"
        if similarity(heard.pcm, clip) > 0.9:
            return captured
    pytest.fail("the sound server never played the clip intact (machine overloaded?)")


@pytest.fixture(scope="module")
def live_mic(pulse: PulseServer) -> PulseServer:
    """The server, once sound played into the microphone reaches a recorder promptly.

    A fresh null sink renders in blocks of up to 2 s until its low-latency warmer stream is
    connected, so right after the server starts audio can arrive late or be lost.
    """
    beep = (np.sin(np.arange(800) / 5) * 8000).astype("<i2").tobytes()
    capture = MicCapture(preroll_seconds=0.05)
    capture.warm()
    try:
        settle = threading.Event()  # never set: a timed wait for the beep to come round
        for _ in range(30):
            play_and_wait(pulse, beep)
            settle.wait(0.15)
            if capture.level_dbfs() > -40:
                break
        else:
            pytest.fail("the virtual microphone never delivered sound")
    finally:
        capture.close()
    return pulse


# -- a stand-in for sounddevice, for what a real server can't do on demand ---------------


class FakePortAudioError(Exception):
    pass


class FakeStream:
    def __init__(self, owner: FakeSoundDevice, **kwargs: Any) -> None:
        self.owner = owner
        self.kwargs = kwargs
        self.latency = 0.008
        if owner.open_error is not None:
            raise owner.open_error
        if owner.native_rate and kwargs["samplerate"] != owner.native_rate:
            raise FakePortAudioError("Invalid sample rate", -9997)
        owner.streams.append(self)

    def start(self) -> None:
        # Deliver the whole signal at once, in 10 ms blocks, as PortAudio's thread would.
        rate = int(self.kwargs["samplerate"])
        block = rate // 100
        for offset in range(0, self.owner.signal.size, block):
            chunk = self.owner.signal[offset : offset + block].astype("<i2").tobytes()
            self.kwargs["callback"](chunk, len(chunk) // 2, None, None)

    def close(self) -> None:
        self.owner.closed += 1


class FakeSoundDevice:
    PortAudioError = FakePortAudioError

    def __init__(self, devices: int = 1, native_rate: int = 0) -> None:
        self.default = type("Default", (), {"device": [0 if devices else -1, -1]})()
        self._devices = [
            {
                "index": i,
                "name": f"mic {i}",
                "max_input_channels": 1,
                "default_samplerate": float(native_rate or RATE),
            }
            for i in range(devices)
        ]
        self.native_rate = native_rate
        self.open_error: Exception | None = None
        self.signal = np.zeros(0, dtype="<i2")
        self.streams: list[FakeStream] = []
        self.closed = 0
        self.reinitialized = 0
        self.plugged_in: list[dict[str, Any]] = []

    def query_devices(self) -> list[dict[str, Any]]:
        return self._devices

    def RawInputStream(self, **kwargs: Any) -> FakeStream:
        return FakeStream(self, **kwargs)

    def _terminate(self) -> None:
        self.reinitialized += 1

    def _initialize(self) -> None:
        # PortAudio re-enumerates: whatever was plugged in meanwhile appears now.
        self._devices += self.plugged_in
        self.plugged_in = []


# -- the real virtual microphone ----------------------------------------------------------


@pytest.mark.audio
def test_records_what_is_played_into_the_microphone(live_mic: PulseServer) -> None:
    clip = espeak_pcm("The quick brown fox jumps over the lazy dog.")
    capture = MicCapture()

    def take() -> bytes:
        capture.start()
        try:
            play_and_wait(live_mic, clip)
        finally:
            pcm = capture.stop()
        return pcm

    pcm = record_faithfully(live_mic, clip, take)
    assert not capture.is_open
    assert similarity(pcm, clip) > 0.9
    # Silence trimmed: about the speech plus margins, not the whole hold.
    speech_seconds = (len(clip) / 2 - 0.5 * RATE) / RATE
    assert len(pcm) / BYTES_PER_SECOND < speech_seconds + 0.6


@pytest.mark.audio
def test_opening_is_fast_and_a_warm_stream_keeps_a_preroll(live_mic: PulseServer) -> None:
    capture = MicCapture()
    capture.start()  # cold: opens the stream on key down
    try:
        deadline = threading.Event()
        while capture.first_block_delay is None and not deadline.wait(0.005):
            pass
        assert capture.first_block_delay is not None
        # Typically ~10 ms (see bench/bench_stt.py); the bound is loose for an overloaded CI box.
        assert capture.first_block_delay < 1.0
    finally:
        capture.discard()
    capture.warm()
    try:
        clip = espeak_pcm("hello there", pad_seconds=0.0)
        play_and_wait(live_mic, clip)
        capture.start()  # the key goes down only after the speech ended...
        play_and_wait(live_mic, np.zeros(int(0.4 * RATE), "<i2").tobytes())
        pcm = capture.stop()
        assert capture.is_open  # ...the warm stream stays open
    finally:
        capture.close()
    # ...and the pre-roll still holds the end of the word.
    level = np.abs(np.frombuffer(pcm, "<i2")).max()
    assert level > 1000


@pytest.mark.audio
def test_too_short_sends_nothing(live_mic: PulseServer) -> None:
    capture = MicCapture()
    capture.start()
    with pytest.raises(RecordingTooShortError) as caught:
        capture.stop()
    assert "too short" in caught.value.message


@pytest.mark.audio
def test_length_cap_stops_growing_and_keeps_the_audio(live_mic: PulseServer) -> None:
    capture = MicCapture(max_seconds=0.5)
    capture.start()
    try:
        assert capture.wait_capped(10)
        assert "0.5 seconds limit" in capture.cap_message()
    finally:
        pcm = capture.stop()
    assert len(pcm) == int(0.5 * RATE) * 2


@pytest.mark.audio
def test_no_file_is_open_while_recording(live_mic: PulseServer) -> None:
    before = set(os.listdir("/proc/self/fd"))
    capture = MicCapture()
    capture.start()
    try:
        play_and_wait(live_mic, espeak_pcm("nothing on disk"))
        opened = set(os.listdir("/proc/self/fd")) - before
        kinds = {}
        for fd in opened:
            try:
                mode = os.stat(f"/proc/self/fd/{fd}").st_mode
                target = os.readlink(f"/proc/self/fd/{fd}")
            except FileNotFoundError:
                continue  # closed meanwhile
            kinds[target] = mode
    finally:
        capture.stop()
    files = {t: m for t, m in kinds.items() if stat.S_ISREG(m) or stat.S_ISDIR(m)}
    assert not files, files
    assert all(t.startswith(("/dev/", "socket:", "pipe:", "anon_inode:")) for t in kinds), kinds


@pytest.mark.audio
def test_device_list_follows_hotplugging_safely(live_mic: PulseServer) -> None:
    names = [d.name for d in mic_devices.list_input_devices(refresh=True)]
    assert "default" in names
    fake = FakeSoundDevice()
    mic_devices.list_input_devices(refresh=True, sd=fake)
    assert fake.reinitialized == 1
    capture = MicCapture()
    capture.warm()
    try:  # an open stream must survive: no re-enumeration under it
        mic_devices.list_input_devices(refresh=True, sd=fake)
        assert fake.reinitialized == 1
    finally:
        capture.close()


@pytest.mark.audio
def test_qt_recorder_meters_and_caps(qtbot: Any, live_mic: PulseServer) -> None:
    recorder = Recorder(max_seconds=0.6)
    levels: list[float] = []
    recorder.level.connect(levels.append)
    with qtbot.waitSignal(recorder.capped, timeout=10_000):
        assert recorder.start()
        play_into_mic(live_mic, espeak_pcm("level", pad_seconds=0.0))
    with qtbot.waitSignal(recorder.recording_changed, timeout=2000):
        pcm = recorder.stop()
    assert pcm is not None and 0 < len(pcm) <= int(0.6 * RATE) * 2
    assert len(levels) >= 5
    assert max(levels) > -40.0 and min(levels) <= -90.0
    recorder.close()


# -- edge cases through the stand-in ------------------------------------------------------


def test_no_input_device() -> None:
    with pytest.raises(NoInputDeviceError) as caught:
        MicCapture(sd=FakeSoundDevice(devices=0)).start()
    assert "No microphone" in caught.value.message


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (FakePortAudioError("Device unavailable", -9985), "busy"),
        (FakePortAudioError("Permission denied", -9999), "refused"),
        (FakePortAudioError("Unanticipated host error", -9999), "could not be opened"),
    ],
)
def test_busy_or_refused_device(error: Exception, words: str) -> None:
    fake = FakeSoundDevice()
    fake.open_error = error
    capture = MicCapture(sd=fake)
    with pytest.raises(InputDeviceError) as caught:
        capture.start()
    assert words in caught.value.message
    assert not capture.is_recording


def test_qt_recorder_reports_open_errors(qtbot: Any) -> None:
    recorder = Recorder(sd=FakeSoundDevice(devices=0))
    with qtbot.waitSignal(recorder.failed, timeout=1000) as signal:
        assert not recorder.start()
    assert "No microphone" in signal.args[0].message


def test_device_chosen_by_name_or_default() -> None:
    fake = FakeSoundDevice(devices=3)
    assert mic_devices.choose_input("mic 2", fake).index == 2
    assert mic_devices.choose_input("unplugged headset", fake).index == 0
    assert mic_devices.choose_input(None, fake).is_default


def test_a_device_plugged_in_since_start_is_found() -> None:
    fake = FakeSoundDevice(devices=1)
    headset = {"index": 1, "name": "USB headset", "max_input_channels": 1}
    fake.plugged_in.append({**headset, "default_samplerate": 48_000.0})
    assert mic_devices.choose_input("headset", fake).name == "USB headset"
    assert fake.reinitialized == 1
    assert mic_devices.choose_input("headset", fake).index == 1
    assert fake.reinitialized == 1  # found without re-enumerating again


def test_resamples_when_the_device_has_no_16k() -> None:
    fake = FakeSoundDevice(native_rate=48_000)
    t = np.arange(48_000) / 48_000
    fake.signal = (np.sin(2 * np.pi * 440 * t) * 10_000).astype("<i2")
    capture = MicCapture(sd=fake)
    capture.start()  # the fake delivers one second at once
    pcm = np.frombuffer(capture.stop(), "<i2").astype(np.float64)
    assert abs(pcm.size - RATE) <= 2
    spectrum = np.abs(np.fft.rfft(pcm))
    assert abs(np.argmax(spectrum) * RATE / pcm.size - 440) < 3
    assert 8_000 < np.abs(pcm[100:-100]).max() < 10_500


def test_qt_recorder_says_gently_when_too_short(qtbot: Any) -> None:
    fake = FakeSoundDevice()
    fake.signal = np.full(int(0.1 * RATE), 1000, dtype="<i2")
    recorder = Recorder(sd=fake)
    assert recorder.start()
    with qtbot.waitSignal(recorder.failed, timeout=1000) as signal:
        assert recorder.stop() is None
    assert [error.message for error in signal.args] == [RecordingTooShortError.default_message]
    recorder.close()


def test_a_microphone_lost_mid_recording_keeps_what_was_said(qtbot: Any) -> None:
    fake = FakeSoundDevice()
    fake.signal = (np.sin(np.arange(RATE) / 3) * 8000).astype("<i2")
    recorder = Recorder(sd=fake)
    assert recorder.start()  # one second arrives...
    stream = fake.streams[-1]
    with qtbot.waitSignal(recorder.failed, timeout=2000) as signal:
        stream.kwargs["finished_callback"]()  # ...then the device vanishes
    assert "unplugged" in signal.args[0].message
    pcm = recorder.stop()  # key up still hands on the audio so far
    assert pcm is not None and len(pcm) == 2 * RATE
    assert fake.closed == 1
