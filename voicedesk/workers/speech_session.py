"""What the window says about speaking: which utterance plays, its text, its part and share,
what is queued after it, and the offline fallback when ElevenLabs fails.

Widget-free. The `Speaker` plays; this keeps the books for the window (the texts of the
utterances asked for, the voice previews, the fallback utterances) and turns the speaker's
signals, each naming an utterance id, into what the speak panel shows: `now_playing_changed`
for the utterance shown (None: nothing plays), `part_changed` and `share_changed` for it.
Signals of an utterance the user stopped are dropped here (the books no longer hold it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from voicedesk.config import Settings
from voicedesk.errors import EmptyTextError, TextTooLongError, VoiceDeskError
from voicedesk.text import check_length
from voicedesk.workers.app_settings import AppSettings
from voicedesk.workers.engine_holder import EngineHolder
from voicedesk.workers.latency import LatencyMarks
from voicedesk.workers.speaker import PLAYING, REQUESTING
from voicedesk.workers.spend import spend_question

if TYPE_CHECKING:  # Protocols only: nothing of the UI is loaded here
    from voicedesk.ui.ports import SpeakerPort

PREVIEW_LABEL = "Voice preview"


@dataclass(frozen=True, slots=True)
class NowPlaying:
    """The utterance the panel shows."""

    uid: int
    text: str
    state: str  # speaker.REQUESTING, PLAYING or BUFFERING
    queued: int  # utterances queued after it
    new: bool  # another utterance than the one shown before (the panel starts afresh)


class SpeechSession(QObject):
    """`speak(text, voice_id)`, `preview(voice_id, text)`, `stop()`.

    Signals: `now_playing_changed(NowPlaying | None)`, `part_changed(index, count)`,
    `share_changed(share)`, `latency_measured(seconds, breakdown)`, `queued(text)` (accepted
    for speaking), `merged()` (the same text was already waiting: not queued twice),
    `played(uid, text)` (the user's utterance is heard from now on: history keeps it),
    `cut(uid)` (Stop cut it while it played), `stopped()` (Stop ended something that played
    or waited), `confirmation_needed(text, question)` (a costly text: sent only once
    confirmed), `online_failed(error, text)` (ElevenLabs failed it: the text can be spoken
    offline), `failed(error, gentle)` (`gentle`: a slip, such as nothing to speak),
    `noted(text)` (a line that is not an error: the fallback's).
    """

    now_playing_changed = Signal(object)
    part_changed = Signal(int, int)
    share_changed = Signal(float)
    latency_measured = Signal(float, str)
    queued = Signal(str)
    merged = Signal()
    played = Signal(int, str)
    cut = Signal(int)
    stopped = Signal()
    confirmation_needed = Signal(str, str)
    online_failed = Signal(object, str)
    failed = Signal(object, bool)
    noted = Signal(str)

    def __init__(
        self,
        speaker: SpeakerPort,
        engines: EngineHolder,
        app: AppSettings,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._speaker = speaker
        self._engines = engines
        self._app = app
        self._utterances: dict[int, str] = {}  # asked for and not ended: id → text
        self._fallback_ids: set[int] = set()  # spoken by the offline engine after a failure
        self._previews: set[int] = set()
        self._played: set[int] = set()  # the user's utterances heard and not ended yet
        self._shown: tuple[int, str] | None = None  # the utterance the panel shows, its state
        speaker.utterance_started.connect(self._started)
        speaker.utterance_finished.connect(self._finished)
        speaker.utterance_failed.connect(self._failed)
        speaker.progress.connect(self._progress)
        speaker.latency.connect(self._latency)
        speaker.piece.connect(self._piece)
        speaker.position.connect(self._position)
        speaker.set_volume(app.settings.volume)
        app.changed.connect(self._settings_changed)

    @property
    def speaking(self) -> bool:
        """Utterances asked for are playing or queued (voice previews aside)."""
        return bool(self._utterances)

    def speak(self, text: str, voice_id: str | None, confirmed: bool = False) -> int | None:
        """Speak `text` (queued behind what is playing); its id, or None (`failed` says why,
        or `confirmation_needed` asks first: a costly text is shown against the credits left
        unless `confirmed`)."""
        if not text.strip():
            self.failed.emit(EmptyTextError(), True)
            return None
        try:
            check_length(text)  # before any work, and before the history keeps a copy
        except TextTooLongError as error:
            self.failed.emit(error, False)
            return None
        engine = self._engines.engine
        paid = engine is not None and engine.name == "elevenlabs"
        question = spend_question(len(text), self._engines.budget.account.quota) if paid else None
        if question and not confirmed:
            self.confirmation_needed.emit(text, question)
            return None
        try:
            uid = self._speaker.speak(text, voice_id)
        except VoiceDeskError as error:  # the queue is full
            self.failed.emit(error, True)
            return None
        if uid in self._utterances:
            self.merged.emit()
            return uid
        self._utterances[uid] = text
        self.queued.emit(text)
        # The speaker said "requesting" inside speak(), before we knew the id: show it now,
        # or refresh the queue count of what plays.
        self._progress(*(self._shown or (uid, REQUESTING)))
        return uid

    @Slot(str, str)
    def preview(self, voice_id: str, text: str) -> None:
        try:
            uid = self._speaker.speak(text, voice_id)
        except VoiceDeskError as error:  # the queue is full
            self.failed.emit(error, True)
            return
        self._previews.add(uid)
        self._progress(*(self._shown or (uid, REQUESTING)))

    @Slot()
    def stop(self) -> None:
        """Stop what plays and drop the queue (late signals for them are then ignored)."""
        for uid in sorted(self._played):
            self.cut.emit(uid)  # heard in part: the history says it was cut
        self._played.clear()
        busy = bool(self._utterances or self._previews)
        self._speaker.stop()
        self._utterances.clear()
        self._previews.clear()
        self._idle()
        if busy:
            self.stopped.emit()

    # -- the speaker's signals ------------------------------------------------------------

    def _playing_text(self, uid: int) -> str | None:
        if uid in self._previews:
            return PREVIEW_LABEL
        return self._utterances.get(uid)  # None: stopped before it began

    @Slot(int)
    def _started(self, uid: int) -> None:
        # The history records what was heard, when it is heard: not what was only queued.
        if (text := self._utterances.get(uid)) is not None and uid not in self._previews:
            self._played.add(uid)
            self.played.emit(uid, text)
        self._progress(uid, PLAYING)

    @Slot(int, str)
    def _progress(self, uid: int, state: str) -> None:
        if (text := self._playing_text(uid)) is not None:
            new = self._shown is None or self._shown[0] != uid
            self._shown = (uid, state)
            queued = sum(1 for other in self._utterances if other > uid)
            self.now_playing_changed.emit(NowPlaying(uid, text, state, queued, new))

    @Slot(int, int, int)
    def _piece(self, uid: int, index: int, count: int) -> None:
        if self._shown is not None and self._shown[0] == uid:
            self.part_changed.emit(index, count)

    @Slot(int, float)
    def _position(self, uid: int, share: float) -> None:
        if self._shown is not None and self._shown[0] == uid:
            self.share_changed.emit(share)

    @Slot(int, object)
    def _latency(self, uid: int, marks: LatencyMarks) -> None:
        if marks.request_sent is not None and marks.first_sample is not None:
            self.latency_measured.emit(marks.first_sample - marks.request_sent, marks.breakdown())

    def _idle(self) -> None:
        self._shown = None
        self.now_playing_changed.emit(None)

    @Slot(int)
    def _finished(self, uid: int) -> None:
        self._played.discard(uid)
        self._previews.discard(uid)
        self._utterances.pop(uid, None)
        self._end_fallback(uid)
        if not self._utterances:
            self._idle()

    @Slot(int, object)
    def _failed(self, uid: int, error: VoiceDeskError) -> None:
        self._played.discard(uid)
        was_preview = uid in self._previews
        self._previews.discard(uid)
        if not (was_preview or uid in self._utterances or uid in self._fallback_ids):
            return  # stopped by the user: no error to show
        text = self._utterances.pop(uid, "")
        if not self._utterances:
            self._idle()
        if self._end_fallback(uid) or not text:
            self.failed.emit(error, False)
            return
        engine = self._engines.engine
        fallback = self._app.settings.offline_fallback
        if fallback and engine is not None and engine.name == "elevenlabs":
            self._speak_offline(text, error)
            return
        if engine is not None and engine.name == "elevenlabs":
            self.online_failed.emit(error, text)  # one click to hear it offline
            return
        self.failed.emit(error, False)

    # -- the offline fallback ---------------------------------------------------------------

    @Slot(str)
    def speak_offline(self, text: str) -> None:
        """`text` with the offline voice, this once (the user asked for it)."""
        self._speak_offline(text, None)

    def _speak_offline(self, text: str, why: VoiceDeskError | None) -> None:
        # Straight from inside the speaker's failure signal: the Speaker is re-entrant.
        self._speaker.set_engine(self._engines.offline())
        try:
            uid = self._speaker.speak(text, None)
        except VoiceDeskError as error:  # the queue is full
            engine = self._engines.engine
            if not self._fallback_ids and engine is not None:
                self._speaker.set_engine(engine)
            self.failed.emit(error, True)
            return
        self._utterances[uid] = text
        self._fallback_ids.add(uid)
        said = why.message if why is not None else ""
        self.noted.emit(f"{said} Speaking with the offline voice instead.".strip())

    def _end_fallback(self, uid: int) -> bool:
        if uid not in self._fallback_ids:
            return False
        self._fallback_ids.discard(uid)
        engine = self._engines.engine
        if not self._fallback_ids and engine is not None:
            self._speaker.set_engine(engine)
        return True

    @Slot(object, object)
    def _settings_changed(self, old: Settings, new: Settings) -> None:
        if old.output_device != new.output_device:
            self._speaker.set_output_device(new.output_device.encode())
        if old.volume != new.volume:
            self._speaker.set_volume(new.volume)
