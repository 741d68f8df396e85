"""The one thread mechanism (workers/threads.py) and the sound-server guard's pure parts."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, Signal, Slot

from voicedesk.audio.playback import pulse_guard, qt_messages
from voicedesk.cancel import CancelToken
from voicedesk.limits import API_SLOTS, MAX_CONCURRENT_API_CALLS, api_slot
from voicedesk.workers.background import Background
from voicedesk.workers.threads import POOL_THREADS, Poster, TaskGroup, WorkerThread, pool


@pytest.fixture(autouse=True)
def collect_on_the_gui_thread() -> Iterator[None]:
    """Automatic collection could free Qt objects (pytest-qt's timers) on a pool thread, as
    the app's GuiThreadCollector prevents: collect here instead."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()
    gc.collect()


def test_posted_calls_run_on_the_gui_thread_in_order(qtbot: Any) -> None:
    poster = Poster()
    ran: list[tuple[int, str]] = []
    done = threading.Event()

    def record(n: int) -> None:
        ran.append((n, threading.current_thread().name))
        if n == 9:
            done.set()

    def work() -> None:
        for n in range(10):
            poster.post(record, n)

    group = TaskGroup("test")
    group.start(work)
    qtbot.waitUntil(done.is_set, timeout=5000)
    assert [n for n, _ in ran] == list(range(10))
    assert {name for _, name in ran} == {threading.main_thread().name}
    assert group.wait(5000)
    assert group.busy == 0


def test_a_group_waits_for_its_own_tasks_with_a_bound() -> None:
    release = threading.Event()
    group = TaskGroup("test")
    group.start(lambda: release.wait(10) and None)
    assert not group.wait(50)  # still running: the wait gives up, it does not hang
    release.set()
    assert group.wait(5000)


def test_an_exception_in_a_task_is_logged_and_the_group_still_empties(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def boom() -> None:
        raise RuntimeError("bug")

    group = TaskGroup("test")
    group.start(boom)
    assert group.wait(5000)
    assert "a task failed" in caplog.text


def test_waiters_on_api_slots_leave_the_pool_room_for_more_work(qtbot: Any) -> None:
    """Every slot held and more requests waiting: a cancelled waiter hands its thread back
    and other work still gets a thread."""
    held = [threading.Event() for _ in range(MAX_CONCURRENT_API_CALLS)]
    release = threading.Event()
    holders = TaskGroup("holders")

    def hold(entered: threading.Event) -> None:
        with api_slot():
            entered.set()
            release.wait(10)

    for entered in held:
        holders.start(lambda entered=entered: hold(entered))
    for entered in held:
        assert entered.wait(5)
    cancels = [CancelToken() for _ in range(4)]
    waiters = TaskGroup("waiters")
    for cancel in cancels:
        waiters.start(lambda cancel=cancel: _wait_for_slot(cancel))
    other = threading.Event()
    TaskGroup("other").start(other.set)
    assert other.wait(5)  # 3 holders + 4 waiters leave threads free
    assert pool().maxThreadCount() == POOL_THREADS
    for cancel in cancels:
        cancel.set()
    assert waiters.wait(2000)  # cancelled waiters return at once
    release.set()
    assert holders.wait(5000)
    assert API_SLOTS.available() == MAX_CONCURRENT_API_CALLS


def _wait_for_slot(cancel: CancelToken) -> None:
    try:
        with api_slot(cancel):
            pass
    except Exception:
        pass


class _Echo(QObject):
    asked = Signal(str)
    answered = Signal(str, str)

    def __init__(self) -> None:
        super().__init__()
        self.heard: list[tuple[str, str]] = []

    @Slot(str)
    def answer(self, text: str) -> None:
        self.answered.emit(text, threading.current_thread().name)

    @Slot(str, str)
    def hear(self, text: str, thread: str) -> None:
        self.heard.append((text, thread))


def test_a_worker_thread_runs_its_worker_and_drops_it_once_joined(qtbot: Any) -> None:
    echo = _Echo()
    thread = WorkerThread(echo, "echo")
    thread.start()
    caller = _Echo()  # on the GUI thread: the answer comes back here, queued
    caller.asked.connect(echo.answer)
    echo.answered.connect(caller.hear)
    caller.asked.emit("hi")
    qtbot.waitUntil(lambda: bool(caller.heard), timeout=5000)
    ((text, thread_name),) = caller.heard
    assert text == "hi" and thread_name != threading.main_thread().name
    del echo
    assert thread.worker is not None
    assert thread.stop(5000)
    assert thread.isFinished()
    assert thread.worker is None  # dropped here, on the GUI thread, after the join


def test_background_jobs_report_on_the_gui_thread_and_shut_down(qtbot: Any) -> None:
    background = Background()
    results: list[tuple[object, str]] = []
    background.run(lambda cancel: 42, lambda r: results.append((r, "ok")))
    background.run(lambda cancel: 1 / 0, None, lambda e: results.append((e.message, "error")))
    qtbot.waitUntil(lambda: len(results) == 2, timeout=5000)
    assert (42, "ok") in results
    assert ("Something went wrong (ZeroDivisionError).", "error") in results
    assert background.busy == 0
    stuck = background.run(lambda cancel: cancel.wait(10))
    assert background.busy == 1
    background.shutdown(5000)  # cancels it, then waits for it
    assert stuck.is_set() and background.busy == 0


def test_server_sockets_follow_libpulse(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PULSE_SERVER", f"{{abc}}unix:{tmp_path}/a /b")
    assert pulse_guard.server_sockets() == [tmp_path / "a", Path("/b")]
    monkeypatch.setenv("PULSE_SERVER", "tcp:host:4713")
    assert pulse_guard.server_sockets() == []  # not probed: Qt's own state is trusted
    monkeypatch.delenv("PULSE_SERVER")
    monkeypatch.setenv("PULSE_RUNTIME_PATH", str(tmp_path))
    assert pulse_guard.server_sockets() == [tmp_path / "native"]


def test_the_probe_tells_a_live_server_from_a_gone_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pulse: Any
) -> None:
    assert pulse_guard.server_reachable()  # the session's server
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path}/gone")
    assert not pulse_guard.server_reachable()


def test_qt_audio_noise_is_recognised_and_other_messages_are_not() -> None:
    assert qt_messages.is_noise("default", "PulseAudioService: pa_context_connect() failed")
    assert qt_messages.is_noise("qt.multimedia.pulseaudio.output", "anything")
    assert not qt_messages.is_noise("default", "QWidget: something about a widget")
    assert not qt_messages.is_noise(None, "voicedesk: a line of ours")
