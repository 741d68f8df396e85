"""Splitting text into sentence-aligned requests.

The first piece is short so the first audio arrives fast; later pieces are larger (fewer
requests, more context for the voice) but stay far below the model's 40,000-character limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FIRST_PIECE_CHARS = 250
PIECE_CHARS = 2_000

_SENTENCE_END = re.compile(r"(?<=[.!?…;:])[\"'”’)\]]*\s+|\n\s*\n")
_CLAUSE_END = re.compile(r"(?<=[,;:—–])\s+")


@dataclass(frozen=True, slots=True)
class Piece:
    """One request's worth of text, with its neighbours for natural joins (`previous_text`)."""

    text: str
    previous_text: str | None
    next_text: str | None


def normalise(text: str) -> str:
    """Collapse runs of blanks inside lines; keep paragraph breaks; strip the ends."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    return "\n".join(lines).strip()


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _cut(sentence: str, first: int, rest: int) -> list[str]:
    """Cut an over-long sentence at clause breaks, then spaces, then anywhere.

    The first part is at most `first` long, the others at most `rest`. A cut inside a word
    leaves a part of exactly its limit, so packing never glues it to a neighbour with a space.
    """
    if len(sentence) <= first:
        return [sentence]
    parts: list[str] = []
    limit = first
    for clause in _CLAUSE_END.split(sentence):
        while len(clause) > limit:
            cut = clause.rfind(" ", 0, limit + 1)
            if cut <= 0:
                cut = limit
            parts.append(clause[:cut].strip())
            clause = clause[cut:].strip()
            limit = rest
        if clause:
            parts.append(clause)
            limit = rest
    return parts


def _pack(sentences: list[str], first_limit: int, limit: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for sentence in sentences:
        budget = first_limit if not pieces else limit
        # A long opening sentence is cut to the first piece's size, so first audio stays fast.
        for part in _cut(sentence, budget if not current else limit, limit):
            if current and len(current) + 1 + len(part) > budget:
                pieces.append(current)
                current = part
                budget = limit
            else:
                current = f"{current} {part}" if current else part
    if current:
        pieces.append(current)
    return pieces


def split_text(
    text: str, first_limit: int = FIRST_PIECE_CHARS, limit: int = PIECE_CHARS
) -> list[Piece]:
    """Sentence-aligned pieces in order; an empty list for empty or whitespace-only text."""
    texts = _pack(_sentences(normalise(text)), first_limit, limit)
    return [
        Piece(
            text=t,
            previous_text=texts[i - 1][-limit:] if i > 0 else None,
            next_text=texts[i + 1][:limit] if i + 1 < len(texts) else None,
        )
        for i, t in enumerate(texts)
    ]
