"""The process-wide API slots and the cancellable wait for one."""

from __future__ import annotations

import threading

import pytest

from voicedesk.cancel import CancelToken
from voicedesk.errors import Cancelled
from voicedesk.limits import API_SLOTS, MAX_CONCURRENT_API_CALLS, api_slot, wait_or_cancel


def test_one_semaphore_of_three_for_the_whole_process() -> None:
    from voicedesk import limits

    assert MAX_CONCURRENT_API_CALLS == 3
    assert limits.API_SLOTS is API_SLOTS
    assert API_SLOTS.available() == 3


def test_a_slot_is_released_even_when_the_body_raises() -> None:
    with pytest.raises(RuntimeError), api_slot():
        assert API_SLOTS.available() == 2
        raise RuntimeError("boom")
    assert API_SLOTS.available() == 3


def test_a_cancelled_waiter_gives_up_at_once_without_taking_a_slot() -> None:
    API_SLOTS.acquire(3)
    try:
        cancel = threading.Event()
        outcome: list[str] = []

        def wait() -> None:
            try:
                with api_slot(cancel):
                    outcome.append("got a slot")
            except Cancelled:
                outcome.append("cancelled")

        waiter = threading.Thread(target=wait)
        waiter.start()
        cancel.set()
        waiter.join(2)
        assert outcome == ["cancelled"]
    finally:
        API_SLOTS.release(3)
    assert API_SLOTS.available() == 3


def test_an_already_cancelled_request_never_takes_a_slot() -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled), api_slot(cancel):
        pass
    assert API_SLOTS.available() == 3


def test_the_wait_between_retries_ends_when_cancelled() -> None:
    cancel = CancelToken()
    threading.Timer(0.01, cancel.set).start()
    with pytest.raises(Cancelled):
        wait_or_cancel(30, cancel)


def test_cancel_token_runs_callbacks_once_and_at_once_when_already_set() -> None:
    token = CancelToken()
    calls: list[str] = []
    forget = token.on_cancel(lambda: calls.append("a"))
    token.on_cancel(lambda: calls.append("b"))
    forget()
    token.set()
    token.set()
    token.on_cancel(lambda: calls.append("c"))
    assert calls == ["b", "c"]
