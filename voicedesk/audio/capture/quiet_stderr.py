"""Keeping C libraries from scribbling on the terminal while PortAudio enumerates devices.

When PortAudio initialises it probes every ALSA PCM and tries to reach a JACK server; libasound
and libjack print a line to file descriptor 2 for each one that isn't there ("ALSA lib
pcm.c:2666 Unknown PCM cards.pcm.surround51", "jack server is not running"). None of it is
an error of ours, and a user of `voicedesk listen` should not see it. Python's own `sys.stderr`
can't catch it (it is written below Python), so fd 2 itself points at /dev/null for the
duration of the probe. Our own errors are reported after it, through Python, as usual.
"""

from __future__ import annotations

import atexit
import contextlib
import faulthandler
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

STDERR_FD = 2


@contextmanager
def quiet_native_stderr() -> Iterator[None]:
    try:
        sys.stderr.flush()
        saved = os.dup(STDERR_FD)
    except (OSError, ValueError, AttributeError):  # no fd 2 at all (a GUI launch on Windows)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, STDERR_FD)
        yield
    finally:
        os.dup2(saved, STDERR_FD)
        os.close(saved)
        os.close(devnull)


# What PortAudio's ALSA layer (its PA_ENSURE/PA_DEBUG macros) and ALSA and JACK themselves
# print on fd 2, from their own threads, when a device or the sound server goes away while a
# stream is open ("Expression 'alsa_snd_pcm_poll_descriptors_revents(...)' failed in
# 'src/hostapi/alsa/pa_linux_alsa.c', line: 3665"): dozens a minute, none of them ours.
NATIVE_NOISE = (
    b"Expression '",
    b"ALSA lib ",
    b"PaAlsaStream",
    b"jack server is not running",
    b"Cannot connect to server",
    b"JackShmReadWritePtr",
)


class NativeStderrFilter:
    """fd 2 through a pipe for the life of the process: a reader thread drops the lines that
    native audio libraries print from their own threads and passes everything else on (our
    own messages, Python tracebacks) unchanged.

    Opening and closing a stream can be wrapped in `quiet_native_stderr`; a stream that fails
    while open prints from PortAudio's thread at any moment, which only a filter catches.
    `close()` (also run at exit) puts fd 2 back and forwards what is still in the pipe.
    """

    def __init__(self) -> None:
        sys.stderr.flush()
        self._saved = os.dup(STDERR_FD)
        read_end, write_end = os.pipe()
        os.dup2(write_end, STDERR_FD)
        os.close(write_end)
        self._read_end = read_end
        self._closed = False
        self._reader = threading.Thread(target=self._pump, name="stderr-filter", daemon=True)
        self._reader.start()
        if faulthandler.is_enabled():  # a crash report must not sit in a pipe nobody reads
            faulthandler.enable(file=self._saved, all_threads=True)
        atexit.register(self.close)

    def _pump(self) -> None:
        pending = b""
        while chunk := os.read(self._read_end, 65536):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            self._forward([line + b"\n" for line in lines])
        if pending:
            self._forward([pending])
        os.close(self._read_end)

    def _forward(self, lines: list[bytes]) -> None:
        kept = b"".join(line for line in lines if not line.lstrip().startswith(NATIVE_NOISE))
        if kept:
            with contextlib.suppress(OSError):
                os.write(self._saved, kept)

    def close(self, timeout: float = 2.0) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stderr.flush()
        os.dup2(self._saved, STDERR_FD)  # the pipe's last writer goes: the reader sees its end
        self._reader.join(timeout)


_filter: NativeStderrFilter | None = None


def filter_native_stderr() -> None:
    """Install the process-wide filter (once; a no-op where fd 2 can't be redirected)."""
    global _filter
    if _filter is not None:
        return
    try:
        os.fstat(STDERR_FD)
    except OSError:
        return
    _filter = NativeStderrFilter()
