"""What each ElevenLabs response says about the account, read off its headers (no extra call).

The engine builds one `ResponseFacts` per response it already receives (speech, transcript,
and the error answers that carry the headers, such as a 429) and hands it to its
`on_response` listener, on whatever thread made the request. Plain Python: the GUI relays it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

ResponseKind = Literal["tts", "stt", "error"]


@dataclass(frozen=True, slots=True)
class ResponseFacts:
    """One response's account facts; None where the response did not say."""

    kind: ResponseKind
    request_id: str | None = None
    character_cost: int | None = None
    current_concurrent: int | None = None
    maximum_concurrent: int | None = None
    # What the service kept of this request, to erase after use (None: nothing kept, or
    # zero retention was asked for with `enable_logging=false`).
    history_item_id: str | None = None
    transcript_id: str | None = None


ResponseListener = Callable[[ResponseFacts], None]


def _int(value: str | None) -> int | None:
    try:
        number = int(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and number >= 0 else None


def _text(value: str | None, limit: int = 128) -> str | None:
    """A header value fit to keep and put in a URL path (ids are short tokens)."""
    value = (value or "").strip()
    if not value or len(value) > limit or not value.isprintable() or "/" in value:
        return None
    return value


def facts_from_headers(
    kind: ResponseKind,
    headers: Mapping[str, str] | None,
    *,
    transcript_id: str | None = None,
) -> ResponseFacts:
    """The facts in `headers` (any case). Malformed values count as absent, never an error."""
    h = {k.lower(): v for k, v in (headers or {}).items()}
    return ResponseFacts(
        kind=kind,
        request_id=_text(h.get("request-id")),
        character_cost=_int(h.get("character-cost")),
        current_concurrent=_int(h.get("current-concurrent-requests")),
        maximum_concurrent=_int(h.get("maximum-concurrent-requests")),
        history_item_id=_text(h.get("history-item-id")),
        transcript_id=_text(transcript_id),
    )


# --- what the service kept, and erasing it (the window's eraser and the commands share it) ---

# "request": a speech response without `history-item-id`: its item is found by `request-id`.
ItemKind = Literal["history", "request", "transcript"]


def kept_items(facts: ResponseFacts, zero_retention: bool) -> list[tuple[ItemKind, str]]:
    """What the service kept of the request `facts` answers, to erase after use."""
    kept: list[tuple[ItemKind, str]] = []
    if facts.history_item_id:
        kept.append(("history", facts.history_item_id))
    elif facts.kind == "tts" and facts.request_id and not zero_retention:  # else nothing kept
        kept.append(("request", facts.request_id))
    if facts.transcript_id:
        kept.append(("transcript", facts.transcript_id))
    return kept


def erase_item(
    engine: Any, kind: ItemKind, item_id: str, cancel: threading.Event | None = None
) -> bool:
    """Deletes one kept item with `engine`'s `delete_*` calls (each holds an API slot); False
    when a speech request's item is not in the history (yet). Raises VoiceDeskError."""
    if kind == "transcript":
        engine.delete_transcript(item_id, cancel=cancel)
        return True
    if kind == "request":
        found = engine.find_history_item(item_id, cancel=cancel)
        if found is None:
            return False
        item_id = found
    engine.delete_history_item(item_id, cancel=cancel)
    return True
