"""The QIODevice a pull-mode QAudioSink reads from: the ring buffer, or silence while it waits.

While the stream is open but the buffer is empty (waiting for the network, or for the first
byte), the device hands out silence instead of nothing: a sink that is never starved never
goes idle, so the first real sample goes out on the very next period, and IdleState never has
to be read as "finished". The end is known from the stream itself: once it has ended and its
last byte was handed out, the device keeps handing out silence until the sink reports (by
`processedUSecs`, PulseAudio's play position) that the last real sample was played.
QAudioSink.stop() can't be used for that: in Qt 6.12 it no longer drains, it cuts the tail.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QIODevice, QObject

from voicedesk.audio.playback.pcm import PcmFormat
from voicedesk.audio.playback.ring_buffer import RingBuffer

# What bytesAvailable() reports: always "plenty", since silence is always on hand. Qt's pull
# mode (6.4+) only reads from a device that reports something available.
_ALWAYS_AVAILABLE = 1 << 20
# processedUSecs is where PulseAudio took the stream to, not what has left the speaker: the
# server's own latency follows (more when it resamples, and up to ~60 ms more while a new
# stream settles). This covers it, so the tail is heard before the sink is closed.
_PLAY_POSITION_MARGIN_SECONDS = 0.1
# If a backend's play position never gets there, call it played after this much more silence.
_PLAYED_OUT_FALLBACK_SECONDS = 0.5


class PcmSource(QIODevice):
    """Reads `ring`; tells its owner of the first real sample, starvation, and the last one
    played.

    The owner is told through plain callables, called on the thread that reads (the sink's):
    `on_first_sample(when)` (the monotonic time the first real byte was handed to the sink),
    `on_waiting(waiting)` (True when the buffer ran dry mid-stream, False when data is back)
    and `on_played_out()` (the stream ended and its last sample has been played; called from
    inside the sink's read, where the sink can't be closed, so the owner defers its work).
    Not Qt signals: each connection made from Python on the audio thread is a chance to
    deadlock with the GUI thread (see `sink_host`), and a source is made per utterance.
    """

    def __init__(
        self,
        ring: RingBuffer,
        fmt: PcmFormat,
        played_usecs: Callable[[], int],
        *,
        on_first_sample: Callable[[float], None],
        on_waiting: Callable[[bool], None],
        on_played_out: Callable[[], None],
        parent: QObject | None = None,
    ) -> None:
        if parent is None:
            super().__init__()
        else:
            super().__init__(parent)
        self._ring = ring
        self._format = fmt
        self._played_usecs = played_usecs
        self._on_first_sample = on_first_sample
        self._on_waiting = on_waiting
        self._on_played_out = on_played_out
        self._handed = 0  # bytes handed to the sink so far, silence included
        self._end: int | None = None  # value of _handed just after the last real byte
        self._started = False
        self._waiting = False
        self._done = False

    @property
    def handed(self) -> int:
        """Bytes the sink has pulled so far, silence included: it stops growing only when the
        sink itself stopped (its sound server or device went away)."""
        return self._handed

    def isSequential(self) -> bool:
        return True

    def bytesAvailable(self) -> int:
        return _ALWAYS_AVAILABLE + super().bytesAvailable()

    def readData(self, maxlen: int) -> bytes:
        data = self._ring.read(maxlen) if self._end is None else b""
        if data and not self._started:
            self._started = True
            self._on_first_sample(time.monotonic())
        if self._end is None and len(data) < maxlen:
            if self._ring.drained():
                self._end = self._handed + len(data)
            else:
                self._set_waiting(self._started)
        elif data:
            self._set_waiting(False)
        self._handed += maxlen
        if self._end is not None and not self._done and self._played_all():
            self._done = True
            self._on_played_out()
        # The ring holds whole frames and the sink asks for whole frames, so this stays aligned.
        return data + bytes(maxlen - len(data))

    def writeData(self, data: bytes | bytearray | memoryview, size: int, /) -> int:
        return -1

    def _played_all(self) -> bool:
        assert self._end is not None
        end_usecs = (self._format.duration(self._end) + _PLAY_POSITION_MARGIN_SECONDS) * 1e6
        fallback = self._format.bytes_for(_PLAYED_OUT_FALLBACK_SECONDS)
        return self._played_usecs() >= end_usecs or self._handed - self._end > fallback

    def _set_waiting(self, waiting: bool) -> None:
        if waiting != self._waiting:
            self._waiting = waiting
            self._on_waiting(waiting)
