"""Splitting long text into sentence-aligned requests."""

from __future__ import annotations

import itertools
import re
import time
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicedesk.errors import TextTooLongError
from voicedesk.text import (
    FIRST_PIECE_CHARS,
    LOCAL_UNIT_CHARS,
    MAX_TEXT_CHARS,
    PIECE_CHARS,
    blocks,
    clean,
    iter_units,
    split_text,
    units_text,
)

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def test_empty_and_blank_text_give_no_pieces() -> None:
    assert split_text("") == []
    assert split_text(" \n\t  \n") == []


def test_short_text_is_one_piece_without_neighbours() -> None:
    (piece,) = split_text("  Hello,   world.  ")
    assert piece.text == "Hello, world."
    assert piece.previous_text is None and piece.next_text is None


def test_long_text_splits_at_sentence_ends_in_order_losing_nothing() -> None:
    sentences = [f"This is sentence number {i}, which says a little." for i in range(400)]
    text = " ".join(sentences)
    pieces = split_text(text)
    assert len(pieces) > 2
    assert len(pieces[0].text) <= FIRST_PIECE_CHARS  # the first audio comes fast
    assert all(len(p.text) <= PIECE_CHARS for p in pieces)
    assert all(p.text.endswith(".") for p in pieces)  # never mid-sentence
    assert " ".join(p.text for p in pieces) == text
    for before, after in itertools.pairwise(pieces):
        assert after.previous_text is not None and before.text.endswith(after.previous_text)
        assert before.next_text is not None and after.text.startswith(before.next_text)


def test_a_sentence_longer_than_a_piece_is_cut_at_clauses_then_spaces() -> None:
    words = " ".join(["word"] * 2000) + "."
    pieces = split_text(words, first_limit=100, limit=300)
    assert len(pieces[0].text) <= 100
    assert all(len(p.text) <= 300 for p in pieces)
    assert " ".join(p.text for p in pieces) == words


def test_unbroken_text_is_still_cut_to_size() -> None:
    blob = "x" * 5000
    pieces = split_text(blob, first_limit=100, limit=1000)
    assert "".join(p.text for p in pieces) == blob
    assert max(len(p.text) for p in pieces) <= 1000


def test_paragraph_breaks_are_sentence_boundaries() -> None:
    pieces = split_text("Title without a stop\n\nBody text here.", first_limit=20, limit=40)
    assert [p.text for p in pieces] == ["Title without a stop", "Body text here."]


# --- bounded units for any text (both engines) ------------------------------------------------

ANY_TEXT = st.text(
    alphabet=st.characters(codec=None, exclude_categories=()),  # every category, surrogates too
    max_size=3000,
)
SHAPED_TEXT = st.lists(
    st.one_of(
        st.sampled_from(["word", "longer", "a", "🙂", "👨\u200d👩\u200d👧", "日本語", "мир", "★"]),
        st.sampled_from([" ", "  ", ", ", ". ", "! ", "\n", "\n\n", "\t", "\x00", "\x1b[31m"]),
        st.text(alphabet="xyz", min_size=50, max_size=400),  # runs with no spaces
    ),
    max_size=200,
).map("".join)


def _words(text: str) -> list[str]:
    return clean(text).split()


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(ANY_TEXT, SHAPED_TEXT), first=st.integers(5, 60), rest=st.integers(8, 300))
def test_every_unit_is_within_its_bound_and_the_words_survive(
    text: str, first: int, rest: int
) -> None:
    limits = (first, rest)
    units = list(iter_units(text, limits))
    for i, unit in enumerate(units):
        assert 0 < len(unit.text) <= limits[min(i, 1)]
        assert unit.text == unit.text.strip()
        assert not CONTROL.search(unit.text)  # no control characters reach a voice
        unit.text.encode("utf-8")  # no lone surrogates either
    assert units_text(units).split() == _words(text)


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(ANY_TEXT, SHAPED_TEXT), size=st.integers(20, 500))
def test_blocks_are_bounded_and_keep_the_words(text: str, size: int) -> None:
    parts = blocks(text, size)
    assert all(0 < len(block.text) <= size for block in parts)
    assert units_text(parts).split() == _words(text)


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(ANY_TEXT, SHAPED_TEXT))
def test_split_text_pieces_are_bounded_and_keep_the_words(text: str) -> None:
    pieces = split_text(text, first_limit=40, limit=200)
    assert all(0 < len(p.text) <= (40 if i == 0 else 200) for i, p in enumerate(pieces))
    joined = " ".join(p.text for p in pieces).split()
    # Hard cuts inside a run with no spaces split a word in two: compare the letters.
    assert "".join(joined) == "".join(_words(text))


def test_control_characters_become_blanks_and_escapes_go() -> None:
    text = "one\x00two\x07three\r\nfour\x1b[1;31mred\x1b[0m\u202efive\ufeff\udcff"
    assert clean(text) == "one two three\nfour red five\ufffd"


def test_a_long_first_sentence_starts_with_a_few_words() -> None:
    units = list(iter_units("The quick brown fox jumps over the lazy dog.", LOCAL_UNIT_CHARS))
    assert [u.text for u in units] == ["The quick brown fox", "jumps over the lazy dog."]
    assert units[0].continues and not units[1].continues


def test_a_first_clause_is_preferred_to_a_word_cut() -> None:
    units = list(iter_units("Hello there, how are you today?", LOCAL_UNIT_CHARS))
    assert [u.text for u in units] == ["Hello there,", "how are you today?"]


def test_a_cut_prefers_the_start_of_a_phrase() -> None:
    text = "She walked slowly along the river bank in the pale light of the early morning sun"
    first = next(iter_units(text, (40, 200)))
    assert first.text == "She walked slowly along the river bank"  # before "in the pale…"


def test_a_run_with_no_spaces_is_cut_anywhere_and_glued_back() -> None:
    run = "x" * 1000
    units = list(iter_units(run, (24, 160)))
    assert [len(u.text) for u in units[:2]] == [24, 160]
    assert all(u.glued and u.continues for u in units[:-1])
    assert units_text(units) == run


def test_a_hard_cut_keeps_an_accented_letter_whole() -> None:
    run = "e\u0301" * 30  # é as e + combining acute
    first = next(iter_units(run, (5, 10)))
    assert not unicodedata.combining(first.text[-1]) or first.text[-2] == "e"
    assert not unicodedata.combining(run[len(first.text)])


def test_the_largest_text_is_accepted_and_one_more_character_is_not() -> None:
    assert len(blocks("a " * (MAX_TEXT_CHARS // 2))) > 0
    with pytest.raises(TextTooLongError) as raised:
        iter_units("a" * (MAX_TEXT_CHARS + 1), LOCAL_UNIT_CHARS)  # at the call, before any work
    assert raised.value.size == MAX_TEXT_CHARS + 1 and raised.value.limit == MAX_TEXT_CHARS
    assert "1,000,001 characters" in raised.value.message and "1,000,000" in raised.value.message
    with pytest.raises(TextTooLongError):
        split_text("a" * (MAX_TEXT_CHARS + 1))


def test_splitting_the_largest_text_is_linear() -> None:
    # One 1,000,000-character sentence with no punctuation (the worst shape): blocks for the
    # whole of it, and the first unit of the first block, without quadratic copying. A loose
    # bound: it takes ~20 ms on an idle core; quadratic slicing took seconds.
    text = "word " * (MAX_TEXT_CHARS // 5)
    started = time.monotonic()
    first_block = blocks(text)[0]
    next(iter_units(first_block.text, LOCAL_UNIT_CHARS))
    assert time.monotonic() - started < 5.0
