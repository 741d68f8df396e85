"""Counting the process's own threads, for "no thread left running" checks.

The OS's list (/proc/self/task) sees every thread, Qt's and PortAudio's included, which
`threading.enumerate()` does not (and on Python 3.11 it keeps foreign threads that ran Python
code listed forever). The in-process emulator's own threads come and go with connections, so
they are left out.
"""

from __future__ import annotations

import os
import threading


def _emulator_thread_ids() -> set[int]:
    ids = set()
    for thread in threading.enumerate():
        name = thread.name
        if thread.native_id and (name == "elevenlabs-emulator" or "process_request_thread" in name):
            ids.add(thread.native_id)
    return ids


def app_threads() -> int:
    """Threads of this process, the in-process emulator's aside."""
    tasks = {int(t) for t in os.listdir("/proc/self/task")}
    return len(tasks - _emulator_thread_ids())
