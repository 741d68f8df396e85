"""The fault matrix: what the emulator does wrong, and what the user should read then.

One table for the CLI (`say`, `listen`) and the window, so both are held to the same answers.
`tts`/`stt` are the faults for every request of that kind; `tts_says`/`stt_says` a piece of
the one line the user must see (None: the request must succeed despite the fault). Timeouts are
short (`READ_TIMEOUT`), so the whole matrix runs in seconds, not minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.emulator import Fault

# Seconds without a byte before a request counts as stalled, for these tests (15 by default).
READ_TIMEOUT = 1.0

HTML = b"<!doctype html><html><body><h1>Sign in to continue</h1></body></html>"


@dataclass(frozen=True)
class Case:
    name: str
    tts: Fault | None
    tts_says: str | None
    stt: Fault | None
    stt_says: str | None


CASES = (
    Case(
        "429 storm",
        Fault.too_many_concurrent(),
        "busy",
        Fault.too_many_concurrent(),
        "busy",
    ),
    Case(
        "reset before the first byte",
        Fault.connection_reset(),
        "Could not reach",
        Fault.connection_reset(),
        "Could not reach",
    ),
    Case(
        "reset after the first byte",
        Fault.cut(after=3000),
        "connection dropped",
        Fault.cut(after=40),
        "Could not reach",
    ),
    Case(
        "slow first byte, in time",
        Fault.slow(ttfb=READ_TIMEOUT / 2),
        None,
        Fault.slow(ttfb=READ_TIMEOUT / 2),
        None,
    ),
    Case(
        "first byte later than the read timeout",
        Fault.slow(ttfb=READ_TIMEOUT * 1.5),
        "did not answer in time",
        Fault.slow(ttfb=READ_TIMEOUT * 1.5),
        "did not answer in time",
    ),
    Case(
        "stall mid-stream",
        Fault.stall(after=3000),
        "connection dropped",
        Fault.stall(after=40),
        "did not answer in time",
    ),
    Case("401", Fault.invalid_key(), "API key was rejected", Fault.invalid_key(), "API key"),
    Case("quota exhausted", Fault.quota_exceeded(), "quota", Fault.quota_exceeded(), "quota"),
    Case("500", Fault.server_error(), "server error (500)", Fault.server_error(), "(500)"),
    Case(
        "200 with JSON",
        Fault.answer(b'{"status": "ok"}', "application/json"),
        "application/json instead of audio",
        Fault.answer(b'{"transcript": 7}', "application/json"),
        "could not be read",
    ),
    Case(
        "200 with an HTML page",
        Fault.answer(HTML, "text/html; charset=utf-8"),
        "text/html instead of audio",
        Fault.answer(HTML, "text/html; charset=utf-8"),
        "not the expected JSON",
    ),
    Case(
        "200 labelled audio that is not",
        Fault.answer(b'{"status": "ok"}' * 40, "audio/mpeg"),
        "nothing that could be played",
        Fault.answer(b"", "application/json"),
        "not the expected JSON",
    ),
    Case(
        "truncated MP3 (a fragment)",
        Fault.truncated(to=40),
        "nothing that could be played",
        Fault.truncated(to=20),
        "not the expected JSON",
    ),
    Case("truncated MP3 (half of it)", Fault.truncated(to=6000), None, None, None),
)


def params(kind: str) -> list[object]:
    """`pytest.param`s for the cases that have a fault of `kind` ("tts" or "stt")."""
    return [pytest.param(c, id=c.name) for c in CASES if getattr(c, kind) is not None]
