"""The soak: many utterances back to back in one window, and what the process holds after.

Shared by the short version in the suite (tests/test_soak.py) and the full one in
`make bench` (bench/soak.py). The window is whatever the caller made (the emulator or the
offline engine behind it); `wait_until(condition, seconds)` runs the Qt event loop until the
condition holds (qtbot.waitUntil in a test, bench.tts.wait_until in the bench).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from tests.helpers.vitals import Heartbeat, Vitals
from voicedesk import limits
from voicedesk.ui.main_window import MainWindow

WaitUntil = Callable[[Callable[[], bool], float], None]
TEXT = "Soak test, utterance {n}."
MB = 1_000_000


@dataclass(frozen=True)
class SoakResult:
    label: str
    utterances: int
    seconds: float
    before: Vitals
    after: Vitals
    worst_stall: float  # the longest GUI-thread gap, wall clock
    worst_own: float  # the same less the time the machine gave it no CPU (see Heartbeat)
    failed: int
    stuck_in: str = ""  # the GUI thread's stack during its longest stall, if over 0.5 s

    @property
    def rss_growth(self) -> int:
        return self.after.rss - self.before.rss

    def row(self) -> str:
        b, a = self.before, self.after
        return (
            f"| {self.label} | {self.utterances} | {self.seconds:.0f} s "
            f"| {b.rss / MB:.1f} → {a.rss / MB:.1f} MB ({self.rss_growth / MB:+.1f}) "
            f"| {b.fds} → {a.fds} | {b.threads} → {a.threads} | {b.tasks} → {a.tasks} "
            f"| {self.worst_own * 1000:.0f} ms ({self.worst_stall * 1000:.0f} ms) "
            f"| {self.failed} |"
        )


HEADER = (
    "| run | utterances | took | RSS after warm-up → after | fds | Python threads "
    "| kernel tasks | worst GUI stall, own (wall) | failed |\n"
    "| --- | ---: | ---: | --- | --- | --- | --- | ---: | ---: |"
)


def emulator_ports(window: MainWindow) -> tuple[int, ...]:
    """Connections to the emulator are the engine's keep-alive pool (its handler threads
    hold the other ends): left out of the counts."""
    port = urlsplit(window.settings.base_url or "").port if window.settings.base_url else None
    return (port,) if port else ()


def _settle(window: MainWindow, wait_until: WaitUntil) -> None:
    wait_until(lambda: not window.speaker.is_busy(), 120)
    wait_until(lambda: window.background.busy == window.budget.busy == 0, 30)
    wait_until(lambda: limits.API_SLOTS.available() == limits.MAX_CONCURRENT_API_CALLS, 10)


def _speak_all(window: MainWindow, count: int, wait_until: WaitUntil, timeout: float) -> int:
    """`count` utterances one after the other (the next asked for as the last ends); failures."""
    ended: list[int] = []
    failed: list[int] = []
    window.speaker.utterance_finished.connect(ended.append)  # type: ignore[attr-defined]
    window.speaker.utterance_failed.connect(failed.append)  # type: ignore[attr-defined]
    try:
        for n in range(count):
            done = len(ended) + len(failed)
            window.speak(TEXT.format(n=n))
            wait_until(lambda done=done: len(ended) + len(failed) > done, timeout)
    finally:
        window.speaker.utterance_finished.disconnect(ended.append)  # type: ignore[attr-defined]
        window.speaker.utterance_failed.disconnect(failed.append)  # type: ignore[attr-defined]
    return len(failed)


def soak(
    window: MainWindow,
    count: int,
    wait_until: WaitUntil,
    label: str,
    warm_up: int = 10,
    timeout: float = 30,
) -> SoakResult:
    """Warm up, measure, speak `count` utterances back to back, let everything end, measure."""
    ports = emulator_ports(window)
    _speak_all(window, warm_up, wait_until, timeout)
    _settle(window, wait_until)
    before = Vitals.now(ignore_ports=ports)  # gc.collect() here, on the GUI thread
    beat = Heartbeat()
    beat.start()
    started = time.monotonic()
    failed = _speak_all(window, count, wait_until, timeout)
    _settle(window, wait_until)
    seconds = time.monotonic() - started
    worst = beat.stop()
    after = Vitals.now(ignore_ports=ports)
    return SoakResult(
        label, count, seconds, before, after, worst, beat.worst_own, failed, beat.stuck_in
    )
