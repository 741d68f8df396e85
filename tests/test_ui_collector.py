"""The garbage collector runs on the GUI thread only, while the window is up."""

from __future__ import annotations

import gc
import threading

from voicedesk.workers.collector import GuiThreadCollector


class _Cycle:
    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        _freed_on.append(threading.current_thread().name)


_freed_on: list[str] = []


def test_cyclic_garbage_is_freed_on_the_gui_thread(qtbot) -> None:
    collector = GuiThreadCollector()
    try:
        assert not gc.isenabled()

        def make_garbage_elsewhere() -> None:
            for _ in range(5000):  # far past generation 0's threshold
                _Cycle()

        worker = threading.Thread(target=make_garbage_elsewhere, name="worker")
        worker.start()
        worker.join()
        assert _freed_on == []  # nothing collected on the worker
        qtbot.waitUntil(lambda: len(_freed_on) > 0, timeout=5000)
        assert set(_freed_on) == {threading.main_thread().name}
    finally:
        collector.stop()
    assert gc.isenabled()
