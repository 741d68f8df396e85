"""Push-to-talk recording for the window: a thin Qt layer over `MicCapture`.

The capture core runs its callback on PortAudio's own thread; nothing here is emitted from
there. A GUI-thread timer reads the level ~30 times a second and notices the length cap and
stream failures, so every signal comes from the thread the Recorder lives in.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from voicedesk.audio.capture.mic_capture import DEFAULT_MAX_SECONDS, Listener, MicCapture
from voicedesk.audio.capture.mic_devices import SoundDevice
from voicedesk.errors import InputDeviceLostError, VoiceDeskError

METER_INTERVAL_MS = 33  # ~30 level updates a second


class Recorder(QObject):
    """Signals: `level(dbfs)` while the stream is open, `failed(error)`, `capped()`,
    `recording_changed(bool)`.

    Methods: `warm()` / `cool()` (open the stream ahead while the window is active),
    `start()` (key down) and `stop() -> bytes | None` (key up: the trimmed PCM, or None with
    `failed` emitted), `discard()`, `set_device(name)`, `close()`.
    """

    level = Signal(float)
    failed = Signal(object)  # VoiceDeskError
    capped = Signal()
    recording_changed = Signal(bool)

    def __init__(
        self,
        device: str | None = None,
        *,
        max_seconds: float = DEFAULT_MAX_SECONDS,
        sd: SoundDevice | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._sd = sd
        self._max_seconds = max_seconds
        self.capture = MicCapture(device, max_seconds=max_seconds, sd=sd)
        self._capped_reported = False
        self._meter = QTimer(self)
        self._meter.setInterval(METER_INTERVAL_MS)
        self._meter.timeout.connect(self._tick)

    def set_device(self, name: str | None) -> None:
        """Use another input device (by name; empty for the system default) from now on."""
        was_warm = self.capture.is_open and not self.capture.is_recording
        if self.capture.is_recording:
            self.discard()
        self.capture.close()
        self.capture = MicCapture(name, max_seconds=self._max_seconds, sd=self._sd)
        if was_warm:
            self.warm()

    @Slot()
    def warm(self) -> bool:
        try:
            self.capture.warm()
        except VoiceDeskError as failure:
            self.failed.emit(failure)
            return False
        self._meter.start()
        return True

    @Slot()
    def cool(self) -> None:
        self.capture.cool()
        if not self.capture.is_open:
            self._meter.stop()

    @Slot()
    def start(self, listener: Listener | None = None) -> bool:
        """Key down. False (and `failed`) when the microphone can't be opened. `listener` gets
        the audio as it arrives, on PortAudio's thread (live words); it must never block."""
        if self.capture.is_recording:
            return True
        try:
            self.capture.start(listener)
        except VoiceDeskError as failure:
            self.failed.emit(failure)
            return False
        self._capped_reported = False
        self._meter.start()
        self.recording_changed.emit(True)
        return True

    @Slot()
    def stop(self) -> bytes | None:
        """Key up: the recording to transcribe, or None (too short: `failed` says so)."""
        if not self.capture.is_recording:
            return None
        try:
            pcm: bytes | None = self.capture.stop()
        except VoiceDeskError as failure:
            self.failed.emit(failure)
            pcm = None
        self._after_recording()
        return pcm

    @Slot()
    def discard(self) -> None:
        was_recording = self.capture.is_recording
        self.capture.discard()
        if was_recording:
            self._after_recording()

    def close(self) -> None:
        self._meter.stop()
        was_recording = self.capture.is_recording
        self.capture.close()
        if was_recording:
            self.recording_changed.emit(False)

    def _after_recording(self) -> None:
        if not self.capture.is_open:
            self._meter.stop()
            self.level.emit(self.capture.level_dbfs())  # the meter falls back to silence
        self.recording_changed.emit(False)

    @Slot()
    def _tick(self) -> None:
        self.level.emit(self.capture.level_dbfs())
        if failure := self.capture.take_failure():
            # The stream died mid-recording: what was captured so far stays, and key up
            # (stop) still hands it on; the dead stream is closed then, not reused.
            self.capture.cool()
            if not isinstance(failure, VoiceDeskError):
                failure = InputDeviceLostError(str(failure))
            self.failed.emit(failure)
            return
        if self.capture.is_capped and not self._capped_reported:
            self._capped_reported = True
            self.capped.emit()
