"""A cancel flag that can also act: `set()` runs registered callbacks at once.

Checking a flag between chunks is not enough to stop promptly: a thread blocked in a socket
read only looks at the flag when the next bytes arrive. A `CancelToken` lets the engine
register "shut this socket down", so Stop interrupts even a stalled read, and the API slot is
freed within milliseconds. Anything that accepts a plain `threading.Event` accepts this too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class CancelToken(threading.Event):
    def __init__(self) -> None:
        super().__init__()
        self._callbacks: list[Callable[[], None]] = []
        self._callbacks_lock = threading.Lock()

    def set(self) -> None:
        super().set()
        with self._callbacks_lock:
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run `callback` when cancelled (now, if already); returns a function that unregisters."""
        with self._callbacks_lock:
            if not self.is_set():
                self._callbacks.append(callback)
                return lambda: self._forget(callback)
        callback()
        return lambda: None

    def _forget(self, callback: Callable[[], None]) -> None:
        with self._callbacks_lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)


def on_cancel(cancel: threading.Event | None, callback: Callable[[], None]) -> Callable[[], None]:
    """`CancelToken.on_cancel` where the flag supports it; a no-op for a plain Event."""
    if isinstance(cancel, CancelToken):
        return cancel.on_cancel(callback)
    return lambda: None
