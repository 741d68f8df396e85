"""How text becomes the offline voice's synthesis runs: phoneme strings Piper turns into audio
in one call each, and which of their edges are joins inside a sentence. Plain Python.

Piper synthesises a run of phonemes in one ONNX call whose memory grows with the speech it makes
(~20 MB a second here: 400 phonemes peaked at 540 MB) and whose time grows with its length. Text
units (`text.LOCAL_UNIT_CHARS`) keep ordinary text within these; a unit that phonemizes to more
(a digit string, symbols read by their names: "★" is "symbol two six zero five") is cut here too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from voicedesk.engines.base import PieceCallback
from voicedesk.errors import Cancelled
from voicedesk.text import LOCAL_UNIT_CHARS, Unit, iter_units

# Phonemes per run: the first, the second, then every later one. The first sets how soon the
# first sound comes: Piper takes ~55 ms for any run on this 2-core machine plus ~2.5 ms a
# phoneme, and the sound server adds ~50 ms, so 12 phonemes (two or three words, ~0.8 s of
# speech) keep Speak → first sound near 150 ms; 40 measured 165-280 ms through the window. Each
# later run is synthesised while the ones before it play (30 phonemes take ~130 ms against
# ~0.8 s of sound). 100 phonemes is ~5 s of speech: with 160 the peak of `say` was bimodal run to
# run (onnxruntime's arena grows by doubling): 386 or 518 MB in-process for the same text, and
# 611 MB once on a CI machine, over the 600 MB bound; 100 measured 280-375 MB.
RUN_PHONEMES = (12, 30, 100)
_CLAUSE_BREAKS = frozenset(",;:")

Phonemize = Callable[[str], list[list[str]]]


@dataclass(frozen=True, slots=True)
class Run:
    """One synthesis run and how its edges are cut (see `local_audio.shape_run`)."""

    phonemes: tuple[str, ...]
    trim_head: bool  # the first run, or one that starts at a join: Piper's lead-in goes
    trim_tail: bool  # a word join follows inside the sentence: Piper's trailing silence goes


def check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled()


def plan_runs(
    pieces: list[Unit],
    phonemize: Phonemize,
    known: Mapping[str, object],
    cancel: threading.Event | None = None,
    on_piece: PieceCallback | None = None,
) -> Iterator[Run]:
    """The runs for `pieces`, lazily: each piece is cut into units only when its turn comes, and
    phonemized unit by unit, so the work before the first run does not grow with the text.
    `known` is the voice's phoneme map: what it has no sound for is skipped."""
    runs = 0  # runs so far: the first ones are kept short
    joined = False  # the run before ended mid-sentence: this one starts at a join
    for index, piece in enumerate(pieces):
        check_cancel(cancel)
        if on_piece is not None:
            on_piece(index, len(pieces))
        limits = LOCAL_UNIT_CHARS if index == 0 else LOCAL_UNIT_CHARS[-1:]
        for unit, last_unit in _last_flagged(iter_units(piece.text, limits)):
            continues = unit.continues or (last_unit and piece.continues)
            # Piper reads "[[ ... ]]" as raw phonemes; typed text never means that.
            sentences = phonemize(unit.text.replace("[[", "[ ["))
            sentences = [[p for p in s if p in known] for s in sentences]
            sentences = [s for s in sentences if s]
            for number, phonemes in enumerate(sentences):
                ends_mid_sentence = continues and number == len(sentences) - 1
                while phonemes:
                    check_cancel(cancel)
                    run, phonemes = split_run(phonemes, run_limit(runs))
                    at_join = bool(phonemes) or ends_mid_sentence
                    # After a clause mark Piper's trailing silence is the comma pause it would
                    # make inside a whole sentence (~300 ms either way): kept.
                    yield Run(
                        tuple(run),
                        trim_head=joined or runs == 0,
                        trim_tail=at_join and not _ends_clause(run),
                    )
                    runs += 1
                    joined = at_join


def run_limit(index: int) -> int:
    return RUN_PHONEMES[min(index, len(RUN_PHONEMES) - 1)]


def split_run(phonemes: list[str], limit: int) -> tuple[list[str], list[str]]:
    """The first at most `limit` phonemes (cut after a clause mark, else at a word gap, else
    anywhere) and the rest. A clause mark wins wherever it is: its pause hides the join, and a
    short run there only brings the first sound sooner."""
    if len(phonemes) <= limit:
        return phonemes, []
    for i in range(limit - 1, 0, -1):
        if phonemes[i] in _CLAUSE_BREAKS:
            return phonemes[: i + 1], _lstrip_space(phonemes[i + 1 :])
    for i in range(limit, limit // 3, -1):
        if phonemes[i] == " ":
            return phonemes[:i], _lstrip_space(phonemes[i + 1 :])
    return phonemes[:limit], phonemes[limit:]


def _ends_clause(phonemes: list[str]) -> bool:
    """Whether a run ends at a clause mark (espeak puts a space after one)."""
    end = len(phonemes)
    while end and phonemes[end - 1] == " ":
        end -= 1
    return bool(end) and phonemes[end - 1] in _CLAUSE_BREAKS


def _lstrip_space(phonemes: list[str]) -> list[str]:
    start = 0
    while start < len(phonemes) and phonemes[start] == " ":
        start += 1
    return phonemes[start:]


def _last_flagged(items: Iterator[Unit]) -> Iterator[tuple[Unit, bool]]:
    """Each item with whether it is the last one (one item of lookahead)."""
    previous: Unit | None = None
    for item in items:
        if previous is not None:
            yield previous, False
        previous = item
    if previous is not None:
        yield previous, True
