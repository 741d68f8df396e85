"""A bounded, thread-safe byte FIFO between the decoding thread and the audio thread."""

from __future__ import annotations

import threading
from collections import deque


class RingBuffer:
    """Bytes written by one thread, read by another; `write` waits while the buffer is full.

    Chunks are kept as written (no copying into one big array), so a read costs what it
    returns, however far ahead the writer is.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._chunks: deque[bytes] = deque()
        self._offset = 0  # bytes of _chunks[0] already read
        self._size = 0
        self._consumed = 0  # bytes read since the stream began
        self._eos = False
        self._generation = 0  # bumped by reset(), so a waiting writer knows it was cleared
        self._cond = threading.Condition()

    def write(self, data: bytes, cancel: threading.Event | None = None) -> bool:
        """Append `data`, waiting for room; False (nothing written) if cancelled or cleared."""
        if not data:
            return True
        with self._cond:
            generation = self._generation
            while self._size and self._size + len(data) > self.capacity:
                if cancel is not None and cancel.is_set():
                    return False
                # Short waits so a cancel that doesn't notify us is still seen promptly.
                self._cond.wait(0.05)
                if self._generation != generation:
                    return False
            self._chunks.append(data)
            self._size += len(data)
            return True

    def read(self, size: int) -> bytes:
        """Up to `size` bytes (fewer, or none, if that's all there is)."""
        with self._cond:
            out: list[bytes] = []
            want = size
            while want and self._chunks:
                head = self._chunks[0]
                piece = head[self._offset : self._offset + want]
                out.append(piece)
                want -= len(piece)
                self._offset += len(piece)
                if self._offset == len(head):
                    self._chunks.popleft()
                    self._offset = 0
            taken = size - want
            self._size -= taken
            self._consumed += taken
            if taken:
                self._cond.notify_all()
            return b"".join(out)

    @property
    def consumed(self) -> int:
        """Bytes read so far in this stream: where the reader (the audio device) has got to."""
        with self._cond:
            return self._consumed

    def end(self) -> None:
        """No more data is coming for this stream."""
        with self._cond:
            self._eos = True
            self._cond.notify_all()

    def drained(self) -> bool:
        """The stream has ended and every byte of it was read."""
        with self._cond:
            return self._eos and not self._size

    def reset(self) -> None:
        """Drop everything and start a new stream; a writer waiting for room gives up."""
        with self._cond:
            self._chunks.clear()
            self._offset = 0
            self._size = 0
            self._consumed = 0
            self._eos = False
            self._generation += 1
            self._cond.notify_all()
