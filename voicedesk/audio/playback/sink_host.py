"""The QAudioSink itself, owned by the audio thread (see `player` for the thread-safe face)."""

from __future__ import annotations

import logging
import time

import shiboken6
from PySide6.QtCore import QIODevice, QObject, QTimer, Signal, Slot
from PySide6.QtMultimedia import QAudio, QAudioDevice, QAudioFormat, QAudioSink, QMediaDevices

from voicedesk.audio.playback.pcm import PcmFormat
from voicedesk.audio.playback.pcm_source import PcmSource
from voicedesk.audio.playback.pulse_guard import PulseGuard, qt_audio_allowed
from voicedesk.audio.playback.ring_buffer import RingBuffer
from voicedesk.errors import AudioOutputLostError, NoOutputDeviceError, VoiceDeskError

log = logging.getLogger(__name__)

# The sink's own buffer. The first sample waits behind the silence it holds, so smaller is
# sooner; but the sink is fed by Python code that must win the GIL once per buffer, and with
# another busy Python thread 512 bytes at 44.1 kHz mono (5.8 ms) under-ran every few periods
# on a 2-core machine, while 2048 (23 ms) never did and was heard 35 ms after hand-over. What
# counts is the time between feeds, so the size is a time: at the offline voice's 22.05 kHz a
# 2048-byte buffer held 46 ms, and every first sample waited behind that much silence.
SINK_BUFFER_SECONDS = 0.0233
_FAILED = (QAudio.Error.OpenError, QAudio.Error.IOError, QAudio.Error.FatalError)
# The sink's error is read on each watchdog tick, not through its `stateChanged` signal: a
# connect or disconnect made from Python holds the GIL while it waits for one of Qt's shared
# signal-slot mutexes, and another thread that holds that mutex while PySide takes the GIL
# for it (the GUI thread letting go of a Python slot: seen in gdb, the audio thread in
# `QMetaObject::disconnect` and the GUI thread in `disconnectNotify` waiting for the GIL)
# never lets go. So nothing here (nor in PcmSource) connects a signal per utterance.
# A sink that pulls nothing for this long has lost its output: a running sink pulls every
# few ms (silence included, see PcmSource), and when the sound server dies Qt's sink neither
# pulls nor reports an error. A backstop: the PulseGuard reports a dead server sooner. Counted
# in watchdog ticks on the audio thread, so a starved thread is not taken for a lost device,
# and long enough for a sound server that is slow to ask for data on a loaded machine.
STALL_MS = 1800
_WATCH_INTERVAL_MS = 200


def audio_outputs() -> list[QAudioDevice]:
    """Qt's outputs; none before the sound server was first reached (see pulse_guard)."""
    return QMediaDevices.audioOutputs() if qt_audio_allowed() else []


def device_by_id(device_id: bytes) -> QAudioDevice:
    """The output with this id, else the system default (a null device if there is none, or
    no sound server was reached yet)."""
    if not qt_audio_allowed():
        return QAudioDevice()
    if device_id:
        for device in QMediaDevices.audioOutputs():
            if bytes(device.id().data()) == device_id:
                return device
    return QMediaDevices.defaultAudioOutput()


def _discard(sink: QAudioSink) -> None:
    """Stop and destroy `sink` now, with the GIL released.

    `QAudioSink.reset()` called from Python runs with the GIL held, and inside it Qt takes
    its shared signal-slot mutexes (destroying the stream's internal objects): if the GUI
    thread holds one of those while PySide waits for the GIL for it, neither moves (seen in
    gdb on a stress run, the audio thread in `~QObject` under `reset()`). Shiboken releases
    the GIL around a C++ destructor, and `~QAudioSink` stops the stream itself: PulseAudio's
    stream is corked first, so Stop is silence at once, as with `reset()`.
    """
    shiboken6.delete(sink)


def _qformat(fmt: PcmFormat) -> QAudioFormat:
    qfmt = QAudioFormat()
    qfmt.setSampleRate(fmt.sample_rate)
    qfmt.setChannelCount(fmt.channels)
    qfmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
    return qfmt


def format_for_device(device: QAudioDevice, source: PcmFormat) -> PcmFormat:
    """`source` if the device plays it as s16; else the nearest it does (its preferred one)."""
    if device.isNull() or device.isFormatSupported(_qformat(source)):
        return source
    preferred = device.preferredFormat()
    for candidate in (
        PcmFormat(source.sample_rate, preferred.channelCount()),
        PcmFormat(preferred.sampleRate(), source.channels),
        PcmFormat(preferred.sampleRate(), preferred.channelCount()),
    ):
        if device.isFormatSupported(_qformat(candidate)):
            return candidate
    return PcmFormat(preferred.sampleRate(), preferred.channelCount())


class SinkHost(QObject):
    started = Signal(int, float)
    finished = Signal(int, float)
    waiting = Signal(int, bool)
    failed = Signal(int, object)  # token, VoiceDeskError

    def __init__(self, device_id: bytes = b"") -> None:
        super().__init__()
        self._device_id = device_id
        self._media: QMediaDevices | None = None
        self._sink: QAudioSink | None = None
        self._source: PcmSource | None = None
        self._format: PcmFormat | None = None
        self._token = 0
        self._volume = 1.0
        self._watch: QTimer | None = None
        self._played_timer: QTimer | None = None  # ends the stream once the source played out
        self._last_handed = -1
        self._stalled_ms = 0

    @Slot(int, object, object, float)
    def open(self, token: int, ring: RingBuffer, fmt: PcmFormat, volume: float) -> None:
        self._close()
        if self._media is None:
            self._make_thread_objects()
        self._token, self._format, self._volume = token, fmt, volume
        source = PcmSource(
            ring,
            fmt,
            self._played_usecs,
            on_first_sample=self._first_sample,
            on_waiting=self._waiting,
            on_played_out=self._played_out_soon,
            parent=self,
        )
        source.open(QIODevice.OpenModeFlag.ReadOnly | QIODevice.OpenModeFlag.Unbuffered)
        self._source = source
        self._start_sink()

    def _make_thread_objects(self) -> None:
        # Made on the first open, on the audio thread, so their signals are delivered here;
        # and made once and kept (see `_FAILED`'s comment for why the audio thread makes no
        # connections per utterance).
        self._media = QMediaDevices(self)
        self._media.audioOutputsChanged.connect(self._outputs_changed)
        self._watch = QTimer(self)
        self._watch.setInterval(_WATCH_INTERVAL_MS)
        self._watch.timeout.connect(self._check_pulling)
        self._played_timer = QTimer(self)
        self._played_timer.setSingleShot(True)
        self._played_timer.setInterval(0)
        self._played_timer.timeout.connect(self._played_out)

    @Slot()
    def stop(self) -> None:
        self._close()

    @Slot()
    def resume(self) -> None:
        """The sound server is usable again: start a stream that was waiting for it."""
        if self._sink is None and self._source is not None:
            self._start_sink()

    @Slot()
    def lose(self) -> None:
        """The sound server went away: end the stream now, with the error that says so."""
        if self._sink is not None or self._source is not None:
            self._fail(AudioOutputLostError())

    @Slot(float)
    def set_volume(self, volume: float) -> None:
        self._volume = volume
        if self._sink is not None:
            self._sink.setVolume(volume)

    @Slot(bytes)
    def set_device(self, device_id: bytes) -> None:
        if device_id != self._device_id:
            self._device_id = device_id
            self._rebuild()

    @Slot()
    def _outputs_changed(self) -> None:
        # The chosen device may be gone, or (following the default) the default moved.
        self._rebuild()

    def _rebuild(self) -> None:
        """Move a playing stream onto the current device; what's in the ring carries on."""
        if self._sink is None or self._source is None:
            return
        old, self._sink = self._sink, None
        _discard(old)
        self._start_sink()

    def _start_sink(self) -> None:
        assert self._source is not None and self._format is not None
        guard = PulseGuard.current()
        if guard is not None and not guard.ready():
            if guard.reviving():
                return  # the server is back and Qt is reconnecting: `resume` starts it
            # Qt would abort the process here (see pulse_guard): say so instead.
            self._fail(AudioOutputLostError())
            return
        device = device_by_id(self._device_id)
        if device.isNull():
            self._fail(NoOutputDeviceError())
            return
        qfmt = _qformat(self._format)
        if not device.isFormatSupported(qfmt):
            self._fail(
                NoOutputDeviceError(
                    f"The audio output “{device.description()}” can't play this sound format."
                )
            )
            return
        sink = QAudioSink(device, qfmt, self)
        # setBufferSize only counts before start().
        sink.setBufferSize(self._format.bytes_for(SINK_BUFFER_SECONDS))
        sink.setVolume(self._volume)
        self._sink = sink
        sink.start(self._source)
        if sink.error() in _FAILED:
            self._fail(AudioOutputLostError())
            return
        self._watch_start()

    def _watch_start(self) -> None:
        assert self._watch is not None  # made on the first open
        self._last_handed, self._stalled_ms = -1, 0
        self._watch.start()

    @Slot()
    def _check_pulling(self) -> None:
        assert self._watch is not None  # it is what calls this
        if self._sink is None or self._source is None:
            self._watch.stop()
            return
        if self._sink.error() in _FAILED:
            self._fail(AudioOutputLostError())
            return
        handed = self._source.handed
        if handed != self._last_handed:
            self._last_handed, self._stalled_ms = handed, 0
            return
        self._stalled_ms += _WATCH_INTERVAL_MS
        if self._stalled_ms >= STALL_MS:
            log.warning("the audio sink stopped pulling data; the output is gone")
            self._fail(AudioOutputLostError())

    def _first_sample(self, when: float) -> None:
        self.started.emit(self._token, when)

    def _waiting(self, waiting: bool) -> None:
        self.waiting.emit(self._token, waiting)

    def _played_out_soon(self) -> None:
        # Called from inside the sink's read, where the sink can't be closed: a zero timer
        # runs `_played_out` once the read has returned.
        assert self._played_timer is not None
        self._played_timer.start()

    def _played_usecs(self) -> int:
        # A rebuilt sink counts from zero; this is only used to compare with the stream's end,
        # and a rebuild mid-stream at worst ends the stream through the source's fallback.
        return self._sink.processedUSecs() if self._sink is not None else 0

    @Slot()
    def _played_out(self) -> None:
        if self._sink is None:
            return
        token = self._token
        self._close()
        self.finished.emit(token, time.monotonic())

    def _fail(self, error: VoiceDeskError) -> None:
        token = self._token
        self._close()
        self.failed.emit(token, error)

    def _close(self) -> None:
        if self._watch is not None:
            self._watch.stop()
        if self._played_timer is not None:
            self._played_timer.stop()  # a played-out notice of this stream is moot now
        sink, self._sink = self._sink, None
        source, self._source = self._source, None
        if sink is not None:
            _discard(sink)  # before the source goes: the sink reads it until then
        if source is not None:
            source.close()
            source.deleteLater()
