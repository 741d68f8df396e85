"""Live words for the window: opens a take's realtime session and relays its partials.

The session itself is plain Python (`voicedesk.engines.elevenlabs_realtime`): it runs on its
own threads, gets the audio from the recorder as it arrives, and calls back with partial
transcripts on its receiving thread. `LiveWords` turns those calls into a queued Qt signal
for the GUI thread. The final text comes through the `Transcriber` as always
(`Transcriber.transcribe_live`), which falls back to batch if the session failed.
"""

from __future__ import annotations

import logging
from typing import Protocol

from PySide6.QtCore import QObject, Signal

from voicedesk.cancel import CancelToken
from voicedesk.engines.base import SpeechEngine
from voicedesk.engines.elevenlabs_realtime import LiveTake, PartialCallback
from voicedesk.errors import VoiceDeskError

log = logging.getLogger(__name__)


class LiveCapable(Protocol):
    def open_live(
        self,
        language: str = "en",
        *,
        on_partial: PartialCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> LiveTake: ...


def supports_live(engine: SpeechEngine | None) -> bool:
    return engine is not None and callable(getattr(engine, "open_live", None))


class _Relay:
    """A take's partial callback: tags each partial with its take number (plain Python, called
    on the session's thread; the signal is queued to the GUI thread)."""

    def __init__(self, owner: LiveWords, number: int) -> None:
        self._owner = owner
        self._number = number

    def __call__(self, text: str) -> None:
        self._owner.partial.emit(self._number, text)


class LiveWords(QObject):
    """`open(engine, language)` at key down. Signal: `partial(take, text)`; `take` is the number
    `open` gave that take (`current`), so a late partial of an earlier take can be ignored."""

    partial = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.current = 0

    def open(self, engine: SpeechEngine | None, language: str = "en") -> LiveTake | None:
        """A live take, or None (the engine has no live words, or the endpoint can't be used:
        the take is then transcribed after release, as without live words)."""
        self.current += 1
        if not supports_live(engine):
            return None
        live: LiveCapable = engine  # type: ignore[assignment]
        try:
            return live.open_live(language, on_partial=_Relay(self, self.current))
        except VoiceDeskError as error:
            log.info("no live words for this take: %s", error.message)
            return None
