"""Splitting long text into sentence-aligned requests."""

from __future__ import annotations

import itertools

from voicedesk.text import FIRST_PIECE_CHARS, PIECE_CHARS, split_text


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
