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
from voicedesk.engines.usage import ItemKind, ResponseFacts, erase_item, kept_items
from voicedesk.errors import VoiceDeskError


class Leftovers:
    """What the service kept of this command's requests, read off the engine's responses."""

    def __init__(self, engine: SpeechEngine) -> None:
        self._engine = engine
        self._lock = threading.Lock()  # responses are reported on the threads that made them
        self._kept: list[tuple[ItemKind, str]] = []

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
            self._kept += kept_items(facts, zero_retention=False)  # `follow` checked it

    def erase(self, out: TextIO = sys.stderr) -> int:
        """Deletes each item once; returns how many are left, and warns about them on `out`."""
        with self._lock:
            kept = list(self._kept)
        left, why = 0, ""
        for kind, item_id in kept:
            try:
                if not erase_item(self._engine, kind, item_id):
                    left, why = left + 1, "it was not in the history yet."
            except VoiceDeskError as error:
                left, why = left + 1, error.message
        if left:
            print(
                f"voicedesk: warning: {left} item(s) were not erased from ElevenLabs: {why}",
                file=out,
            )
        return left
