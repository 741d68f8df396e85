"""A stand-in microphone for the window tests: hands over fixed PCM, no sound device needed.

The real Recorder is driven through the private PulseAudio server in tests/test_gui_xvfb.py.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from voicedesk.errors import RecordingTooShortError, VoiceDeskError


class StubRecorder(QObject):
    level = Signal(float)
    failed = Signal(object)  # VoiceDeskError
    capped = Signal()

    def __init__(self, pcm: bytes = b"\x01\x00" * 16000) -> None:
        super().__init__()
        self.pcm = pcm
        self.recording = False
        self.starts = 0
        self.device: str | None = None
        self.closed = False
        self.fail_with: VoiceDeskError | None = None
        self.too_short = False  # stop() says so through `failed`, as the real one does

    def start(self, listener: Callable[[bytes], None] | None = None) -> bool:
        """Key down; a `listener` (live words) gets the whole PCM at once, in 100 ms blocks."""
        if self.fail_with is not None:
            self.failed.emit(self.fail_with)
            return False
        self.recording = True
        self.starts += 1
        if listener is not None:
            for offset in range(0, len(self.pcm), 3200):
                listener(self.pcm[offset : offset + 3200])
        self.level.emit(-20.0)
        return True

    def stop(self) -> bytes | None:
        if not self.recording:
            return None
        self.recording = False
        if self.too_short:
            self.failed.emit(RecordingTooShortError())
            return None
        return self.pcm

    def warm(self) -> bool:
        return True

    def cool(self) -> None:
        pass

    def discard(self) -> None:
        self.recording = False

    def set_device(self, name: str | None) -> None:
        self.device = name

    def close(self) -> None:
        self.closed = True
