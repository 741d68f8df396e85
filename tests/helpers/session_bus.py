"""A private D-Bus session bus (`dbus-daemon --session`) for tests of desktop services."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers.processes import LineProcess


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


@contextmanager
def fake_portal() -> Iterator[LineProcess]:
    """tests/helpers/fake_portal.py running on the session bus of this process's environment,
    ready for commands; ended afterwards."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    fake = LineProcess([sys.executable, "-m", "tests.helpers.fake_portal"], env)
    try:
        fake.expect("ready")
        yield fake
    finally:
        fake.close()
