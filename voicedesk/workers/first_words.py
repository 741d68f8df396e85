"""Prepares the offline voice's first words while the user pauses typing.

The offline voice needs ~60-130 ms of synthesis before its first sound, and the sound server
~50 ms more: more than the 150 ms a user perceives as "at once". Most text is typed (or pasted)
and then spoken, so the engine synthesises its first run ahead (`LocalEngine.prepare_first_words`,
in memory, one run): when typing pauses for `PAUSE_MS`, and at once after a paste or drop (many
characters in one change). A Speak of that text then starts playing as soon as the sink takes
it; one that comes while the preparation is under way waits for it instead of starting over.
A Speak before any of that costs what it did before: preparing only ever adds a head start.

One preparation at a time, through `Background` (off the GUI thread); a text that changes
meanwhile is prepared when that one ends. Engines without `prepare_first_words` (ElevenLabs,
whose first bytes are the server's) are left alone.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from voicedesk.cancel import CancelToken
from voicedesk.engines.base import SpeechEngine
from voicedesk.errors import VoiceDeskError
from voicedesk.workers.background import Background

# No typing for this long: the user is about to speak, or reading what they wrote. Shorter
# prepares more often for nothing (each costs ~100 ms of one core); longer misses a quick Speak.
PAUSE_MS = 250
# More characters than this in one change is a paste or a drop, not typing: prepared at once.
PASTE_CHARS = 1


class _Prepare:
    """The job `Background` runs: one `engine.prepare_first_words`."""

    def __init__(self, engine: SpeechEngine, text: str) -> None:
        self._engine = engine
        self._text = text

    def __call__(self, cancel: CancelToken) -> bool:
        return bool(self._engine.prepare_first_words(self._text, cancel))  # type: ignore[attr-defined]


class FirstWords(QObject):
    prepared = Signal(bool)  # each preparation's outcome (True: the first run is ready)

    def __init__(
        self, background: Background, text: Callable[[], str], parent: QObject | None = None
    ) -> None:
        """`text` reads the box: called when a pause is due, not on every key stroke."""
        super().__init__(parent)
        self._background = background
        self._text = text
        self._engine: SpeechEngine | None = None
        self._running = False
        self._again = False  # the text changed while a preparation ran
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._due)

    def set_engine(self, engine: SpeechEngine | None) -> None:
        has_it = engine is not None and hasattr(engine, "prepare_first_words")
        self._engine = engine if has_it else None
        if self._engine is None:
            self._timer.stop()
        else:
            self.changed()  # the text in the box is the new engine's to prepare

    @Slot()
    def changed(self) -> None:
        """The text changed: prepare it once the typing pauses."""
        if self._engine is not None:
            self._timer.start(PAUSE_MS)

    @Slot(int, int, int)
    def contents_changed(self, position: int, removed: int, added: int) -> None:
        """The box's document changed (`QTextDocument.contentsChange`): typing is prepared
        once it pauses, a paste or a drop at once."""
        if self._engine is not None:
            self._timer.start(0 if added > PASTE_CHARS else PAUSE_MS)

    @property
    def due_in_ms(self) -> int | None:
        """How long until the waiting preparation starts (None: none is waiting)."""
        return self._timer.remainingTime() if self._timer.isActive() else None

    @property
    def pending(self) -> bool:
        """A preparation is waiting for the pause or under way."""
        return self._timer.isActive() or self._running

    def stop(self) -> None:
        self._engine = None
        self._timer.stop()

    @Slot()
    def _due(self) -> None:
        if self._engine is None:
            return
        if self._running:
            self._again = True
            return
        text = self._text()
        if not text.strip():
            return
        self._running = True
        job = _Prepare(self._engine, text)
        self._background.run(job, self._done, self._failed, name="first-words")

    def _done(self, ok: object) -> None:
        self._running = False
        self.prepared.emit(bool(ok))
        if self._again:
            self._again = False
            self._due()

    def _failed(self, error: VoiceDeskError) -> None:
        self._done(False)  # Speak makes the first run itself, and says what is wrong then
