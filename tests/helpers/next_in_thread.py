"""`next()` on a generator, on a thread of its own: for a test that stops it from outside."""

from __future__ import annotations

import threading
from collections.abc import Iterator


class NextInThread:
    """Starts `next(chunks)` on its own thread; `join()` says what it raised (None: nothing)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._raised: list[BaseException] = []
        self._thread = threading.Thread(target=self._next, args=(chunks,))
        self._thread.start()

    def _next(self, chunks: Iterator[bytes]) -> None:
        try:
            next(chunks)
        except BaseException as error:
            self._raised.append(error)

    def join(self) -> BaseException | None:
        self._thread.join(30)
        assert not self._thread.is_alive(), "next() did not end within 30 s"
        return self._raised[0] if self._raised else None
