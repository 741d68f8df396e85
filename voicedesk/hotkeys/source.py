"""The interface every system-wide key source implements."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class HotkeySource(QObject):
    """A system-wide key: `down`/`up` for the key, `failed(reason)` when it can't work.

    Signals may be emitted from another thread; receivers live on the GUI thread, so the
    connections are queued. `start()` may finish later (the portal asks the desktop):
    `ready(description)` says it works, `failed(reason)` says it doesn't.
    """

    down = Signal()
    up = Signal()
    ready = Signal(str)
    failed = Signal(str)

    kind = "none"

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError
