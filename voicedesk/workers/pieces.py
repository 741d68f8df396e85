"""Which piece of a long utterance is playing, from where each piece starts in the PCM stream.

Long text is spoken in sentence-aligned pieces, downloaded (and decoded) several times faster
than they play, so "the piece being downloaded" is far ahead of what the user hears. The
worker records the PCM offset at which each piece begins; the played position (bytes handed to
the audio device) then says which piece is audible. Plain Python, GUI thread only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PieceStart:
    """Piece `index` (0-based) of `count` begins `offset` bytes into the utterance's PCM."""

    index: int
    count: int
    offset: int


@dataclass(frozen=True, slots=True)
class PlayPosition:
    """Where playback is: the piece heard (None if the engine names no pieces) and the share
    of the utterance played, 0.0-1.0 (None while it can't be told)."""

    index: int | None
    count: int
    share: float | None


class PieceTimeline:
    """The piece starts of one utterance, as the worker queued them, and where it ends."""

    def __init__(self) -> None:
        self._starts: list[PieceStart] = []
        self._total: int | None = None  # bytes in all, once the stream has ended

    def add(self, start: PieceStart) -> None:
        self._starts.append(start)

    def end(self, total: int) -> None:
        self._total = total

    def at(self, played: int) -> PlayPosition:
        """The position once `played` bytes have been handed to the device."""
        total = self._total
        reached = [
            s
            for s in self._starts
            # A piece that brought no audio at all (a failure at the very end) is never heard.
            if s.offset <= played and (total is None or s.offset < total or s.index == 0)
        ]
        if not reached:
            share = min(1.0, played / total) if total else None
            return PlayPosition(None, 0, share)
        piece = reached[-1]
        later = [s.offset for s in self._starts if s.index > piece.index]
        end = later[0] if later else total
        within = 0.0
        if end is not None and end > piece.offset:
            within = min(1.0, (played - piece.offset) / (end - piece.offset))
        # Each piece counts the same: the first is kept short for a fast start, so the bar
        # moves quicker through it, but it never goes backwards.
        return PlayPosition(piece.index, piece.count, (piece.index + within) / piece.count)
