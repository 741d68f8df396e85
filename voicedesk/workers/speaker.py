"""Speaker: the GUI's one handle on speaking (queue, stop, engine, volume, output device).

Lives on the GUI thread; every call returns at once. Utterances play one after another; each
gets an id from `speak`, and every signal names the id it is about.

Re-entrant: a receiver of `utterance_finished`, `utterance_failed` or `idle` may call `speak`
(or `stop`) from inside the signal; the queue moves on only if the receiver didn't start
something itself.

Long text plays in pieces (see `pieces`): while an utterance plays, a ~10 Hz timer reads the
player's played-position counter (one lock, no audio work) and reports `piece` when playback
crosses into the next piece, and `position` with the share played.
"""

from __future__ import annotations

import itertools
from collections import deque

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from voicedesk.audio.playback.player import Player
from voicedesk.cancel import CancelToken
from voicedesk.engines.base import SpeechEngine
from voicedesk.errors import EmptyTextError, QueueFullError, VoiceDeskError
from voicedesk.workers.latency import LatencyMarks
from voicedesk.workers.pieces import PieceStart, PieceTimeline, PlayPosition
from voicedesk.workers.speak import SpeakReports, SpeakWorker, Utterance
from voicedesk.workers.threads import TaskGroup

# What `progress` reports.
REQUESTING = "requesting"  # asked the engine, nothing heard yet
PLAYING = "playing"
BUFFERING = "buffering"  # the network is behind playback: waiting for more audio

# How often the played position is read while an utterance plays: enough for a progress bar
# and for "Part 2 of 3" to change within a tenth of a second of the audio doing so.
POSITION_INTERVAL_MS = 100
# Utterances waiting behind the one playing. Each is a paid request: 80 quick presses of Speak
# must not become 80 requests (the 81st press would be heard minutes later anyway).
MAX_QUEUED = 5


class Speaker(QObject):
    utterance_started = Signal(int)  # the first sample went to the audio device
    utterance_finished = Signal(int)  # the last sample was played
    utterance_failed = Signal(int, object)  # uid, VoiceDeskError (after what arrived played)
    progress = Signal(int, str)  # REQUESTING, PLAYING or BUFFERING
    latency = Signal(int, object)  # LatencyMarks, once the utterance has finished
    piece = Signal(int, int, int)  # uid, index (0-based), count: playback entered this piece
    position = Signal(int, float)  # uid, share of the utterance played (0.0-1.0), ~10 Hz
    idle = Signal()  # nothing is playing or queued any more

    def __init__(
        self, engine: SpeechEngine, device_id: bytes = b"", parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._engine = engine
        self._player = Player(device_id, self)
        self._player.started.connect(self._started)
        self._player.finished.connect(self._finished)
        self._player.waiting.connect(self._waiting)
        self._player.failed.connect(self._player_error)
        self._ids = itertools.count(1)
        self._queue: deque[Utterance] = deque()
        self._current: Utterance | None = None
        self._token = 0  # the player stream of the current utterance
        self._cancel: CancelToken | None = None
        self._marks = LatencyMarks()
        self._failure: VoiceDeskError | None = None  # reported once what arrived has played
        self._busy = False  # since the last `idle`
        # A sink error that came before the worker told us its stream's token (a race between
        # the audio and worker threads): token, error.
        self._early_error: tuple[int, VoiceDeskError] | None = None
        self._timeline = PieceTimeline()
        self._heard: PlayPosition | None = None  # the last position reported
        self._clock = QTimer(self)
        self._clock.setInterval(POSITION_INTERVAL_MS)
        self._clock.timeout.connect(self._tick)
        # Utterances run as one-shot tasks on the shared pool; they report through this
        # GUI-thread object (queued), and nothing Qt is made or deleted per utterance.
        self._tasks = TaskGroup("speaker")
        self._reports = SpeakReports(self)
        self._reports.opened.connect(self._opened)
        self._reports.piece_queued.connect(self._piece_queued)
        self._reports.queued_all.connect(self._queued_all)
        self._reports.streamed.connect(self._streamed)
        self._reports.failed.connect(self._failed)

    # --- the GUI's API ----------------------------------------------------------------------

    def speak(self, text: str, voice_id: str | None = None) -> int:
        """Queue `text`; its id. The same text and voice already waiting in the queue is not
        queued twice: that utterance's id comes back (`is_queued` tells). Raises
        EmptyTextError for blank text, QueueFullError past `MAX_QUEUED` waiting."""
        if not text.strip():
            raise EmptyTextError()
        for waiting in self._queue:
            if waiting.text == text and waiting.voice_id == voice_id:
                return waiting.uid
        if len(self._queue) >= MAX_QUEUED:
            raise QueueFullError()
        utterance = Utterance(next(self._ids), text, voice_id)
        self._queue.append(utterance)
        self._advance()
        return utterance.uid

    def stop(self) -> None:
        """Silence now, drop the queue, end the request (its API slot frees at once)."""
        self._queue.clear()
        self._end_current()
        self._advance()

    def set_engine(self, engine: SpeechEngine) -> None:
        """Use `engine` from the next utterance on (the current one finishes as it is)."""
        self._engine = engine

    def set_volume(self, volume: float) -> None:
        self._player.set_volume(volume)

    def set_output_device(self, device_id: bytes) -> None:
        """A QAudioDevice id (b"" follows the system default); a playing stream moves over."""
        self._player.set_device(device_id)

    def is_queued(self, uid: int) -> bool:
        """`uid` is waiting behind the current utterance (not yet requested)."""
        return any(waiting.uid == uid for waiting in self._queue)

    def is_busy(self) -> bool:
        return self._current is not None or bool(self._queue)

    @property
    def player(self) -> Player:
        return self._player

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel everything and wait for the worker (bounded; for closeEvent). Never
        terminates a thread."""
        self.stop()
        self._tasks.wait(timeout_ms)
        self._player.shutdown()

    # --- internals --------------------------------------------------------------------------

    def _advance(self) -> None:
        """Start the next utterance if none is under way; `idle` once all are done.

        Called last, after any signal: a receiver that called `speak` meanwhile has already
        started its utterance, and this then leaves it alone.
        """
        if self._current is not None:
            return
        if not self._queue:
            if self._busy:
                self._busy = False
                self.idle.emit()
            return
        self._busy = True
        utterance = self._current = self._queue.popleft()
        self._failure = None
        self._early_error = None
        self._marks = LatencyMarks()
        self._timeline = PieceTimeline()
        self._heard = None
        self._token = 0  # until the worker has opened its player stream
        self._cancel = CancelToken()
        worker = SpeakWorker(utterance, self._engine, self._player, self._cancel, self._reports)
        self.progress.emit(utterance.uid, REQUESTING)
        self._tasks.start(worker.run, priority=1)  # ahead of background jobs queued for a thread

    def _end_current(self) -> None:
        self._clock.stop()
        if self._cancel is not None:
            self._cancel.set()
            self._cancel = None
        if self._current is not None:
            self._player.stop()
            self._current = None

    def _done(self) -> int:
        """Forget the current utterance (its stream has ended by itself); its id."""
        assert self._current is not None
        uid = self._current.uid
        self._clock.stop()
        self._current = self._cancel = None
        return uid

    def _is_current(self, uid: int) -> bool:
        return self._current is not None and self._current.uid == uid

    @Slot(int, int)
    def _opened(self, uid: int, token: int) -> None:
        if self._is_current(uid):
            self._token = token
            early, self._early_error = self._early_error, None
            if early is not None and early[0] == token:
                self._player_error(*early)

    @Slot(int, object)
    def _piece_queued(self, uid: int, start: PieceStart) -> None:
        if self._is_current(uid):
            self._timeline.add(start)

    @Slot(int, int)
    def _queued_all(self, uid: int, total: int) -> None:
        if self._is_current(uid):
            self._timeline.end(total)

    @Slot(int, object)
    def _streamed(self, uid: int, marks: LatencyMarks) -> None:
        if self._is_current(uid):
            # The worker's marks, plus first_sample if the player already reported it.
            started = self._marks.first_sample
            self._marks = marks if started is None else marks.with_marks(first_sample=started)

    @Slot(int, object, bool)
    def _failed(self, uid: int, error: VoiceDeskError, played_some: bool) -> None:
        if not self._is_current(uid):
            return
        self._failure = error
        if not self._token:
            # It failed before it opened a player stream: no `finished` will come.
            self._done()
            self.utterance_failed.emit(uid, error)
            self._advance()
        # Otherwise what arrived plays out first; `_finished` reports the failure.

    @Slot(int, float)
    def _started(self, token: int, when: float) -> None:
        if token == self._token and self._current is not None:
            self._marks = self._marks.with_marks(first_sample=when)
            self.utterance_started.emit(self._current.uid)
            self.progress.emit(self._current.uid, PLAYING)
            self._tick()  # the first piece at once, not a tick later
            self._clock.start()

    @Slot(int, bool)
    def _waiting(self, token: int, waiting: bool) -> None:
        if token == self._token and self._current is not None:
            self.progress.emit(self._current.uid, BUFFERING if waiting else PLAYING)

    @Slot(int, float)
    def _finished(self, token: int, when: float) -> None:
        if token != self._token or self._current is None:
            return
        self._marks = self._marks.with_marks(last_played=when)
        uid = self._done()
        if self._failure is None:
            self.latency.emit(uid, self._marks)
            self.utterance_finished.emit(uid)
        else:
            self.utterance_failed.emit(uid, self._failure)
        self._advance()

    @Slot(int, object)
    def _player_error(self, token: int, error: VoiceDeskError) -> None:
        if self._current is None:
            return
        if not self._token:
            self._early_error = (token, error)  # `_opened` will tell whether it is ours
            return
        if token != self._token:
            return
        uid = self._current.uid
        # The output is broken: what is queued would fail the same way.
        self._queue.clear()
        self._end_current()
        self.utterance_failed.emit(uid, error)
        self._advance()

    @Slot()
    def _tick(self) -> None:
        if self._current is None or not self._token:
            return
        uid = self._current.uid
        now = self._timeline.at(self._player.played_bytes(self._token))
        last, self._heard = self._heard, now
        if now.index is not None and (last is None or last.index != now.index):
            self.piece.emit(uid, now.index, now.count)
        if now.share is not None and (last is None or last.share != now.share):
            self.position.emit(uid, now.share)
