"""Relays each ElevenLabs response's account facts from the request's thread to the GUI thread.

The engine calls its `on_response` listener on whichever pool thread made the request. The
plan's maximum concurrency is applied there and then (`limits.set_plan_limit` is thread-safe),
so the very next request is already gated by it; everything else (credits, what to erase) is
re-emitted as `heard(Heard)`, a queued signal to GUI-thread slots.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from voicedesk import limits
from voicedesk.engines.base import SpeechEngine
from voicedesk.engines.usage import ResponseFacts


@dataclass(frozen=True, slots=True)
class Heard:
    """One response's facts and the engine (so the key) that made the request."""

    engine: SpeechEngine
    facts: ResponseFacts


class ResponseRelay(QObject):
    heard = Signal(object)  # Heard, emitted from pool threads

    def attach(self, engine: SpeechEngine) -> None:
        """Listen to `engine`'s responses (engines without account facts are left alone)."""
        if hasattr(engine, "on_response"):
            engine.on_response = _Tap(self, engine)


@dataclass(frozen=True, slots=True)
class _Tap:
    relay: ResponseRelay
    engine: SpeechEngine

    def __call__(self, facts: ResponseFacts) -> None:
        if facts.maximum_concurrent:  # absent or 0: the response did not say
            limits.set_plan_limit(facts.maximum_concurrent)
        self.relay.heard.emit(Heard(self.engine, facts))
