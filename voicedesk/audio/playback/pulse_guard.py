"""Keeping Qt's PulseAudio backend from aborting the process when the sound server goes away.

What Qt does (Qt Multimedia 6.9-6.11, `src/multimedia/pulseaudio/qpulseaudio_contextmanager.cpp`
and `qpulseaudiosink.cpp`): every `QAudioSink.start()` first asks the process-wide
`QPulseAudioContextManager` whether its context is good, which calls
`pa_context_get_state(m_context)`. When the server dies, the manager's state callback queues
`onContextFailed()`, which *releases* the context (`m_context` becomes null) and retries
`prepare()` once, three seconds later. If the server is not back by then,
`pa_context_connect()` fails, the context stays null for good, and the next `start()` calls
`pa_context_get_state(NULL)`: libpulse's `Assertion 'c' failed ... pa_context_get_state()`
aborts the whole process (the window, its history, the typed text). Between the release and
the retry the context is null too, so a Speak pressed within those three seconds aborts even
when the server comes straight back. The unchecked call is `getContextState()` in
https://github.com/qt/qtmultimedia/blob/dev/src/multimedia/pulseaudio/qpulseaudio_contextmanager.cpp
(no Qt bug report for it was found when this was written).

What we do instead:

- The manager that sinks use (`QPulseAudioContextManager::instance()`, created on the thread
  of the first `start()`) is created on the GUI thread, by starting a sink with an invalid
  format once (Qt checks the context, then refuses the format: no stream is opened).
- An application event filter sees the queued `onContextFailed()` call (a `MetaCall` event to
  an object of class `QPulseAudioContextManager`) and swallows it. The failed context is
  never released: it stays non-null in state FAILED, so `start()` reports a FatalError
  instead of aborting, and `lost` tells the player at once.
- Started with no server running, nothing asks Qt about devices (`qt_audio_allowed()`) until
  the probe first reaches one: Qt's first connect would fail, and that failure is never
  retried (no failure notice is queued for it), so the app would have no output until it
  restarted. Once the server answers, the guard creates Qt's manager, which connects.
- While the server is away, nothing opens a sink (`ready()` is False); a cheap probe (a
  connect to the server's socket) runs every `PROBE_INTERVAL_MS`. Once the server answers,
  the swallowed `onContextFailed()` is invoked for real: Qt releases the dead context and
  reconnects `RECONNECT_MS` later. Our own timer fires just after Qt's (same thread, later
  deadline, so after it), and sinks are allowed again unless Qt reported a failed connect in
  the meantime (the server went away again), in which case probing starts over.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from pathlib import Path

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QCoreApplication,
    QEvent,
    QIODevice,
    QMetaObject,
    QObject,
    Qt,
    QThread,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtMultimedia import QAudioFormat, QAudioSink, QMediaDevices

from voicedesk.audio.playback import qt_messages

log = logging.getLogger(__name__)

MANAGER_CLASS = "QPulseAudioContextManager"
# Qt retries 3000 ms after a release (`onContextFailed`); ours is a little later.
RECONNECT_MS = 3300
PROBE_INTERVAL_MS = 500
_PROBE_TIMEOUT_S = 0.2
# What Qt prints when a (re)connect fails: the context is then null (sync) or cycling (async).
_CONNECT_FAILED = (
    "PulseAudioService: pa_context_connect() failed",
    "PulseAudioService: Connection failure",
)


def uses_pulseaudio() -> bool:
    """Qt Multimedia plays through PulseAudio (or PipeWire's Pulse server) on Linux only."""
    backend = os.environ.get("QT_AUDIO_BACKEND", "")
    return sys.platform.startswith("linux") and backend in ("", "pulseaudio")


def server_sockets() -> list[Path]:
    """The unix sockets libpulse would try, in order (empty: none we can probe cheaply)."""
    server = os.environ.get("PULSE_SERVER")
    if server:
        paths = []
        for entry in server.split():
            entry = entry.split("}", 1)[-1]  # "{machine-id}unix:/path"
            if entry.startswith("unix:"):
                paths.append(Path(entry[5:]))
            elif entry.startswith("/"):
                paths.append(Path(entry))
            else:
                return []  # a network server: no cheap probe, trust Qt's own state
        return paths
    runtime = os.environ.get("PULSE_RUNTIME_PATH")
    if runtime:
        return [Path(runtime) / "native"]
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    return [Path(xdg) / "pulse" / "native"] if xdg else []


def server_reachable() -> bool:
    """True when a sound server accepts a connection (about 0.1 ms; never blocks long)."""
    paths = server_sockets()
    if not paths:
        return True
    for path in paths:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(_PROBE_TIMEOUT_S)
            try:
                probe.connect(str(path))
            except OSError:
                continue
            return True
    return False


def qt_audio_allowed() -> bool:
    """Whether Qt Multimedia's device list may be touched now (see `PulseGuard.primed`)."""
    guard = PulseGuard.current()
    return guard is None or guard.primed()


class PulseGuard(QObject):
    """One per process, on the GUI thread. `ready()` may be read from any thread."""

    lost = Signal()  # the sound server went away: a playing stream is gone
    back = Signal()  # sinks may be opened again

    _instance: PulseGuard | None = None

    def __init__(self, app: QCoreApplication) -> None:
        super().__init__(app)
        self._lock = threading.Lock()
        self._ready = False
        self._primed = False
        self._failed: list[QObject] = []  # managers whose failure we are holding back
        self._reviving = False  # guarded by _lock (read from the audio thread)
        self._connect_failed = False
        self._probe = QTimer(self)
        self._probe.setInterval(PROBE_INTERVAL_MS)
        self._probe.timeout.connect(self._check)
        self._revived = QTimer(self)
        self._revived.setSingleShot(True)
        self._revived.setInterval(RECONNECT_MS)
        self._revived.timeout.connect(self._after_revive)
        qt_messages.install()
        qt_messages.add_listener(self._qt_said)
        app.installEventFilter(self)
        self._check()

    # --- the API -------------------------------------------------------------------------

    @classmethod
    def install(cls) -> PulseGuard | None:
        """The guard, created on first call (on the GUI thread); None off Linux/PulseAudio."""
        app = QCoreApplication.instance()
        if app is None or not uses_pulseaudio():
            return None
        if cls._instance is None:
            if QThread.currentThread() is not app.thread():
                return None  # created by the first Player, which lives on the GUI thread
            cls._instance = PulseGuard(app)
        return cls._instance

    @classmethod
    def current(cls) -> PulseGuard | None:
        return cls._instance

    def ready(self) -> bool:
        """Whether a sink may be started now (False while the server is away or coming back)."""
        with self._lock:
            return self._ready

    def primed(self) -> bool:
        """Whether Qt Multimedia may be asked about devices at all: the server has been
        reached once. Asked before that (say, the window started with no server running),
        Qt's context manager fails to connect and never tries again: no output, ever, until
        the app restarts (`prepare()` in the file linked in the module doc)."""
        with self._lock:
            return self._primed

    def reviving(self) -> bool:
        """The server is back and Qt is reconnecting: `back` (or `lost`) follows within
        `RECONNECT_MS`, so a stream may wait for it instead of failing."""
        with self._lock:
            return self._reviving

    # --- internals -----------------------------------------------------------------------

    def _set_ready(self, ready: bool) -> None:
        with self._lock:
            changed, self._ready = self._ready != ready, ready
        if changed and ready:
            self._probe.stop()
            self.back.emit()
        elif changed:
            self._probe.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.MetaCall:
            return False
        try:
            name = watched.metaObject().className()
        except RuntimeError:
            return False
        if name != MANAGER_CLASS:
            return False
        # Its queued `onContextFailed()`: hold it back, so the context is never released.
        if not any(watched is held for held in self._failed):
            self._failed.append(watched)
        log.info("the sound server went away")
        was_ready = self.ready()
        self._set_ready(False)
        self._probe.start()
        if was_ready:
            self.lost.emit()
        return True

    def _qt_said(self, text: str) -> None:
        if text.startswith(_CONNECT_FAILED):
            self._connect_failed = True

    @Slot()
    def _check(self) -> None:
        if self._reviving:
            return
        if not server_reachable():
            self._set_ready(False)
            # Also at start-up with no server (never ready, so `_set_ready` changed nothing
            # and started no probe): keep looking, or the window would never find one.
            self._probe.start()
            return
        if not self._primed:
            self._prime()
        if self._failed:
            # The server is back: let Qt release the dead context and reconnect.
            with self._lock:
                self._reviving = True
            self._connect_failed = False
            held, self._failed = self._failed, []
            for manager in held:
                QMetaObject.invokeMethod(
                    manager, "onContextFailed", Qt.ConnectionType.DirectConnection
                )
            self._revived.start()
            return
        self._set_ready(self._primed)

    @Slot()
    def _after_revive(self) -> None:
        with self._lock:
            self._reviving = False
        if self._connect_failed:
            # Gone again before Qt reconnected: its context may now be null for good, which
            # only a `prepare()` fixes; that is what a held-back failure leads to, so treat it
            # as one more and keep probing. (Qt stays quiet about which manager failed, so
            # every manager is asked; `prepare()` on a null context is what Qt itself does.)
            log.warning("the sound server went away again while reconnecting")
            self._probe.start()
            self.lost.emit()  # a stream that waited for the reconnect gives up
            return
        log.info("the sound server is back")
        self._set_ready(True)

    def _prime(self) -> None:
        """Create Qt's sink context manager here, on the GUI thread (see the module doc)."""
        QMediaDevices.audioOutputs()  # the device list's own manager, here too
        sink = QAudioSink(QMediaDevices.defaultAudioOutput(), QAudioFormat())
        buffer = QBuffer(QByteArray(), sink)
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        sink.start(buffer)  # checks the context, then refuses the invalid format
        sink.stop()  # Python owns it (no parent): freed here, on this thread, when it goes
        with self._lock:
            self._primed = True
