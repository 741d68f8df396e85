"""Erase after use on the command line: what one `say` or `listen` left on ElevenLabs is deleted
before the command exits.

The window's `workers/eraser.py` retries failed deletions for the rest of its session; a command
has no later, so it tries each once and, where one fails, says so in one warning line (the
command's own result stands: the words were spoken or printed). Nothing here is Qt.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from voicedesk.engines.base import SpeechEngine
from voicedesk.engines.usage import ResponseFacts
from voicedesk.errors import VoiceDeskError


class Leftovers:
    """What the service kept of this command's requests, read off the engine's responses."""

    def __init__(self, engine: SpeechEngine) -> None:
        self._engine = engine
        self._lock = threading.Lock()  # responses are reported on the threads that made them
        self._history: list[str] = []
        self._requests: list[str] = []  # speech without `history-item-id`: found by request id
        self._transcripts: list[str] = []

    @classmethod
    def follow(cls, engine: SpeechEngine) -> Leftovers | None:
        """Listens to `engine`'s responses when erase after use is on for it, else None."""
        wanted = getattr(engine, "erase_after_use", False)
        if not wanted or getattr(engine, "zero_retention", False):  # offline, or nothing kept
            return None
        leftovers = cls(engine)
        engine.on_response = leftovers.add  # type: ignore[attr-defined]
        return leftovers

    def add(self, facts: ResponseFacts) -> None:
        with self._lock:
            if facts.history_item_id:
                self._history.append(facts.history_item_id)
            elif facts.kind == "tts" and facts.request_id:
                self._requests.append(facts.request_id)
            if facts.transcript_id:
                self._transcripts.append(facts.transcript_id)

    def erase(self, out: TextIO = sys.stderr) -> int:
        """Deletes each item once; returns how many are left, and warns about them on `out`."""
        engine = self._engine
        with self._lock:
            history, requests = list(self._history), list(self._requests)
            transcripts = list(self._transcripts)
        left, why = 0, ""
        for request_id in requests:
            try:
                found = engine.find_history_item(request_id)  # type: ignore[attr-defined]
            except VoiceDeskError as error:
                left, why = left + 1, error.message
                continue
            if found is None:
                left, why = left + 1, "it was not in the history yet."
            else:
                history.append(found)
        deletions = [(engine.delete_history_item, i) for i in history]  # type: ignore[attr-defined]
        deletions += [(engine.delete_transcript, i) for i in transcripts]  # type: ignore[attr-defined]
        for delete, item_id in deletions:
            try:
                delete(item_id)
            except VoiceDeskError as error:
                left, why = left + 1, error.message
        if left:
            print(
                f"voicedesk: warning: {left} item(s) were not erased from ElevenLabs: {why}",
                file=out,
            )
        return left
