"""A private D-Bus session bus (`dbus-daemon --session`) for tests of desktop services."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def private_session_bus() -> Iterator[str]:
    """Start a session bus of our own; yields its address. Nothing reaches the user's bus."""
    if shutil.which("dbus-daemon") is None:
        import pytest

        pytest.skip("dbus-daemon is not installed")
    daemon = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={key: value for key, value in os.environ.items() if not key.startswith("DBUS_")},
    )
    try:
        assert daemon.stdout is not None
        address = daemon.stdout.readline().decode().strip()  # printed once it listens
        if not address:
            raise RuntimeError("dbus-daemon did not start")
        yield address
    finally:
        daemon.terminate()
        try:
            daemon.wait(15)
        except subprocess.TimeoutExpired:  # a loaded machine: don't leave it behind
            daemon.kill()
            daemon.wait(15)
