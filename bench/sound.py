"""The benchmarks' own sound server: a private PulseAudio with null sinks, as the tests use."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from tests.helpers.pulse import PulseServer


@contextmanager
def private_sound_server() -> Iterator[PulseServer]:
    """Started before anything imports Qt Multimedia or sounddevice: both read the server's
    address once, so they must only ever see this one."""
    pulse = PulseServer()
    pulse.start()
    os.environ.update(pulse.env)
    try:
        yield pulse
    finally:
        pulse.stop()
