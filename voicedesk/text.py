"""Text for speech: the size limit, cleaning, and splitting into units of bounded size.

One splitter serves both engines. It cuts at sentence ends, then clause breaks, then spaces
(preferring a phrase boundary), and cuts a run with no spaces at all wherever it must, so every
unit is at most its limit long whatever the text looks like: no punctuation, one enormous word,
emoji, mixed scripts, control characters, only symbols. The first unit is short so the first
audio comes fast; later units are larger.

- ElevenLabs (`split_text`): a 250-character first request, then 2,000-character ones (fewer
  requests, more context for the voice), far below the model's 40,000-character limit.
- The offline voice (`iter_units` with `LOCAL_UNIT_CHARS`): Piper's memory and time grow with
  the length of what it synthesises in one run (about 20 MB per second of speech here), so its
  units are small, and its first one is a few words.

Splitting is lazy and linear in the text's length: the first unit is ready before the rest of the
text has been looked at.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from voicedesk.errors import TextTooLongError

# The largest text accepted, in characters (code points). A long novel is about 1,000,000
# characters (~180,000 words): 18 hours of speech, far more than anyone listens to in one go,
# and still small to hold (at most 4 MB as a Python string, a few copies while it is split).
# Memory while speaking does not grow with the length (units are bounded and synthesised one at
# a time), so the limit is about what a user could want, not about what fits. Over it, speaking
# is refused before any work, with the size and the limit in the message.
MAX_TEXT_CHARS = 1_000_000

FIRST_PIECE_CHARS = 250
PIECE_CHARS = 2_000

# The offline voice's unit sizes: the first, the second, then every later one. The first is a
# few words, phonemized in one espeak call before the first sound (and then cut into runs of
# at most 12 phonemes: `engines.local_runs`); the second is made while the first plays, the
# rest while everything before them plays.
LOCAL_UNIT_CHARS = (24, 100, 160)
# The offline voice's pieces (what "Part 2 of 5" counts): blocks of about half a minute of speech,
# counted up front by `blocks`, cut into units only when their turn comes.
LOCAL_PIECE_CHARS = 500

# A sentence ends after a stop (and any closing quotes or brackets) and a blank, or at a line
# break followed by more blanks (a paragraph). One character class first: the regex engine then
# skips ahead fast (a lookbehind at every position made it ~6x slower on a megabyte).
_SENTENCE_END = re.compile(r"[.!?…;:。！？\n][\"'”’)\]]*\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:—–、，])\s+")
# Words a phrase usually starts with: a cut before one sounds like a natural pause.
# fmt: off
_PHRASE_WORDS = frozenset({
    "and", "but", "or", "nor", "so", "yet", "because", "although", "though", "that", "which",
    "who", "whom", "whose", "when", "where", "while", "if", "unless", "until", "since", "as",
    "than", "to", "of", "in", "on", "at", "by", "for", "from", "with", "without", "into", "over",
    "under", "about", "after", "before", "through", "during", "between", "against",
})
# fmt: on
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")

# Control characters become spaces (a NUL even crashes espeak-ng's C API); line and page breaks
# become line breaks; invisible format characters that voices read out by their code point
# (bidi overrides, zero-width spaces, the BOM) go. Zero-width joiners stay: emoji need them.
_CLEAN = {c: " " for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]}
_CLEAN.update({ord("\n"): "\n", 0x0B: "\n", 0x0C: "\n", 0x85: "\n", 0x2028: "\n", 0x2029: "\n\n"})
_CLEAN.update(dict.fromkeys([0x200B, 0x200E, 0x200F, 0xFEFF, *range(0x202A, 0x202F)], ""))
_CLEAN.update(dict.fromkeys([*range(0x2060, 0x2065), *range(0x2066, 0x2070)], ""))


@dataclass(frozen=True, slots=True)
class Unit:
    """One stretch of text to synthesise in one go.

    `continues`: the sentence goes on in the next unit (this one was cut mid-sentence), so the
    join must sound like no join at all. `glued`: the cut was inside a word (a run with no
    spaces), so the next unit follows without a space.
    """

    text: str
    continues: bool = False
    glued: bool = False


@dataclass(frozen=True, slots=True)
class Piece:
    """One request's worth of text, with its neighbours for natural joins (`previous_text`)."""

    text: str
    previous_text: str | None
    next_text: str | None


def check_length(text: str) -> None:
    """Raise `TextTooLongError` (with the size and the limit) for text over `MAX_TEXT_CHARS`."""
    if len(text) > MAX_TEXT_CHARS:
        raise TextTooLongError(size=len(text), limit=MAX_TEXT_CHARS)


def clean(text: str) -> str:
    """Text a voice can read: no control characters, no lone surrogates, no terminal escapes.

    Lone surrogates come from undecodable bytes (`surrogateescape` in argv): they become U+FFFD,
    which no encoder chokes on and no voice pronounces.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x1b" in text:
        text = _ANSI_ESCAPE.sub(" ", text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # rare: only then pay for the regex
        text = _SURROGATE.sub("\ufffd", text)
    return text.translate(_CLEAN)


def normalise(text: str) -> str:
    """Collapse runs of blanks inside lines; keep paragraph breaks; strip the ends."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    return "\n".join(lines).strip()


def _sentences(text: str) -> Iterator[str]:
    """Sentences (and paragraphs without a stop), lazily, blanks collapsed."""
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if sentence := normalise(text[start : match.end()]):
            yield sentence
        start = match.end()
    if sentence := normalise(text[start:]):
        yield sentence


def _safe_cut(text: str, cut: int, start: int) -> int:
    """Move a cut inside a word back off combining marks and joiners (keep a glyph whole)."""
    at = cut
    while at > start + 1 and (
        unicodedata.combining(text[at]) or text[at] in "\u200d\u200c\ufe0e\ufe0f"
    ):
        at -= 1
    return at if at > start else cut


def _last_match(pattern: re.Pattern[str], text: str, start: int, end: int) -> re.Match[str] | None:
    last: re.Match[str] | None = None
    for last in pattern.finditer(text, start, end):  # noqa: B007
        pass
    return last


def _last_blank(text: str, start: int, end: int) -> int:
    return max(text.rfind(" ", start, end), text.rfind("\n", start, end))


def _cut_point(sentence: str, start: int, limit: int) -> tuple[int, int, bool]:
    """Where to cut `sentence[start:]`, which is longer than `limit`: (end of this part, start
    of the next, glued). A clause break if there is one not too near the start, else a space
    before a phrase, else the last space, else anywhere (a run with no spaces)."""
    end = start + limit
    window_end = min(len(sentence), end + 1)  # a blank just past the limit is a fine cut too
    best = _last_match(_CLAUSE_END, sentence, start, window_end)
    if best is not None and best.start() - start >= limit // 4:
        return best.start(), best.end(), False
    space = _last_blank(sentence, start, window_end)
    floor = start + limit * 3 // 5
    at = space
    while at > floor:  # a space before a phrase word, not too near the start
        word_end, word_cap = at + 1, min(len(sentence), at + 16)
        while word_end < word_cap and sentence[word_end].isalpha():
            word_end += 1
        if sentence[at + 1 : word_end].lower() in _PHRASE_WORDS:
            space = at
            break
        at = _last_blank(sentence, floor, at)
    while space > start and sentence[space - 1] in " \n":
        space -= 1
    if space > start:
        after = space + 1
        while after < len(sentence) and sentence[after] in " \n":
            after += 1
        return space, after, False
    cut = _safe_cut(sentence, end, start)
    return cut, cut, True


def iter_units(text: str, limits: Sequence[int]) -> Iterator[Unit]:
    """`text` in units of at most `limits[i]` characters for the i-th (the last limit repeats).

    Whole sentences are packed into a unit while they fit (joined by a space); a sentence longer
    than the unit is cut (`_cut_point`). Lazy: each unit costs work in proportion to its size.
    Raises `TextTooLongError` at the call (not at the first `next`) for text over
    `MAX_TEXT_CHARS`.
    """
    check_length(text)
    if not limits or min(limits) < 1:
        raise ValueError("unit limits must be positive")
    return _units(text, limits)


def _units(text: str, limits: Sequence[int]) -> Iterator[Unit]:
    index = 0
    current = ""

    def budget() -> int:
        return limits[min(index, len(limits) - 1)]

    for sentence in _sentences(clean(text)):
        pos = 0
        while pos < len(sentence):
            rest = len(sentence) - pos
            if current:
                if len(current) + 1 + rest <= budget():
                    current = f"{current} {sentence[pos:]}"
                    break
                yield Unit(current)
                index += 1
                current = ""
            if rest <= budget():
                current = sentence[pos:]
                break
            end, after, glued = _cut_point(sentence, pos, budget())
            yield Unit(sentence[pos:end], continues=True, glued=glued)
            index += 1
            pos = after
    if current:
        yield Unit(current)


def blocks(text: str, size: int = PIECE_CHARS) -> list[Unit]:
    """`text` cleaned and cut into blocks of at most `size` characters, cheaply (a few C-level
    scans, ~10 ms for `MAX_TEXT_CHARS`), at the last sentence end in each window, else the last
    clause break in its second half, else the last blank, else anywhere.

    For an engine that wants to count its parts up front (progress shows "part i of n") but
    split each part finely only when it comes to it. Raises `TextTooLongError` before any work.
    """
    check_length(text)
    text = clean(text)
    out: list[Unit] = []
    pos, length = 0, len(text)
    while pos < length:
        if length - pos <= size:
            end, after, continues, glued = length, length, False, False
        else:
            low, high = pos + size // 2, pos + size
            # The most whole sentences that fit (as pieces were packed before), else a clause.
            if (last := _last_match(_SENTENCE_END, text, pos + 1, high + 1)) is not None:
                end, after, continues, glued = last.end(), last.end(), False, False
            elif clause := _last_match(_CLAUSE_END, text, low, high + 1):
                end, after, continues, glued = clause.start(), clause.end(), True, False
            elif (blank := _last_blank(text, pos + 1, high + 1)) > pos:
                end, after, continues, glued = blank, blank + 1, True, False
            else:
                end = after = _safe_cut(text, high, pos)
                continues, glued = True, True
        if block := text[pos:end].strip():
            out.append(Unit(block, continues, glued))
        pos = after
    return out


def units_text(units: Sequence[Unit]) -> str:
    """The units joined back into one text (a space between them unless `glued`)."""
    parts: list[str] = []
    for i, unit in enumerate(units):
        if i and not units[i - 1].glued:
            parts.append(" ")
        parts.append(unit.text)
    return "".join(parts)


def split_text(
    text: str, first_limit: int = FIRST_PIECE_CHARS, limit: int = PIECE_CHARS
) -> list[Piece]:
    """Sentence-aligned pieces in order; an empty list for empty or whitespace-only text.

    Raises `TextTooLongError` before any work for text over `MAX_TEXT_CHARS`. Linear and cheap
    (C-level scans, one Python step a block), since every piece is needed up front for its
    neighbours.
    """
    texts: list[str] = []
    for i, block in enumerate(blocks(text, limit)):
        if i == 0:
            texts.extend(unit.text for unit in iter_units(block.text, (first_limit, limit)))
        elif part := normalise(block.text):
            texts.append(part)
    return [
        Piece(
            text=t,
            previous_text=texts[i - 1][-limit:] if i > 0 else None,
            next_text=texts[i + 1][:limit] if i + 1 < len(texts) else None,
        )
        for i, t in enumerate(texts)
    ]
