"""Player: streamed PCM out through a QAudioSink that runs on its own thread.

The sink lives on a dedicated audio thread, pulling from a `PcmSource` over a `RingBuffer`
that the speaking worker fills: nothing on the GUI thread polls, and a busy GUI can't starve
the audio. The sink is opened (`begin`) before the first byte is requested, with a small
buffer, and plays silence until data comes (or while the network falls behind); `started`
fires when the first real sample is handed to the device, `finished` once the last one has
been played.

Methods are safe to call from any thread; signals arrive on the thread that created the
Player (queued), each carrying the stream token `begin` returned, so a receiver can ignore
what a stopped stream still says. The audio thread's feed keeps time because `early_init` lowers
the interpreter's switch interval for the process.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, Signal

from voicedesk.audio.playback.pcm import PcmFormat
from voicedesk.audio.playback.pulse_guard import PulseGuard
from voicedesk.audio.playback.ring_buffer import RingBuffer
from voicedesk.audio.playback.sink_host import SinkHost, device_by_id, format_for_device
from voicedesk.errors import NoOutputDeviceError
from voicedesk.workers.threads import WorkerThread

# Decoded audio the worker may get ahead of playback before `write` waits: long enough that
# a whole sentence-piece downloads (and its API slot frees) while the previous one plays.
BUFFER_SECONDS = 60.0


class Player(QObject):
    started = Signal(int, float)  # token, monotonic time the first sample went to the device
    finished = Signal(int, float)  # token, monotonic time the last sample had been played
    waiting = Signal(int, bool)  # token, True while starved mid-stream (network is slow)
    failed = Signal(int, object)  # token, a VoiceDeskError

    # Requests to the audio thread (queued: the host lives there).
    _open = Signal(int, object, object, float)  # token, RingBuffer, PcmFormat, volume
    _stop = Signal()
    _lose = Signal()
    _resume = Signal()
    _volume = Signal(float)
    _device = Signal(bytes)

    def __init__(self, device_id: bytes = b"", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._device_id = device_id
        self._token = 0
        self._volume_value = 1.0
        self._ring: RingBuffer | None = None
        self._format = PcmFormat(44_100)
        self._opened = False
        host = SinkHost(device_id)
        self._thread = WorkerThread(host, "voicedesk-audio")
        queued = Qt.ConnectionType.QueuedConnection
        self._open.connect(host.open, queued)
        self._stop.connect(host.stop, queued)
        self._lose.connect(host.lose, queued)
        self._resume.connect(host.resume, queued)
        self._volume.connect(host.set_volume, queued)
        self._device.connect(host.set_device, queued)
        host.started.connect(self.started)
        host.finished.connect(self.finished)
        host.waiting.connect(self.waiting)
        host.failed.connect(self.failed)
        self._thread.start()
        # Here, on the GUI thread, before any sink exists (see pulse_guard for why).
        guard = PulseGuard.install()
        if guard is not None:
            guard.lost.connect(self._lose)
            guard.back.connect(self._resume)

    # --- any thread -------------------------------------------------------------------------

    def format_for(self, source: PcmFormat) -> PcmFormat:
        """The s16 format to decode `source` into: itself when the device takes it.

        Raises NoOutputDeviceError when there is no output at all, so a caller finds out
        before it requests any speech (and no stream waits for a sink that can't open).
        """
        with self._lock:
            device_id = self._device_id
        device = device_by_id(device_id)
        if device.isNull():
            raise NoOutputDeviceError()
        return format_for_device(device, source)

    def begin(self, fmt: PcmFormat, cancel: threading.Event | None = None) -> int:
        """Open the sink for a new stream in `fmt` (silence until data comes); its token.

        Called before the request is sent, so the sink is running when the first byte lands.
        (Opening it only with the first PCM was tried: the first sample is heard ~25 ms
        sooner, but a fresh PulseAudio stream grows its latency at first, so the play position
        can no longer tell when the last sample was heard, and tails got cut.)
        0 when `cancel` is already set: nothing was opened.
        """
        ring = RingBuffer(int(fmt.bytes_for(BUFFER_SECONDS)))
        with self._lock:
            # A worker stopped before it got here must not take the sink from the next one:
            # its `begin` would reset the newer stream, which then waits forever. The caller
            # sets `cancel` before `stop()` takes this lock, so checking it here is enough.
            if cancel is not None and cancel.is_set():
                return 0
            if self._ring is not None:
                self._ring.reset()
            self._ring = ring
            self._format = fmt
            self._opened = False
            self._token += 1
            token = self._token
        self._open_once(token)
        return token

    def write(self, token: int, pcm: bytes, cancel: threading.Event | None = None) -> bool:
        """Queue PCM for stream `token`; waits while the buffer is full. False if stopped."""
        ring = self._current(token)
        if ring is None or not ring.write(pcm, cancel):
            return False
        self._open_once(token)
        return True

    def played_bytes(self, token: int) -> int:
        """Bytes of stream `token` handed to the device so far (0 once it is stopped).

        Cheap and lock-protected, for a GUI timer; what was handed is heard after the sink's
        small buffer and the sound server's latency (tens of ms).
        """
        ring = self._current(token)
        return ring.consumed if ring is not None else 0

    def end(self, token: int) -> None:
        """Stream `token` has no more data: `finished` follows once it has all played."""
        ring = self._current(token)
        if ring is not None:
            ring.end()
            self._open_once(token)  # even with no data at all, so that `finished` comes

    def stop(self) -> None:
        """Silence now: drop what is buffered and close the sink. No `finished` follows."""
        with self._lock:
            ring, self._ring = self._ring, None
            self._token += 1  # anything still written for the old stream is refused
        if ring is not None:
            ring.reset()  # the audio thread hands out nothing more of it, even before _stop runs
        self._stop.emit()

    def set_volume(self, volume: float) -> None:
        """Linear gain 0.0-1.0, applied at once and kept for later streams."""
        volume = min(1.0, max(0.0, float(volume)))
        with self._lock:
            self._volume_value = volume
        self._volume.emit(volume)

    def set_device(self, device_id: bytes) -> None:
        """Play on the output with this QAudioDevice id (b"" = the system default)."""
        with self._lock:
            self._device_id = bytes(device_id)
        self._device.emit(bytes(device_id))

    @property
    def volume(self) -> float:
        with self._lock:
            return self._volume_value

    def shutdown(self) -> None:
        """Silence and join the audio thread (call from closeEvent; idempotent)."""
        if self._thread.isRunning():
            self.stop()
            self._thread.stop()

    def _open_once(self, token: int) -> None:
        with self._lock:
            if token != self._token or self._opened or self._ring is None:
                return
            self._opened = True
            # Posted under the lock that `stop` takes, so the audio thread gets the requests in
            # the order they were decided. Posted after it, a `stop` in between (Esc, or the
            # push-to-talk key, as the worker opened its stream) reached the audio thread first,
            # and the sink then opened for a dead stream stayed open, playing silence, until
            # the next utterance. (Emitting a queued signal only posts an event: no slot runs
            # here.)
            self._open.emit(token, self._ring, self._format, self._volume_value)

    def _current(self, token: int) -> RingBuffer | None:
        with self._lock:
            return self._ring if token == self._token else None
