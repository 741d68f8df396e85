"""What a long or rough session must not leak, and a detector for a frozen window.

`Vitals.now()` reads the process's resident memory, open file descriptors and threads (as
Python sees them and as the kernel does: QThreads that never ran Python code are only in
/proc/self/task). `Heartbeat` ticks a QTimer on the GUI thread and keeps the longest gap
between ticks: a GUI thread blocked by anything shows up as a long gap.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Slot
from pytestqt.exceptions import TimeoutError as WaitTimedOut

from voicedesk.workers import threads as worker_threads

HEARTBEAT_MS = 20
# Threads of the test's own servers (the ElevenLabs emulator: one per open connection), not
# the app's: left out of the counts.
NOT_THE_APP = ("elevenlabs-emulator", "process_request_thread")


def rss_bytes() -> int:
    """Resident memory now (not the peak): the VmRSS line of /proc/self/status."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _sockets_on(ports: tuple[int, ...]) -> set[str]:
    """Inodes of TCP sockets with either end on one of `ports` (the test's own servers)."""
    inodes: set[str] = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            with open(table) as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    local, remote = (int(a.rsplit(":", 1)[1], 16) for a in fields[1:3])
                    if local in ports or remote in ports:
                        inodes.add(fields[9])
        except FileNotFoundError:
            continue
    return inodes


def _fd_targets() -> list[str]:
    targets = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            targets.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
    return sorted(targets)


def _fds(ignore_ports: tuple[int, ...]) -> int:
    skip = {f"socket:[{inode}]" for inode in _sockets_on(ignore_ports)} if ignore_ports else set()
    return sum(1 for target in _fd_targets() if target not in skip)


def _task_names() -> list[str]:
    names = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/comm") as comm:
                names.append(comm.read().strip())
        except OSError:
            continue  # ended meanwhile
    return names


@dataclass(frozen=True)
class Vitals:
    rss: int
    fds: int  # open descriptors, less one per pool thread (its own wake-up eventfd)
    threads: int  # threading.enumerate(), the test's servers left out
    tasks: int  # kernel threads (/proc/self/task), the shared pool's left out
    pool_busy: int  # pool threads running a task
    fd_targets: tuple[str, ...] = field(default=(), compare=False, repr=False)  # for reports

    @classmethod
    def now(cls, collect: bool = True, ignore_ports: tuple[int, ...] = ()) -> Vitals:
        """Call on the GUI thread: the collection then frees QObjects where they live.

        Sockets to or from `ignore_ports` are not counted: keep-alive connections to the test's
        emulator come and go with its pool (bounded by httpx), and its handler threads hold
        the other ends."""
        if collect:
            gc.collect()
        ours = [t for t in threading.enumerate() if not any(n in t.name for n in NOT_THE_APP)]
        theirs = threading.active_count() - len(ours)
        # An idle pool thread lingers for the pool's expiry time (Qt's default: 30 s) after a
        # burst: not a leak. A pool thread still running a task is one. Each pool thread, idle
        # or not, holds one descriptor of its own: its event dispatcher's wake-up eventfd (Qt 6
        # gives every QThread a dispatcher when it starts); those go with the thread.
        names = _task_names()
        tasks = [n for n in names if n != worker_threads.POOL_NAME]
        pool_threads = len(names) - len(tasks)
        return cls(
            rss=rss_bytes(),
            fds=_fds(ignore_ports) - pool_threads,
            fd_targets=tuple(_fd_targets()),
            threads=len(ours),
            tasks=len(tasks) - theirs,
            pool_busy=worker_threads.pool().activeThreadCount(),
        )

    def settled_to(self, baseline: Vitals) -> bool:
        """No more descriptors or threads than `baseline` had."""
        return (
            self.fds <= baseline.fds
            and self.threads <= baseline.threads
            and self.tasks <= baseline.tasks
            and self.pool_busy <= baseline.pool_busy
        )

    def describe(self) -> str:
        return (
            f"RSS {self.rss / 2**20:.1f} MiB, {self.fds} fds, "
            f"{self.threads} Python threads, {self.tasks} tasks, {self.pool_busy} pool tasks"
        )


def wait_settled(qtbot, baseline: Vitals, ignore_ports: tuple[int, ...], timeout_ms: int) -> None:  # type: ignore[no-untyped-def]
    """Until descriptors and threads are back to `baseline` (they end a moment after the last
    signal); on timeout, says what is left over and which threads are alive."""
    try:
        qtbot.waitUntil(
            lambda: Vitals.now(ignore_ports=ignore_ports).settled_to(baseline), timeout=timeout_ms
        )
    except WaitTimedOut:
        now = Vitals.now(ignore_ports=ignore_ports)
        alive = sorted(t.name for t in threading.enumerate())
        raise AssertionError(
            f"not settled after {timeout_ms} ms: before {baseline.describe()}; now "
            f"{now.describe()}; Python threads {alive}; tasks {sorted(_task_names())}; "
            f"descriptors opened since: {_opened_since(baseline, now)}"
        ) from None


def _opened_since(baseline: Vitals, now: Vitals) -> list[str]:
    """Descriptors `now` has beyond `baseline`'s, counted: many share a name (every eventfd is
    "anon_inode:[eventfd]"), so a set difference would hide them."""
    extra = Counter(now.fd_targets) - Counter(baseline.fd_targets)
    return sorted(f"{target} x{count}" for target, count in extra.items())


def _runqueue_wait() -> float:
    """Seconds this thread has spent runnable but waiting for a CPU (the kernel's schedstat)."""
    try:
        with open("/proc/thread-self/schedstat") as stat:
            return int(stat.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0  # no schedstats: gaps then count whole


class Heartbeat(QObject):
    """Ticks every HEARTBEAT_MS on the GUI thread; `worst` is the longest gap seen (seconds).

    `worst_own` leaves out the time the GUI thread was ready to run but the machine gave it
    no CPU (other processes' load, read from /proc/thread-self/schedstat): what remains is
    work or waiting the app itself did, which is what a frozen window is made of. On a busy
    shared machine `worst` says more about the machine than about the app.

    A watcher thread looks at the GUI thread's stack while a gap is long (over `STUCK` s), so
    a failed freeze check can say where it was stuck (`stuck_in`)."""

    STUCK = 0.5

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worst = 0.0
        self.worst_own = 0.0
        self.worst_at = 0.0  # monotonic time the longest gap ended
        self._last = 0.0
        self._last_wait = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(HEARTBEAT_MS)
        self._timer.timeout.connect(self._tick)
        self.stuck_in = ""
        self._gui = threading.get_ident()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        self.worst = self.worst_own = 0.0
        self.stuck_in = ""
        self._last = time.monotonic()
        self._last_wait = _runqueue_wait()
        self._timer.start()
        self._stop.clear()
        self._watcher = threading.Thread(target=self._watch, name="heartbeat-watch", daemon=True)
        self._watcher.start()

    def stop(self) -> float:
        self._tick()
        self._timer.stop()
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(5)
        return self.worst

    def _watch(self) -> None:
        longest = 0.0
        while not self._stop.wait(self.STUCK / 5):
            gap = time.monotonic() - self._last
            if gap > max(self.STUCK, longest):
                longest = gap
                frame = sys._current_frames().get(self._gui)
                stack = traceback.format_stack(frame)[-8:] if frame else []
                self.stuck_in = f"after {gap:.2f} s:\n" + "".join(stack)

    @Slot()
    def _tick(self) -> None:
        now, waited = time.monotonic(), _runqueue_wait()
        gap = now - self._last
        if gap > self.worst:
            self.worst = gap
            self.worst_at = now
        self.worst_own = max(self.worst_own, gap - (waited - self._last_wait))
        self._last, self._last_wait = now, waited
