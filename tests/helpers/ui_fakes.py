"""Stand-ins for the window's speaker and recorder, with the same signals.

The speaker really calls the engine (so ElevenLabs requests reach the emulator) on a plain
thread, but plays nothing; tests that need sound use the real Speaker and the pulse fixture.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from voicedesk.engines.base import SpeechEngine


@dataclass
class Call:
    text: str
    voice_id: str | None
    uid: int


class FakeSpeaker(QObject):
    started = Signal(int)
    finished = Signal(int)
    failed = Signal(int, str)
    progress = Signal(int, int, int)

    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1)
        self.calls: list[Call] = []
        self.engine: SpeechEngine | None = None
        self.engines: list[SpeechEngine] = []
        self.stops = 0
        self.output_device = ""
        self.shut_down = False

    def speak(self, text: str, voice_id: str | None = None) -> int:
        uid = next(self._ids)
        self.calls.append(Call(text, voice_id, uid))
        return uid

    def stop(self) -> None:
        self.stops += 1

    def set_engine(self, engine: SpeechEngine) -> None:
        self.engine = engine
        self.engines.append(engine)

    def set_output_device(self, device_id: str) -> None:
        self.output_device = device_id

    def set_volume(self, volume: float) -> None:
        pass

    def shutdown(self) -> None:
        self.shut_down = True

    def fetch(self, call: Call) -> bytes:
        """Run the call through the engine like the real speaker would (blocking)."""
        assert self.engine is not None
        return b"".join(self.engine.stream_speech(call.text, call.voice_id))


class StubRecorder(QObject):
    level = Signal(float)
    error = Signal(str)
    capped = Signal()

    def __init__(self, pcm: bytes = b"\x01\x00" * 16000) -> None:
        super().__init__()
        self.pcm = pcm
        self.recording = False
        self.starts = 0
        self.device: str | None = None
        self.closed = False
        self.fail_with = ""

    def start(self) -> bool:
        if self.fail_with:
            self.error.emit(self.fail_with)
            return False
        self.recording = True
        self.starts += 1
        self.level.emit(-20.0)
        return True

    def stop(self) -> bytes | None:
        if not self.recording:
            return None
        self.recording = False
        return self.pcm

    def discard(self) -> None:
        self.recording = False

    def set_device(self, name: str | None) -> None:
        self.device = name

    def close(self) -> None:
        self.closed = True
