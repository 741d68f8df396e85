"""Keeping C libraries from scribbling on the terminal while PortAudio enumerates devices.

When PortAudio initialises it probes every ALSA PCM and tries to reach a JACK server; libasound
and libjack print a line to file descriptor 2 for each one that isn't there ("ALSA lib
pcm.c:2666 Unknown PCM cards.pcm.surround51", "jack server is not running"). None of it is
an error of ours, and a user of `voicedesk listen` should not see it. Python's own `sys.stderr`
can't catch it (it is written below Python), so fd 2 itself points at /dev/null for the
duration of the probe. Our own errors are reported after it, through Python, as usual.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

STDERR_FD = 2


@contextmanager
def quiet_native_stderr() -> Iterator[None]:
    # JACK would otherwise try to start a server of its own on every probe.
    os.environ.setdefault("JACK_NO_START_SERVER", "1")
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
