"""The microphone capture core: a `sounddevice` input stream into one bytearray. No Qt.

Speed of the first word (users complain of the first words being cut off when the microphone
opens ~500 ms after the key): the stream can be opened ahead of time with `warm()` — the
window does this while it is active — and then keeps only a short pre-roll until `start()`, so
a recording even includes the moment before the key went down. Cold, `start()` opens a
low-latency stream, which delivers its first block within a few milliseconds.

Memory: one bytearray grows in the audio callback; `stop()` makes the one copy of the trimmed
part that is handed on, then drops the buffer.

Live words: `start(listener)` also hands every block to `listener` as it arrives (the
pre-roll first), on PortAudio's thread, in order. A listener must never block (the realtime
session's `feed` only appends to a bounded backlog its own thread drains).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from voicedesk.audio.capture import mic_devices
from voicedesk.audio.capture.mic_devices import InputDevice, SoundDevice
from voicedesk.audio.capture.mic_resample import StreamResampler
from voicedesk.audio.capture.quiet_stderr import quiet_native_stderr
from voicedesk.audio.capture.trim import trim_silence
from voicedesk.errors import (
    STT_CHANNELS,
    STT_SAMPLE_RATE,
    STT_SAMPLE_WIDTH,
    InputDeviceError,
    InputDeviceLostError,
    NoInputDeviceError,
    RecordingTooLongError,
    RecordingTooShortError,
)

log = logging.getLogger(__name__)

# Called with each block of the take as it arrives (bytes: 16 kHz mono s16le).
Listener = Callable[[bytes], None]

BYTES_PER_SECOND = STT_SAMPLE_RATE * STT_SAMPLE_WIDTH * STT_CHANNELS
DEFAULT_MAX_SECONDS = 300.0
DEFAULT_MIN_SECONDS = 0.3
DEFAULT_PREROLL_SECONDS = 0.25
SILENCE_DBFS = -96.0  # what 16-bit digital silence measures: the meter's floor
# An open stream delivers a block every few ms. When the sound server dies, PortAudio's ALSA
# stream neither ends nor reports anything: the blocks just stop. This long without one means
# the input is gone (long enough that a busy machine is not taken for a lost microphone).
STALL_SECONDS = 2.0
#: Why a take ended on its own (the device was unplugged, or the sound server died).
MIC_LOST_MESSAGE = (
    "The microphone stopped (unplugged, or the sound server went away); "
    "what was heard so far is kept."
)


class MicCapture:
    """Records 16 kHz mono s16le PCM from one input device.

    `start()` / `stop()` bracket a recording (key down / key up). `warm()` / `cool()` open and
    close the stream around them when the caller wants recordings to start instantly.
    Methods are for one controlling thread; the audio callback runs on PortAudio's thread and
    shares state with them under `_lock`.
    """

    def __init__(
        self,
        device: str | None = None,
        *,
        max_seconds: float = DEFAULT_MAX_SECONDS,
        min_seconds: float = DEFAULT_MIN_SECONDS,
        preroll_seconds: float = DEFAULT_PREROLL_SECONDS,
        sd: SoundDevice | None = None,
        on_capped: Callable[[], None] | None = None,
    ) -> None:
        """`on_capped` is called once per recording when the cap is reached, on PortAudio's
        thread: it must be quick and thread-safe (setting a `threading.Event` is)."""
        self.device = device or None
        self._on_capped = on_capped
        self.max_seconds = max_seconds
        self.min_seconds = min_seconds
        self._max_bytes = int(max_seconds * STT_SAMPLE_RATE) * STT_SAMPLE_WIDTH
        self._preroll_bytes = int(preroll_seconds * STT_SAMPLE_RATE) * STT_SAMPLE_WIDTH
        self._sd = sd
        self._lock = threading.Lock()
        self._buffer = bytearray()
        self._stream: Any = None
        self._opened_for_recording = False  # opened by start(), so stop() closes it
        self._recording = False
        self._recorded_from = 0  # where the key press falls in `_buffer` (after the pre-roll)
        self._capped = threading.Event()
        self._first_block = threading.Event()  # the take's first block has arrived
        self._listener: Listener | None = None
        self._resampler: StreamResampler | None = None
        self._level_sum = 0.0
        self._level_count = 0
        self._failure: BaseException | None = None
        #: Seconds from `start()` to the first block of audio reaching the buffer (a measure,
        #: for benchmarks and logs).
        self.first_block_delay: float | None = None
        self._started_at = 0.0
        self._last_block_at = 0.0  # monotonic time of the last callback

    # -- state ---------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._stream is not None

    @property
    def is_recording(self) -> bool:
        return self._recording

    @property
    def is_capped(self) -> bool:
        return self._capped.is_set()

    @property
    def preroll_seconds(self) -> float:
        """How much of the current take is from before the key press (a warm stream's)."""
        return self._recorded_from / BYTES_PER_SECOND if self._recording else 0.0

    def cap_message(self) -> str:
        minutes = self.max_seconds / 60
        limit = f"{minutes:g} minutes" if minutes >= 1 else f"{self.max_seconds:g} seconds"
        return RecordingTooLongError(
            f"Recording stopped at the {limit} limit; what was said so far is kept."
        ).message

    def wait_capped(self, timeout: float | None = None) -> bool:
        return self._capped.wait(timeout)

    def wait_first_block(self, timeout: float | None = None) -> bool:
        """Wait for the take's first block of audio: a device can deliver it over a second
        after `start()`, and a timed take counts from there."""
        return self._first_block.wait(timeout)

    def take_failure(self) -> BaseException | None:
        """An error the stream hit on its own (device unplugged mid-recording, or the sound
        server gone so that no audio has arrived for `STALL_SECONDS`), once."""
        with self._lock:
            if self._failure is None and self._recording and self._stalled():
                self._failure = InputDeviceLostError(MIC_LOST_MESSAGE)
            failure, self._failure = self._failure, None
        return failure

    def _stalled(self) -> bool:
        return self._stream is not None and time.monotonic() - self._last_block_at > STALL_SECONDS

    def level_dbfs(self) -> float:
        """RMS level of what arrived since the last call, in dBFS (a meter reads it ~30/s)."""
        with self._lock:
            total, count = self._level_sum, self._level_count
            self._level_sum, self._level_count = 0.0, 0
        if count == 0:
            return SILENCE_DBFS
        mean_square = total / count
        return max(SILENCE_DBFS, 10 * math.log10(mean_square)) if mean_square > 0 else SILENCE_DBFS

    # -- stream --------------------------------------------------------------------------

    def warm(self) -> None:
        """Open the stream now so the next `start()` captures from the very first moment."""
        if self._stream is None:
            self._open()
        self._opened_for_recording = False

    def cool(self) -> None:
        """Close a warm stream (the window went inactive); a recording in progress keeps it."""
        if self._recording:
            self._opened_for_recording = True  # closed by stop() instead
            return
        self._close()

    def start(self, listener: Listener | None = None) -> None:
        """Key down: begin recording (raises `NoInputDeviceError` / `InputDeviceError`).

        `listener`, when given, gets the take's audio as it arrives (see the module's note)."""
        if self._recording:
            return
        self._capped.clear()
        self._first_block.clear()
        self._started_at = time.monotonic()
        self.first_block_delay = None
        with self._lock:
            # Keep the pre-roll a warm stream gathered: the moment before the key went down.
            del self._buffer[: max(0, len(self._buffer) - self._preroll_bytes)]
            self._recorded_from = len(self._buffer)
            self._recording = True
            self._listener = listener
            if listener is not None and self._buffer:
                self._tell(bytes(self._buffer))
            stale = self._stalled()
        if stale:
            self._close()  # a warm stream whose server went away: open a fresh one
        if self._stream is None:
            try:
                self._open()
            except BaseException:
                self._recording = False
                raise
            self._opened_for_recording = True

    def stop(self) -> bytes:
        """Key up: the recording, leading and trailing silence trimmed.

        Raises `RecordingTooShortError` for less than `min_seconds` held (nothing is sent).
        """
        with self._lock:
            was_recording = self._recording
            self._recording = False
            self._listener = None
            buffer, self._buffer = self._buffer, bytearray()
            held = len(buffer) - self._recorded_from
        if self._opened_for_recording:
            self._close()
        if not was_recording or held < self.min_seconds * BYTES_PER_SECOND:
            raise RecordingTooShortError()
        return trim_silence(buffer, STT_SAMPLE_RATE)

    def discard(self) -> None:
        """Drop a recording in progress (Escape); the stream stays as it was."""
        with self._lock:
            self._recording = False
            self._listener = None
            self._buffer = bytearray()
        if self._opened_for_recording:
            self._close()

    def close(self) -> None:
        self.discard()
        self._close()

    # -- internals -----------------------------------------------------------------------

    def _backend(self) -> SoundDevice:
        if self._sd is None:
            self._sd = mic_devices.backend()
        return self._sd

    def _open(self) -> None:
        sd = self._backend()
        device = mic_devices.choose_input(self.device, sd)
        source = mic_devices.pulse_source(self.device)
        try:
            with quiet_native_stderr(), mic_devices.recording_from(source):
                self._open_on(sd, device)  # (PortAudio's ALSA layer prints failures on fd 2)
        except (InputDeviceError, NoInputDeviceError):
            if source is None:
                raise
            # The chosen source is gone (an unplugged headset): the default input, as for any
            # chosen device that is missing, rather than losing what the user is about to say.
            log.info("input %r could not be opened; using the default input", self.device)
            device = mic_devices.choose_input(None, sd)
            with quiet_native_stderr():
                self._open_on(sd, device)
        log.debug("input stream open on %r (source %s)", device.name, source or "default")

    def _open_on(self, sd: SoundDevice, device: InputDevice) -> None:
        self._last_block_at = time.monotonic()
        try:
            stream = self._make_stream(sd, device, STT_SAMPLE_RATE)
            self._resampler = None
        except sd.PortAudioError as error:
            if mic_devices.portaudio_code(error) != mic_devices.INVALID_SAMPLE_RATE:
                raise mic_devices.open_error(error) from error
            # A device without 16 kHz: record at its own rate and convert in the callback.
            rate = device.default_samplerate
            try:
                stream = self._make_stream(sd, device, rate)
            except sd.PortAudioError as again:
                raise mic_devices.open_error(again) from again
            self._resampler = StreamResampler(rate, STT_SAMPLE_RATE)
        try:
            stream.start()
        except sd.PortAudioError as error:
            stream.close()
            raise mic_devices.open_error(error) from error
        self._stream = stream
        mic_devices.stream_opened()

    def _make_stream(self, sd: SoundDevice, device: InputDevice, rate: float) -> Any:
        return sd.RawInputStream(
            samplerate=rate,
            channels=STT_CHANNELS,
            dtype="int16",
            device=device.index,
            latency="low",  # small blocks: the first one arrives a few ms after start()
            callback=self._callback,
            finished_callback=self._finished,
        )

    def _close(self) -> None:
        stream, self._stream = self._stream, None
        self._opened_for_recording = False
        if stream is None:
            return
        try:
            with quiet_native_stderr():  # a stream whose server is gone complains on fd 2
                stream.close()  # close() aborts: what is still in flight is not wanted
        except Exception as error:  # a vanished device can fail to close; it is gone anyway
            log.debug("closing the input stream: %s", error)
        finally:
            mic_devices.stream_closed()

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        # PortAudio's thread: no allocation beyond the append, no logging, no blocking calls.
        self._last_block_at = time.monotonic()
        samples = np.frombuffer(indata, dtype="<i2")
        data: Any = indata
        if self._resampler is not None:
            data = self._resampler.process(samples)
        power = float(np.dot(samples.astype(np.float32), samples.astype(np.float32)))
        with self._lock:
            self._level_sum += power / (32768.0 * 32768.0)
            self._level_count += samples.size
            if not self._recording:
                self._buffer += data
                excess = len(self._buffer) - 2 * self._preroll_bytes
                if excess > 0:  # trim in batches: deleting from the front is a memmove
                    del self._buffer[: excess + self._preroll_bytes]
                return
            if self.first_block_delay is None:
                self.first_block_delay = time.monotonic() - self._started_at
                self._first_block.set()
            room = self._max_bytes - len(self._buffer)
            if room <= 0:
                return
            if len(data) < room:
                self._buffer += data
                if self._listener is not None:
                    self._tell(bytes(data))
                return
            self._buffer += memoryview(data).cast("B")[:room]
            if self._listener is not None:
                self._tell(bytes(memoryview(data).cast("B")[:room]))
            self._capped.set()
        if self._on_capped is not None:
            self._on_capped()

    def _tell(self, block: bytes) -> None:
        # Under `_lock`, so blocks reach the listener in recording order. A listener that
        # raises is dropped: the recording itself must go on.
        try:
            self._listener(block)  # type: ignore[misc]
        except Exception:
            self._listener = None

    def _finished(self) -> None:
        # Called when the stream ends on its own too (device unplugged, server gone).
        if self._stream is not None:
            with self._lock:
                if self._recording and self._failure is None:
                    self._failure = InputDeviceLostError(MIC_LOST_MESSAGE)
